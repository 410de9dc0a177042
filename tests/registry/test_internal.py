"""The internal package store: pages, content-addressed files, PEP 658 metadata, immutability."""

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

import pytest
from packaging.utils import canonicalize_name
from starlette.testclient import TestClient

from assay.registry.internal import DuplicateFileError, InternalStore, InternalStoreError
from assay.registry.uploads import Upload, UploadError, parse_upload
from tests.registry import upload_kit
from tests.registry.fakes import FakeUpstream
from tests.registry.upload_kit import fields, sdist, wheel

ACME = canonicalize_name("acme-tools")

JSON = "application/vnd.pypi.simple.v1+json"

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _upload(name: str = "acme-tools", version: str = "1.0", kind=wheel, **kw) -> Upload:
    filename, data = kind(name, version, **kw)
    return parse_upload(fields(filename, data, name=name, version=version), filename, data)


@pytest.fixture
def store(tmp_path):
    internal = InternalStore(tmp_path / "reg")
    yield internal
    internal.close()


def test_uploaded_files_make_a_project_page(store):
    first = store.add(_upload(requires_python=">=3.10"), uploader="t1", now=NOW)
    store.add(_upload(version="1.1"), uploader="t1", now=NOW.replace(hour=13))
    store.add(_upload(version="1.1", kind=sdist), uploader="t1", now=NOW.replace(hour=14))
    page = store.project(ACME)
    assert page is not None
    assert page.internal
    assert page.name == "acme-tools"
    assert page.versions == ("1.0", "1.1")
    assert [f.filename for f in page.files] == [
        "acme_tools-1.0-py3-none-any.whl",
        "acme_tools-1.1-py3-none-any.whl",
        "acme_tools-1.1.tar.gz",
    ]
    assert page.files[0] == first
    assert first.requires_python == ">=3.10"
    assert first.upload_time == NOW
    assert first.url == f"internal:{first.sha256}"
    assert first.yanked is False
    assert list(store.names()) == ["acme-tools"]
    assert store.project(canonicalize_name("unknown")) is None


def test_files_and_metadata_are_content_addressed_and_verified(store):
    upload = _upload()
    stored = store.add(upload, uploader="t1")
    path = store.open(stored)
    assert path is not None
    assert path.read_bytes() == upload.content
    assert path.name == hashlib.sha256(upload.content).hexdigest()
    assert stored.size == len(upload.content)
    metadata_path = store.open_metadata(stored)
    assert metadata_path is not None
    assert metadata_path.read_bytes() == upload.metadata
    assert stored.core_metadata == {"sha256": hashlib.sha256(upload.metadata).hexdigest()}
    leftovers = [p for p in store.blobs.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def test_a_file_name_is_stored_once(store):
    store.add(_upload(), uploader="t1")
    with pytest.raises(DuplicateFileError, match="File already exists") as caught:
        store.add(_upload(), uploader="t2")
    assert caught.value.status == 400
    assert len(store.project(ACME).files) == 1


def test_content_that_does_not_match_its_sha256_is_not_stored(store):
    upload = _upload()
    forged = replace(upload, digests={**upload.digests, "sha256": "0" * 64})
    with pytest.raises(UploadError, match="does not match its sha256"):
        store.add(forged, uploader="t1")
    assert store.project(ACME) is None
    assert not store.blobs.exists() or not any(p.is_file() for p in store.blobs.rglob("*"))


def test_yank_and_unyank(store):
    stored = store.add(_upload(), uploader="t1")
    assert store.yank(stored.filename, "broken build").yanked == "broken build"
    assert store.project(ACME).files[0].yanked == "broken build"
    assert store.stats().yanked == 1
    assert store.yank(stored.filename, None).yanked is False
    with pytest.raises(InternalStoreError, match="no internal file"):
        store.yank("missing.whl", "x")


def test_stats_and_reading_an_empty_directory_creates_nothing(tmp_path, store):
    empty = InternalStore(tmp_path / "empty")
    assert empty.stats().files == 0
    assert empty.project(ACME) is None
    assert not (tmp_path / "empty").exists()
    upload = _upload()
    store.add(upload, uploader="t1")
    stats = store.stats()
    assert (stats.projects, stats.files, stats.bytes) == (1, 1, len(upload.content))


def test_a_missing_blob_is_reported_as_gone(store):
    stored = store.add(_upload(), uploader="t1")
    path = store.open(stored)
    Path(path).unlink()
    assert store.open(stored) is None


# -- through the registry service and app ----------------------------------------------------


def test_an_internal_name_shadows_upstream_completely(tmp_path):
    upstream = FakeUpstream()
    upstream.add("acme-tools", "99.0")  # the dependency-confusion bait
    upstream.add("requests", "2.0")
    application, tokens = upload_kit.registry(tmp_path, upstream)
    secret = tokens.create(["upload"]).secret
    filename, data = wheel()
    with TestClient(application) as client:
        posted = client.post(
            "/legacy/",
            auth=("__token__", secret),
            data=fields(filename, data),
            files={"content": (filename, data)},
        )
        assert posted.status_code == 200, posted.text
        page = client.get("/simple/acme-tools/", headers={"Accept": JSON}).json()
        assert [f["filename"] for f in page["files"]] == [filename]
        assert page["versions"] == ["1.0"]
        link = page["files"][0]["url"]
        download = client.get(urljoin("http://testserver/simple/acme-tools/", link))
        assert download.content == data
        assert upstream.page_calls["acme-tools"] == 0
        assert upstream.downloads() == 0
        other = client.get("/simple/requests/", headers={"Accept": JSON}).json()
        assert other["versions"] == ["2.0"]
        assert upstream.page_calls["requests"] == 1
    tokens.close()


def test_core_metadata_of_an_internal_file_is_served_with_its_hash(tmp_path):
    application, tokens = upload_kit.registry(tmp_path, FakeUpstream())
    secret = tokens.create(["upload"]).secret
    filename, data = wheel(requires_python=">=3.9")
    with TestClient(application) as client:
        client.post(
            "/legacy/",
            auth=("__token__", secret),
            data=fields(filename, data),
            files={"content": (filename, data)},
        )
        entry = client.get("/simple/acme-tools/", headers={"Accept": JSON}).json()["files"][0]
        digest = entry["core-metadata"]["sha256"]
        assert entry["requires-python"] == ">=3.9"
        metadata = client.get(
            urljoin("http://testserver/simple/acme-tools/", entry["url"]) + ".metadata"
        )
        assert metadata.status_code == 200
        assert hashlib.sha256(metadata.content).hexdigest() == digest
        assert metadata.content == upload_kit.metadata("acme-tools", "1.0", ">=3.9")
    tokens.close()


def test_uploading_a_name_already_cached_from_upstream_takes_it_over(tmp_path):
    upstream = FakeUpstream()
    upstream.add("shared-name", "5.0")
    application, tokens = upload_kit.registry(tmp_path, upstream)
    secret = tokens.create(["upload"]).secret
    filename, data = wheel("shared-name", "0.1")
    with TestClient(application) as client:
        before = client.get("/simple/shared-name/", headers={"Accept": JSON}).json()
        assert before["versions"] == ["5.0"]
        assert upstream.page_calls["shared-name"] == 1
        posted = client.post(
            "/legacy/",
            auth=("__token__", secret),
            data=fields(filename, data, name="shared-name", version="0.1"),
            files={"content": (filename, data)},
        )
        assert posted.status_code == 200, posted.text
        after = client.get("/simple/shared-name/", headers={"Accept": JSON}).json()
        assert after["versions"] == ["0.1"]
        assert [f["filename"] for f in after["files"]] == [filename]
        assert upstream.page_calls["shared-name"] == 1
    tokens.close()
