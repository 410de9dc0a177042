"""``assay serve``: start-up errors in-process, serving as a real subprocess."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assay.cli.app import run

ASSAY = Path(sys.executable).with_name("assay")
UP = "http://upstream.invalid/simple/"


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSAY_HOME", str(tmp_path / "home"))
    for key in list(os.environ):
        if key.startswith("ASSAY_REGISTRY") or key == "ASSAY_INDEX_URL":
            monkeypatch.delenv(key)


def _one_line_error(err: str) -> str:
    assert err.startswith("assay: error: ")
    assert err.count("\n") == 1
    return err


def test_port_taken_is_exit_2(taken_port, capsys):
    assert run(["serve", "--upstream", UP, "--port", str(taken_port)]) == 2
    err = _one_line_error(capsys.readouterr().err)
    assert f"cannot listen on 127.0.0.1:{taken_port}" in err


def test_bad_config_names_file_and_line(tmp_path, capsys):
    config = tmp_path / "registry.toml"
    config.write_text("[server]\nport = 'eighty'\n")
    assert run(["serve", "--config", str(config), "--upstream", UP]) == 2
    err = _one_line_error(capsys.readouterr().err)
    assert f"{config}:2: server.port must be an integer" in err


def _wheel() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("demo/__init__.py", "VALUE = 1\n")
        archive.writestr("demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo\n")
    return buffer.getvalue()


def test_serves_a_file_upstream_and_stops_on_ctrl_c(tmp_path):
    data = _wheel()
    digest = hashlib.sha256(data).hexdigest()
    (tmp_path / "up" / "files").mkdir(parents=True)
    (tmp_path / "up" / "files" / "demo-1.0-py3-none-any.whl").write_bytes(data)
    (tmp_path / "up" / "simple" / "demo").mkdir(parents=True)
    (tmp_path / "up" / "simple" / "demo" / "index.html").write_text(
        f'<a href="../../files/demo-1.0-py3-none-any.whl#sha256={digest}">'
        "demo-1.0-py3-none-any.whl</a>"
    )
    upstream = (tmp_path / "up" / "simple").as_uri()
    env = {
        **os.environ,
        "ASSAY_REGISTRY_DIR": str(tmp_path / "state"),
        "ASSAY_POLICY": str(tmp_path / "no-policy.toml"),  # the starter policy: sandbox warns only
    }
    proc = subprocess.Popen(
        [str(ASSAY), "serve", "--port", "0", "--upstream", upstream, "--stage", "sandbox"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not (lines and lines[-1].startswith("listening on")):
            line = proc.stdout.readline()
            assert line, "the server stopped before listening"
            lines.append(line)
        lines += [proc.stdout.readline() for _ in range(2)]
        base = lines[-3].split()[2]
        assert lines[-3].startswith("listening on http://127.0.0.1:")
        assert f"assay registry: upstream {upstream}; state in {tmp_path / 'state'}\n" in lines
        assert f"  {base}/simple/  (stage sandbox, blocked files: hide)\n" in lines
        assert lines[-2] == f"  pip install --index-url {base}/simple/ PACKAGE\n"
        page = httpx.get(f"{base}/simple/demo/?format=json", timeout=30).json()
        file = httpx.get(f"{base}/simple/demo/{page['files'][0]['url']}", timeout=60)
        assert file.status_code == 200, file.text
        assert file.content == data
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert err.endswith("assay registry: stopped\n")
    assert (tmp_path / "state" / "files" / "sha256" / digest[:2] / digest[2:]).read_bytes() == data
