"""The upload form checks (pure): names, versions, file names, digests, metadata, vetting."""

import asyncio
import hashlib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from starlette.testclient import TestClient

from assay.registry.internal import InternalStore
from assay.registry.ports import Vetter
from assay.registry.tokens import TokenStore
from assay.registry.uploads import (
    UncachedVetter,
    UploadError,
    UploadRefusedError,
    parse_upload,
    vet_upload,
)
from assay.server.registry_app import running
from assay.vetting.cache import VetSummary
from tests.registry import upload_kit
from tests.registry.fakes import FakeUpstream
from tests.registry.upload_kit import DROPPER_PTH, fields, metadata, sdist, wheel
from tests.registry.upstream_index import client_env

ACME = canonicalize_name("acme-tools")


def test_a_valid_wheel_is_accepted_with_its_metadata_and_digests():
    filename, data = wheel("Acme.Tools", "1.0", requires_python=">=3.9")
    upload = parse_upload(fields(filename, data, name="Acme.Tools"), filename, data)
    assert upload.project == "acme-tools"
    assert upload.name == "Acme.Tools"
    assert upload.version == "1.0"
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert upload.metadata == metadata("Acme.Tools", "1.0", ">=3.9")
    assert upload.requires_python == ">=3.9"
    assert upload.summary == "internal"


def test_a_valid_sdist_is_accepted_with_pkg_info():
    filename, data = sdist("acme-tools", "2.0rc1")
    upload = parse_upload(fields(filename, data, version="2.0rc1"), filename, data)
    assert upload.filetype == "sdist"
    assert upload.metadata.startswith(b"Metadata-Version: 2.1\nName: acme-tools")


def test_version_spelling_may_differ_but_must_be_equal():
    filename, data = wheel(version="1.0.0")
    upload = parse_upload(fields(filename, data, version="1.0.0"), filename, data)
    assert upload.version == "1.0.0"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({":action": "submit"}, "only 'file_upload'"),
        ({"protocol_version": "2"}, "protocol_version"),
        ({"name": "<drop>"}, "'name' is missing"),
        ({"name": "-bad-"}, "not a valid project name"),
        ({"name": "other"}, "the file name is for acme-tools 1.0, but the upload is for other"),
        ({"version": "1.1"}, "but the upload is for acme-tools 1.1"),
        ({"version": "one"}, "not a valid PEP 440"),
        ({"filetype": "bdist_egg"}, "only bdist_wheel and sdist"),
        ({"filetype": "sdist"}, "must end with .tar.gz"),
        ({"sha256_digest": "0" * 64}, "sha256_digest does not match"),
        ({"blake2_256_digest": "ab"}, "blake2_256_digest does not match"),
        ({"md5_digest": "0" * 32}, "md5_digest does not match"),
        ({"sha256_digest": "<drop>", "blake2_256_digest": "<drop>"}, "no digest sent"),
    ],
)
def test_form_problems_are_refused_with_the_reason(change, message):
    filename, data = wheel()
    with pytest.raises(UploadError, match=message) as caught:
        parse_upload(fields(filename, data, **change), filename, data)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("../acme_tools-1.0-py3-none-any.whl", "invalid file name"),
        ("acme_tools-1.0.whl", "not a valid bdist_wheel file name"),
        ("other_pkg-1.0-py3-none-any.whl", "file name is for other-pkg 1.0"),
    ],
)
def test_bad_file_names_are_refused(filename, message):
    _, data = wheel()
    with pytest.raises(UploadError, match=message):
        parse_upload(fields(filename, data), filename, data)


def test_metadata_must_agree_with_the_form():
    filename, data = wheel(meta=metadata("someone-else", "1.0"))
    with pytest.raises(UploadError, match="core metadata names 'someone-else'"):
        parse_upload(fields(filename, data), filename, data)
    filename, data = wheel(meta=metadata("acme-tools", "9.9"))
    with pytest.raises(UploadError, match=r"core metadata says version '9\.9'"):
        parse_upload(fields(filename, data), filename, data)


def test_archive_without_metadata_or_not_a_zip_is_refused():
    filename, data = wheel(extra={"other-1.0.dist-info/METADATA": metadata("other", "1.0")})
    with pytest.raises(UploadError, match=r"2 \*\.dist-info/METADATA"):
        parse_upload(fields(filename, data), filename, data)
    bare = io.BytesIO()
    with zipfile.ZipFile(bare, "w") as archive:
        archive.writestr("acme_tools/__init__.py", "")
    data = bare.getvalue()
    with pytest.raises(UploadError, match=r"no \*\.dist-info/METADATA"):
        parse_upload(fields(filename, data), filename, data)
    junk = b"not a zip at all" * 10
    with pytest.raises(UploadError, match=r"not a \.whl archive"):
        parse_upload(fields(filename, junk), filename, junk)


def test_empty_and_oversized_content_are_refused():
    filename, data = wheel()
    with pytest.raises(UploadError, match="missing or empty"):
        parse_upload(fields(filename, b""), filename, b"")
    with pytest.raises(UploadError, match="over the upload limit of 100 bytes"):
        parse_upload(fields(filename, data), filename, data, max_bytes=100)


def test_vetting_refuses_a_dropper_and_passes_a_plain_wheel():
    filename, data = wheel(extra={"acme_tools.pth": DROPPER_PTH})
    upload = parse_upload(fields(filename, data), filename, data)
    with pytest.raises(UploadRefusedError, match="refused by vetting: score") as caught:
        asyncio.run(vet_upload(upload, UncachedVetter()))
    assert caught.value.status == 403
    filename, data = wheel()
    clean = parse_upload(fields(filename, data), filename, data)
    summary = asyncio.run(vet_upload(clean, UncachedVetter()))
    assert summary.score < 7.0
    assert summary.sha256 == clean.sha256


class _CachedVetter(Vetter):
    def __init__(self, summary: VetSummary) -> None:
        self.summary = summary
        self.calls = 0

    def cached(self, sha256: str) -> VetSummary | None:
        return self.summary if sha256 == self.summary.sha256 else None

    async def vet(self, filename: str, data: bytes) -> VetSummary:
        self.calls += 1
        raise AssertionError("a cached result must be used")


def test_a_cached_vetting_result_is_used_without_analysing_again():
    filename, data = wheel()
    upload = parse_upload(fields(filename, data), filename, data)
    summary = VetSummary("acme-tools", "1.0", filename, upload.sha256, 9.5, "critical", ("bad",))
    vetter = _CachedVetter(summary)
    with pytest.raises(UploadRefusedError, match=r"score 9\.5 \(critical\).*: bad"):
        asyncio.run(vet_upload(upload, vetter))
    assert vetter.calls == 0


# -- the upload API over HTTP (ASGI, in process) ---------------------------------------------


@pytest.fixture
def api(tmp_path):
    uploaded: list[str] = []
    tokens = TokenStore.in_directory(tmp_path)
    client = TestClient(upload_kit.app(tmp_path, max_bytes=64 * 1024, uploaded=uploaded))
    auth = ("__token__", tokens.create(["upload"]).secret)
    yield client, auth, uploaded, tokens
    tokens.close()


def _post(client, auth, filename, data, **changes):
    return client.post(
        "/legacy/",
        auth=auth,
        data=fields(filename, data, **changes),
        files={"content": (filename, data, "application/octet-stream")},
    )


def test_upload_api_stores_a_valid_wheel(api, tmp_path):
    client, auth, uploaded, _ = api
    filename, data = wheel()
    answer = _post(client, auth, filename, data)
    assert answer.status_code == 200, answer.text
    assert answer.text.startswith(f"OK: stored {filename}")
    assert uploaded == ["acme-tools"]
    page = InternalStore(tmp_path).project(ACME)
    assert page is not None
    assert [f.filename for f in page.files] == [filename]


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"sha256_digest": "0" * 64}, 400, "sha256_digest does not match"),
        ({"name": "other"}, 400, "the file name is for acme-tools"),
    ],
)
def test_upload_api_refuses_bad_forms(api, change, status, message):
    client, auth, uploaded, _ = api
    filename, data = wheel()
    answer = _post(client, auth, filename, data, **change)
    assert answer.status_code == status
    assert message in answer.text
    assert uploaded == []


def test_upload_api_refuses_a_duplicate_file_name(api):
    client, auth, _, _ = api
    filename, data = wheel()
    assert _post(client, auth, filename, data).status_code == 200
    again = _post(client, auth, filename, data)
    assert again.status_code == 400
    assert "File already exists" in again.text


def test_upload_api_refuses_oversize_uploads_with_413(api):
    client, auth, _, _ = api
    filename, data = wheel(extra={"acme_tools/blob.bin": os.urandom(80 * 1024)})
    answer = _post(client, auth, filename, data)
    assert answer.status_code == 413
    assert "over the upload limit of 65536 bytes" in answer.text
    huge = os.urandom(2 * 1024 * 1024)
    answer = _post(client, auth, filename, huge)
    assert answer.status_code == 413


def test_upload_api_refuses_what_vetting_flags(api, tmp_path):
    client, auth, uploaded, _ = api
    filename, data = wheel(extra={"acme_tools.pth": DROPPER_PTH})
    answer = _post(client, auth, filename, data)
    assert answer.status_code == 403
    assert "refused by vetting" in answer.text
    assert uploaded == []
    assert InternalStore(tmp_path).project(ACME) is None


def test_upload_api_checks_the_token_project_restriction(api):
    client, _, _, tokens = api
    restricted = ("__token__", tokens.create(["upload"], ["other-project"]).secret)
    filename, data = wheel()
    answer = _post(client, restricted, filename, data)
    assert answer.status_code == 403
    assert "may not upload to acme-tools" in answer.text


def test_upload_api_refuses_a_form_without_a_file(api):
    client, auth, _, _ = api
    filename, data = wheel()
    answer = client.post("/legacy/", auth=auth, data=fields(filename, data), files={})
    assert answer.status_code == 400
    answer = client.post("/upload/", auth=auth, content=b"{}", headers={"content-type": "x/y"})
    assert answer.status_code == 400


# -- real clients: twine upload, uv publish, pip download with a read token --------------------


def _tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def test_twine_and_uv_publish_upload_and_pip_reads_back_with_basic_auth(tmp_path):
    application, tokens = upload_kit.registry(tmp_path, FakeUpstream(), anonymous_read=False)
    upload_secret = tokens.create(["upload"], ["acme-tools"]).secret
    read_secret = tokens.create(["read"]).secret
    first, first_data = wheel()
    second, second_data = wheel(version="1.1")
    (tmp_path / first).write_bytes(first_data)
    (tmp_path / second).write_bytes(second_data)
    env = client_env(tmp_path)
    env = {k: v for k, v in env.items() if not k.startswith("TWINE_")}
    twine = [_tool("twine"), "upload", "--non-interactive", "--disable-progress-bar"]
    with running(application) as base:
        upload_url = f"{base}/legacy/"
        done = subprocess.run(
            [
                *twine,
                "--repository-url",
                upload_url,
                "-u",
                "__token__",
                "-p",
                upload_secret,
                str(tmp_path / first),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        again = subprocess.run(
            [
                *twine,
                "--repository-url",
                upload_url,
                "-u",
                "__token__",
                "-p",
                upload_secret,
                "--verbose",
                str(tmp_path / first),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert again.returncode != 0
        assert "File already exists" in again.stdout + again.stderr
        wrong = subprocess.run(
            [
                *twine,
                "--repository-url",
                upload_url,
                "-u",
                "__token__",
                "-p",
                read_secret,
                str(tmp_path / second),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert wrong.returncode != 0
        assert "403" in wrong.stdout + wrong.stderr
        published = subprocess.run(
            [
                _tool("uv"),
                "publish",
                "--publish-url",
                upload_url,
                "--token",
                upload_secret,
                str(tmp_path / second),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert published.returncode == 0, published.stdout + published.stderr
        index = base.replace("http://", f"http://__token__:{read_secret}@") + "/simple/"
        downloaded = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "-d",
                str(tmp_path / "got"),
                "--index-url",
                index,
                "acme-tools",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert downloaded.returncode == 0, downloaded.stdout + downloaded.stderr
        anonymous = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "-d",
                str(tmp_path / "no"),
                "--index-url",
                f"{base}/simple/",
                "acme-tools",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert anonymous.returncode != 0
    assert (tmp_path / "got" / second).read_bytes() == second_data
    tokens.close()


def test_an_archive_the_safe_reader_cannot_read_completely_is_refused():
    filename, _ = wheel()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("acme_tools-1.0.dist-info/METADATA", metadata("acme-tools", "1.0"))
        archive.writestr("../escape.py", "print('x')\n")
    data = out.getvalue()
    with pytest.raises(UploadError, match="the archive cannot be read: path-traversal"):
        parse_upload(fields(filename, data), filename, data)
