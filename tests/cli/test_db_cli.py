"""``assay db import|sync|status`` end to end, through the real entry point."""

import http.server
import json
import socket
import sqlite3
import threading
import zipfile
from contextlib import closing
from pathlib import Path

import pytest

from assay.cli.app import run

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "advisories"


@pytest.fixture
def db(tmp_path, monkeypatch):
    for name in ("ASSAY_DB", "ASSAY_HOME", "ASSAY_OSV_EXPORT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "data" / "advisories.sqlite3"


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "all.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for record in sorted((ASSETS / "osv").glob("*.json")):
            archive.writestr(record.name, record.read_bytes())
    return path


def test_import_then_status(db, capsys):
    assert run(["db", "--db", str(db), "import", str(ASSETS / "osv")]) == 0
    out = capsys.readouterr().out
    assert "(osv-directory): 5 records: 5 added, 0 updated, 0 unchanged" in out
    assert f"{db}: 5 records, digest sha256:" in out
    assert db.is_file()  # the parent directory was created

    assert run(["db", "--db", str(db), "status"]) == 0
    out = capsys.readouterr().out
    assert "records    5 (1 withdrawn) for 4 packages" in out
    assert "newest     2024-07-11T17:21:37.216928Z" in out
    assert "problems   0" in out


def test_reimport_reports_unchanged(db, capsys):
    assert run(["db", "--db", str(db), "import", str(ASSETS / "osv")]) == 0
    capsys.readouterr()
    assert run(["db", "--db", str(db), "import", str(ASSETS / "osv")]) == 0
    assert "0 added, 0 updated, 5 unchanged" in capsys.readouterr().out


def test_problems_are_listed(db, capsys):
    assert run(["db", "--db", str(db), "import", str(ASSETS / "malformed")]) == 0
    captured = capsys.readouterr()
    assert "1 added" in captured.out
    assert "5 skipped" in captured.out
    assert "5 malformed records were skipped; list them with" in captured.err

    assert run(["db", "--db", str(db), "status"]) == 0
    assert "problems   5 (list them with --problems)" in capsys.readouterr().out

    assert run(["db", "--db", str(db), "status", "--problems"]) == 0
    out = capsys.readouterr().out
    assert "missing-id.json: record: missing 'id'" in out
    assert "bad-json.json:5: invalid JSON" in out


def test_status_json(db, capsys):
    run(["db", "--db", str(db), "import", str(ASSETS / "osv"), str(ASSETS / "malformed")])
    capsys.readouterr()
    assert run(["db", "--db", str(db), "status", "--json", "--problems"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["records"] == 5
    assert document["withdrawn"] == 1
    assert document["problem_count"] == 5
    assert document["digest"].startswith("sha256:")
    assert [s["kind"] for s in document["sources"]] == ["osv-directory", "osv-directory"]
    assert {p["location"] for p in document["problems"]} >= {"missing-id.json"}


def test_status_json_digest_matches_import_output(db, capsys):
    run(["db", "--db", str(db), "import", str(ASSETS / "osv")])
    digest = capsys.readouterr().out.rsplit("digest ", 1)[1].strip()
    run(["db", "--db", str(db), "status", "--json"])
    assert json.loads(capsys.readouterr().out)["digest"] == digest


def test_missing_database(db, capsys):
    assert run(["db", "--db", str(db), "status"]) == 4
    err = capsys.readouterr().err
    assert err.startswith("assay: error: no advisory database at ")
    assert "assay db import <path>" in err
    assert err.count("\n") == 1
    assert not db.exists()


def test_corrupt_database(db, capsys):
    db.parent.mkdir(parents=True)
    db.write_bytes(b"SQLite format 3\0" + b"\xff" * 2000)
    assert run(["db", "--db", str(db), "status"]) == 4
    assert "not a usable assay advisory database" in capsys.readouterr().err
    assert run(["db", "--db", str(db), "import", str(ASSETS / "osv")]) == 4
    assert db.read_bytes().startswith(b"SQLite format 3\0\xff")


def test_unreadable_source_exits_3_and_creates_nothing(db, tmp_path, capsys):
    assert run(["db", "--db", str(db), "import", str(tmp_path / "missing")]) == 3
    assert "missing: no such file or directory" in capsys.readouterr().err
    assert not db.exists()
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    assert run(["db", "--db", str(db), "import", str(ASSETS / "osv"), str(bad)]) == 3
    assert run(["db", "--db", str(db), "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == 0  # all or nothing


def test_default_database_comes_from_the_environment(db, monkeypatch, capsys):
    monkeypatch.setenv("ASSAY_DB", str(db))
    assert run(["db", "import", str(ASSETS / "osv")]) == 0
    assert db.is_file()
    monkeypatch.delenv("ASSAY_DB")
    monkeypatch.setenv("ASSAY_HOME", str(db.parent / "home"))
    assert run(["db", "status"]) == 4
    assert str(db.parent / "home" / "advisories.sqlite3") in capsys.readouterr().err


def test_sync_without_a_url(db, capsys):
    assert run(["db", "--db", str(db), "sync"]) == 2
    assert "set ASSAY_OSV_EXPORT_URL" in capsys.readouterr().err
    assert not db.exists()


def test_sync_from_a_file_url_and_the_environment(db, export, monkeypatch, capsys):
    assert run(["db", "--db", str(db), "sync", "--url", export.as_uri()]) == 0
    assert "(osv-archive): 5 records: 5 added" in capsys.readouterr().out
    monkeypatch.setenv("ASSAY_OSV_EXPORT_URL", str(export))
    assert run(["db", "--db", str(db), "sync"]) == 0
    assert "5 unchanged" in capsys.readouterr().out


class _Handler(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        if self.path != "/PyPI/all.zip":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(export):
    handler = type("Handler", (_Handler,), {"body": export.read_bytes()})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_sync_over_http_from_127_0_0_1(db, server, capsys):
    url = f"{server}/PyPI/all.zip"
    assert run(["db", "--db", str(db), "sync", "--url", url]) == 0
    assert f"{url} (osv-archive): 5 records: 5 added" in capsys.readouterr().out
    assert run(["db", "--db", str(db), "sync", "--url", f"{server}/missing.zip"]) == 4
    assert "HTTP 404" in capsys.readouterr().err


def test_unreachable_sync_exits_4(db, capsys):
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connection refused
        assert run(["db", "--db", str(db), "sync", "--url", f"http://127.0.0.1:{port}/a.zip"]) == 4
    err = capsys.readouterr().err
    assert err.startswith("assay: error: cannot sync from http://127.0.0.1:")
    assert not db.exists()


def test_database_file_is_sqlite(db):
    assert run(["db", "--db", str(db), "import", str(ASSETS / "osv")]) == 0
    with closing(sqlite3.connect(db)) as raw:
        assert raw.execute("SELECT count(*) FROM records").fetchone() == (5,)
