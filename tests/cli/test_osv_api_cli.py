"""``assay osv-api`` end to end: start-up errors in-process, serving as a real subprocess."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assay.advisories.importing import import_source
from assay.advisories.store import AdvisoryDatabase
from assay.cli.app import run

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "osv-api"
ASSAY = Path(sys.executable).with_name("assay")


@pytest.fixture
def small_db(tmp_path: Path) -> Path:
    path = tmp_path / "advisories.sqlite3"
    with AdvisoryDatabase.open_for_write(path) as database:
        assert import_source(database, ASSETS).counts.added == 4
    return path


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def _one_line_error(err: str) -> str:
    assert err.startswith("assay: error: ")
    assert err.count("\n") == 1
    return err


def test_missing_database_says_how_to_build_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing.sqlite3"
    assert run(["osv-api", "--db", str(missing), "--port", "0"]) == 4
    err = _one_line_error(capsys.readouterr().err)
    assert f"no advisory database at {missing}" in err
    assert "assay db import" in err


def test_database_from_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSAY_DB", str(tmp_path / "env.sqlite3"))
    assert run(["osv-api", "--port", "0"]) == 4
    assert str(tmp_path / "env.sqlite3") in capsys.readouterr().err


def test_port_taken_is_a_clear_error(
    small_db: Path, taken_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["osv-api", "--db", str(small_db), "--port", str(taken_port)]) == 2
    err = _one_line_error(capsys.readouterr().err)
    assert f"cannot listen on 127.0.0.1:{taken_port}: Address already in use" in err


def test_unresolvable_host(small_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["osv-api", "--db", str(small_db), "--host", "no such host", "--port", "0"]) == 2
    assert "--host 'no such host': cannot resolve it" in _one_line_error(capsys.readouterr().err)


@pytest.mark.parametrize("port", ["-1", "65536", "http"])
def test_bad_port_is_a_usage_error(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["osv-api", "--port", port]) == 2
    _one_line_error(capsys.readouterr().err)


def test_serves_prints_peer_command_lines_and_stops_on_ctrl_c(small_db: Path) -> None:
    proc = subprocess.Popen(
        [str(ASSAY), "osv-api", "--db", str(small_db), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        assert lines[0] == f"assay OSV API: 4 advisories from {small_db}\n"
        assert lines[1].startswith("listening on http://127.0.0.1:")
        base = lines[1].split()[2]
        assert lines[2] == f"  uv audit --no-index --service-url {base}\n"
        assert lines[3] == f"  pip-audit -s osv --osv-url {base}/v1/query\n"
        query = {"package": {"name": "Foo_Bar", "ecosystem": "PyPI"}, "version": "1.0"}
        response = httpx.post(f"{base}/v1/query", json=query, timeout=10)
        assert [v["id"] for v in response.json()["vulns"]] == ["TEST-2099-1"]
        assert httpx.get(f"{base}/v1/vulns/CVE-2099-0002", timeout=10).json()["id"] == "TEST-2099-2"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert err == "assay OSV API: stopped\n"
