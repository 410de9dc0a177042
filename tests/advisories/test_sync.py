"""``assay db sync``: an OSV export over http(s), file:// or a local path, never half imported."""

import zipfile

import httpx
import pytest

from assay.advisories.importing import SourceError
from assay.advisories.ports import AdvisoryError
from assay.advisories.store import AdvisoryDatabase
from assay.advisories.sync import local_path, redact, sync
from assay.errors import UsageError
from tests.support import ADVISORY_ASSETS

URL = "https://osv-mirror.example/PyPI/all.zip"


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "export" / "all.zip"
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for record in sorted((ADVISORY_ASSETS / "osv").glob("*.json")):
            archive.writestr(record.name, record.read_bytes())
    return path


@pytest.fixture
def database(tmp_path):
    database = AdvisoryDatabase.open_for_write(tmp_path / "db.sqlite3")
    yield database
    database.close()


def serving(body: bytes, status: int = 200, seen: list[httpx.Request] | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, content=body)

    return httpx.MockTransport(handler)


def test_http_export_is_downloaded_and_imported(database, export):
    seen: list[httpx.Request] = []
    summary = sync(database, URL, transport=serving(export.read_bytes(), seen=seen))
    assert (summary.kind, summary.counts.added, summary.source) == ("osv-archive", 5, URL)
    assert seen[0].headers["user-agent"].startswith("assay/")
    assert database.get("CVE-2014-1829").id == "PYSEC-2014-13"
    again = sync(database, URL, transport=serving(export.read_bytes()))
    assert again.counts.unchanged == 5


def test_file_url_and_local_path_work_the_same(database, export):
    by_url = sync(database, export.as_uri())
    assert by_url.counts.added == 5
    by_path = sync(database, str(export))
    assert by_path.counts.unchanged == 5
    assert by_url.source == by_path.source == str(export)
    assert len(database.sources()) == 1


def test_a_local_mirror_directory_works_too(database):
    assert sync(database, str(ADVISORY_ASSETS / "osv")).counts.added == 5


@pytest.mark.parametrize("url", [None, ""])
def test_no_url_says_how_to_configure_one(database, url):
    with pytest.raises(UsageError, match="set ASSAY_OSV_EXPORT_URL"):
        sync(database, url)


def test_http_error_status(database):
    with pytest.raises(AdvisoryError, match=r"cannot sync from .*: HTTP 404") as caught:
        sync(database, URL, transport=serving(b"not found", status=404))
    assert caught.value.exit_code == 4
    assert database.status().records == 0


def test_unreachable_server(database):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with pytest.raises(AdvisoryError, match="Connection refused"):
        sync(database, URL, transport=httpx.MockTransport(refuse))
    assert database.status().records == 0


def test_download_over_the_size_limit_imports_nothing(database, export):
    with pytest.raises(AdvisoryError, match="larger than 100 bytes"):
        sync(database, URL, transport=serving(export.read_bytes()), max_bytes=100)
    assert database.status().records == 0


def test_truncated_download_imports_nothing(database, export):
    data = export.read_bytes()
    with pytest.raises(SourceError):
        sync(database, URL, transport=serving(data[: len(data) // 2]))
    assert database.status().records == 0


def test_missing_local_export(database, tmp_path):
    with pytest.raises(AdvisoryError, match="does not exist"):
        sync(database, (tmp_path / "nope.zip").as_uri())


def test_url_forms():
    assert redact("https://user:secret@mirror.example:8443/all.zip") == (
        "https://mirror.example:8443/all.zip"
    )
    assert redact(URL) == URL
    assert local_path(URL) is None
    assert str(local_path("file:///srv/osv/all%20files.zip")) == "/srv/osv/all files.zip"
    with pytest.raises(UsageError, match="unsupported URL scheme 'ftp'"):
        local_path("ftp://mirror.example/all.zip")
    with pytest.raises(UsageError, match="only local file:// URLs"):
        local_path("file://otherhost/all.zip")


def test_credentials_are_not_shown_in_errors(database):
    with pytest.raises(AdvisoryError) as caught:
        sync(
            database,
            "https://user:secret@osv-mirror.example/all.zip",
            transport=serving(b"", status=401),
        )
    assert "secret" not in caught.value.message
