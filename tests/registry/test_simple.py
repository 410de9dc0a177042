"""Rendering of the simple API (golden HTML/JSON) and content negotiation."""

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from packaging.utils import canonicalize_name

from assay.registry import simple
from assay.registry.model import DistributionFile, ProjectPage
from tests.support import ASSETS

GOLDEN = ASSETS / "registry"
A = "a" * 64
B = "b" * 64
M = "c" * 64


def page(**changes):
    files = (
        DistributionFile(
            filename="demo_pkg-1.0-py3-none-any.whl",
            url="http://upstream.invalid/files/demo_pkg-1.0-py3-none-any.whl",
            hashes={"sha256": A, "md5": "0" * 32},
            project=canonicalize_name("demo-pkg"),
            version="1.0",
            requires_python=">=3.9,<4",
            size=1234,
            upload_time=datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
            core_metadata={"sha256": M},
        ),
        DistributionFile(
            filename="demo-pkg-1.1.tar.gz",
            url="http://upstream.invalid/files/demo-pkg-1.1.tar.gz",
            hashes={"sha256": B},
            project=canonicalize_name("demo-pkg"),
            version="1.1",
            yanked='blocked by policy: CVE-2024-0001 <critical> & "bad"',
            size=99,
            core_metadata={},
        ),
    )
    built = ProjectPage(
        name="Demo_Pkg",
        files=files,
        versions=("1.0", "1.1", "2.0rc1"),
        status="deprecated",
        status_reason="use demo-next",
    )
    return replace(built, **changes)


def test_project_html_matches_golden():
    assert simple.project_html(page()).decode() == (GOLDEN / "project.html").read_text()


def test_project_json_matches_golden():
    rendered = json.loads(simple.project_json(page()))
    assert rendered == json.loads((GOLDEN / "project.json").read_text())


def test_json_carries_pep_700_and_714_fields_and_only_sha256():
    entry = json.loads(simple.project_json(page()))["files"][0]
    assert entry["size"] == 1234
    assert entry["upload-time"] == "2024-05-06T07:08:09.123456Z"
    assert entry["core-metadata"] == {"sha256": M}
    assert "dist-info-metadata" not in entry
    assert entry["hashes"] == {"sha256": A}
    assert entry["url"] == f"../../files/{A}/demo_pkg-1.0-py3-none-any.whl"


def test_metadata_without_hash_is_not_advertised():
    second = json.loads(simple.project_json(page()))["files"][1]
    assert "core-metadata" not in second
    lines = simple.project_html(page()).decode().splitlines()
    sdist = next(line for line in lines if "tar.gz</a>" in line)
    assert "data-core-metadata" not in sdist


def test_stale_page_is_marked():
    stale = page(stale=True)
    assert json.loads(simple.project_json(stale))["meta"]["_assay-stale"] is True
    assert b'<meta name="assay:stale"' in simple.project_html(stale)
    assert "_assay-stale" not in json.loads(simple.project_json(page()))["meta"]


def test_project_list_matches_golden():
    names = ["demo-pkg", "numpy"]
    assert simple.index_html(names).decode() == (GOLDEN / "index.html").read_text()
    assert json.loads(simple.index_json(names)) == {
        "meta": {"api-version": simple.API_VERSION},
        "projects": [{"name": "demo-pkg"}, {"name": "numpy"}],
    }


PIP_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (PIP_ACCEPT, simple.JSON_V1),
        (None, simple.TEXT_HTML),
        ("", simple.TEXT_HTML),
        ("text/html", simple.TEXT_HTML),
        ("*/*", simple.TEXT_HTML),
        ("application/vnd.pypi.simple.latest+json", simple.JSON_V1),
        ("application/vnd.pypi.simple.v1+html", simple.HTML_V1),
        ("application/vnd.pypi.simple.latest+html", simple.HTML_V1),
        ("text/html;q=0.9, application/vnd.pypi.simple.v1+json;q=0.5", simple.TEXT_HTML),
        ("application/vnd.pypi.simple.v1+json;q=0, text/html", simple.TEXT_HTML),
        ("text/html, application/vnd.pypi.simple.v1+json", simple.JSON_V1),
        ("application/vnd.pypi.simple.v2+json", None),
        ("application/json", None),
        ("text/html;q=0", None),
        ("text/html;q=bogus", None),
    ],
)
def test_negotiation(accept, expected):
    assert simple.negotiate(accept) == expected


def test_format_parameter_wins_over_accept():
    assert simple.negotiate("text/html", "json") == simple.JSON_V1
    assert simple.negotiate(PIP_ACCEPT, "html") == simple.HTML_V1
    assert simple.negotiate(None, "xml") is None
