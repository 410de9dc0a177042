"""vet TARGETs: archive files, unpacked directories, and name==version from an index."""

from __future__ import annotations

import hashlib
import json
import os

import httpx
import pytest

from assay.errors import UsageError
from assay.vetting.archive_model import DEVICE, LIMIT_EXCEEDED, SYMLINK, ArchiveLimits
from assay.vetting.distributions import UpstreamError
from assay.vetting.index_config import configured_indexes, parse_pip_config
from assay.vetting.targets import TargetError, open_target, parse_requirement
from assay.vetting.upstream import JSON_TYPE, IndexSource
from tests.vetting import archive_builders as build

WHEEL = build.zip_bytes([("demo/__init__.py", b"VALUE = 1\n")])
SDIST = build.tar_bytes([("demo-1.0/setup.py", b"from setuptools import setup\n")], "gz")
INDEX = "https://index.invalid/simple/"


def sha(data):
    return hashlib.sha256(data).hexdigest()


def read(unit):
    members = list(unit.reading)
    return members, unit.reading.report()


# -- local targets ------------------------------------------------------------------------------


def test_archive_file_target(tmp_path):
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    path.write_bytes(WHEEL)
    [unit] = open_target(str(path))
    members, report = read(unit)
    assert (unit.origin, unit.sha256) == ("file", sha(WHEEL))
    assert [m.path for m in members] == ["demo/__init__.py"]
    assert report.clean


def test_archive_over_the_size_limit_is_an_incomplete_report(tmp_path):
    path = tmp_path / "big.whl"
    path.write_bytes(WHEEL)
    [unit] = open_target(str(path), limits=ArchiveLimits(max_archive_bytes=100))
    members, report = read(unit)
    assert members == []
    assert [p.kind for p in report.problems] == [LIMIT_EXCEEDED]
    assert not report.complete


def test_directory_is_walked_without_following_links(tmp_path):
    root = tmp_path / "pkg-1.0"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("x = 1\n")
    (root / "setup.py").write_text("setup()\n")
    (root / "passwd").symlink_to("/etc/passwd")
    (root / "linked-dir").symlink_to(tmp_path)
    os.mkfifo(root / "pipe")
    (root / "vendor.zip").write_bytes(build.zip_bytes([("inner.py", b"i")]))
    [unit] = open_target(str(root))
    members, report = read(unit)
    assert [m.path for m in members] == [
        "pkg/__init__.py",
        "setup.py",
        "vendor.zip",
        "vendor.zip!inner.py",
    ]
    assert sorted((p.kind, p.path) for p in report.problems) == [
        (DEVICE, "pipe"),
        (SYMLINK, "linked-dir"),
        (SYMLINK, "passwd"),
    ]
    assert "/etc/passwd" in next(p.detail for p in report.problems if p.path == "passwd")
    assert report.complete
    assert report.format == "directory"


def test_directory_limits(tmp_path):
    for i in range(5):
        (tmp_path / f"f{i}.py").write_bytes(b"x" * 100)
    [unit] = open_target(str(tmp_path), limits=ArchiveLimits(max_members=3))
    members, report = read(unit)
    assert len(members) == 3
    assert not report.complete


def test_missing_target_is_a_one_line_error(tmp_path):
    with pytest.raises(TargetError, match="no such file"):
        open_target(str(tmp_path / "nothing.whl"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("requests==2.32.3", ("requests", "2.32.3")),
        (" Foo.Bar_baz == 1.0rc1 ", ("Foo.Bar_baz", "1.0rc1")),
        ("requests>=2", None),
        ("requests", None),
        ("==1.0", None),
    ],
)
def test_parse_requirement(text, expected):
    assert parse_requirement(text) == expected


# -- index configuration ------------------------------------------------------------------------


def test_index_configuration_order():
    pip = "global.index-url='https://a.invalid/simple'\nglobal.extra-index-url='file:///x y'\n"
    default = "https://default.invalid/simple/"
    assert configured_indexes({}, lambda: pip) == ["https://a.invalid/simple", "file:///x", "y"]
    env = {"PIP_INDEX_URL": "https://b.invalid/simple"}
    assert configured_indexes(env, lambda: pip)[0] == "https://b.invalid/simple"
    env["ASSAY_INDEX_URL"] = "https://c.invalid/simple"
    assert configured_indexes(env, lambda: pip) == ["https://c.invalid/simple"]
    extras_only = "global.extra-index-url='file:///x'\n"
    assert configured_indexes({}, lambda: extras_only, lambda: default) == [default, "file:///x"]
    assert configured_indexes({}, lambda: extras_only, lambda: None) == ["file:///x"]
    with pytest.raises(UsageError, match="no package index configured"):
        configured_indexes({}, lambda: "", lambda: None)


def test_parse_pip_config_takes_the_last_value():
    text = "global.index-url='https://a/'\n:env:.index-url='https://b/'\nnoise\n"
    assert parse_pip_config(text) == {"index-url": "https://b/"}


# -- upstream -----------------------------------------------------------------------------------


def _index(files, *, page_status=200, tamper=False, html=False):
    """A MockTransport serving one project page and its files."""
    blobs = {f"https://files.invalid/{name}": data for name, data in files}

    def handler(request):
        url = str(request.url)
        if url == INDEX + "demo/":
            if page_status != 200:
                return httpx.Response(page_status)
            if html:
                links = "".join(
                    f'<a href="{u}#sha256={sha(d)}">{u.rsplit("/", 1)[1]}</a>'
                    for u, d in blobs.items()
                )
                return httpx.Response(
                    200,
                    text=f"<html><body>{links}</body></html>",
                    headers={"Content-Type": "text/html"},
                )
            assert JSON_TYPE in request.headers["Accept"]
            entries = [
                {"filename": u.rsplit("/", 1)[1], "url": u, "hashes": {"sha256": sha(d)}}
                for u, d in blobs.items()
            ]
            return httpx.Response(
                200, content=json.dumps({"files": entries}), headers={"Content-Type": JSON_TYPE}
            )
        if url in blobs:
            return httpx.Response(200, content=blobs[url] + (b"x" if tamper else b""))
        return httpx.Response(404)

    return httpx.MockTransport(handler)


FILES = [
    ("demo-1.0-py3-none-any.whl", WHEEL),
    ("demo-1.0.tar.gz", SDIST),
    ("demo-2.0-py3-none-any.whl", b"other"),
]


@pytest.mark.parametrize("html", [False, True])
def test_fetch_picks_the_version_and_verifies_hashes(html):
    source = IndexSource([INDEX], transport=_index(FILES, html=html))
    fetched = source.fetch("Demo", "1.0")
    assert [(d.filename, d.sha256) for d in fetched] == [
        ("demo-1.0-py3-none-any.whl", sha(WHEEL)),
        ("demo-1.0.tar.gz", sha(SDIST)),
    ]
    assert "bytes" in repr(fetched[0])


def test_hash_mismatch_is_refused():
    source = IndexSource([INDEX], transport=_index(FILES, tamper=True))
    with pytest.raises(UpstreamError, match="sha256 mismatch"):
        source.fetch("demo", "1.0")


def test_missing_version_and_missing_project():
    with pytest.raises(UpstreamError, match="no files of that version"):
        IndexSource([INDEX], transport=_index(FILES)).fetch("demo", "3.0")
    with pytest.raises(UpstreamError, match="no such project"):
        IndexSource([INDEX], transport=_index(FILES, page_status=404)).fetch("demo", "1.0")
    with pytest.raises(UpstreamError, match="HTTP 503"):
        IndexSource([INDEX], transport=_index(FILES, page_status=503)).fetch("demo", "1.0")


def test_unreachable_index_is_one_line():
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(UpstreamError, match="cannot reach the package index") as caught:
        IndexSource([INDEX], transport=httpx.MockTransport(refuse)).fetch("demo", "1.0")
    assert "\n" not in str(caught.value)


def test_download_size_limit():
    source = IndexSource([INDEX], transport=_index(FILES), max_file_bytes=50)
    with pytest.raises(UpstreamError, match="larger than 50 bytes"):
        source.fetch("demo", "1.0")


def test_file_index_without_hash_is_refused(tmp_path):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "demo-1.0.tar.gz").write_bytes(SDIST)
    (tmp_path / "simple" / "demo").mkdir(parents=True)
    page = tmp_path / "simple" / "demo" / "index.html"
    page.write_text('<a href="../../files/demo-1.0.tar.gz">demo-1.0.tar.gz</a>')
    source = IndexSource([(tmp_path / "simple").as_uri()])
    with pytest.raises(UpstreamError, match="publishes no sha256"):
        source.fetch("demo", "1.0")
    page.write_text(f'<a href="../../files/demo-1.0.tar.gz#sha256={sha(SDIST)}">x</a>')
    [fetched] = source.fetch("demo", "1.0")
    assert fetched.data == SDIST


def test_name_version_target_reads_every_verified_file():
    units = open_target("demo==1.0", source=lambda: IndexSource([INDEX], transport=_index(FILES)))
    assert [u.label for u in units] == ["demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz"]
    formats = [read(u)[1].format for u in units]
    assert formats == ["zip", "tar.gz"]


@pytest.mark.online
def test_fetch_a_real_package_through_pips_configured_index():
    try:
        indexes = configured_indexes()
    except UsageError:
        pytest.skip("no package index configured for pip")
    units = open_target("six==1.17.0", source=lambda: IndexSource(indexes))
    reports = [read(u)[1] for u in units]
    assert reports
    assert all(r.complete for r in reports)
