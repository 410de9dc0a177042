"""Shared set-up of the gate and promote CLI tests: a private assay home and a tiny index."""

from __future__ import annotations

import json
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from assay.cli.app import run
from tests.support import REPO

EXAMPLE_LOCK = REPO / "examples" / "churn-model" / "uv.lock"
GOLDEN = REPO / "tests" / "assets" / "gate" / "golden"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def private_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database: Path) -> Path:
    """Work in ``tmp_path`` with ASSAY_HOME=home (relative, so messages are stable)."""
    monkeypatch.chdir(tmp_path)
    for key in (
        "ASSAY_POLICY",
        "ASSAY_AUDIT_LOG",
        "ASSAY_SIGNING_KEY",
        "ASSAY_POPULAR_PACKAGES",
        "ASSAY_INDEX_URL",
        "SOURCE_DATE_EPOCH",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ASSAY_HOME", "home")
    monkeypatch.setenv("ASSAY_DB", str(database))
    shutil.copyfile(EXAMPLE_LOCK, tmp_path / "uv.lock")
    return tmp_path / "home"


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def invoke_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = invoke(capsys, *args, "--format", "json")
    assert out, err
    return code, json.loads(out)


def index_page(name: str, files: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    base = {"meta": {"api-version": "1.4"}, "name": name, "versions": [], "files": files}
    return {**base, **extra}


def wheel(name: str, version: str, uploaded: str, **extra: Any) -> dict[str, Any]:
    filename = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    entry = {"filename": filename, "url": filename, "hashes": {}, "upload-time": uploaded}
    return {**entry, **extra}


@contextmanager
def simple_index(pages: dict[str, dict[str, Any]]) -> Iterator[str]:
    """A PEP 691 JSON index on 127.0.0.1 serving ``pages`` (project name -> document)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.strip("/").removeprefix("simple/")
            page = pages.get(name)
            if page is None:
                self.send_response(404)
                self.end_headers()
                return
            body = json.dumps(page).encode()
            self.send_response(200)
            self.send_header("Content-Type", JSON_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
