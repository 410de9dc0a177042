"""Reading upstream pages: PEP 691 JSON, PEP 503 HTML, revalidation, failures (MockTransport)."""

import asyncio
import json
from typing import Any

import httpx
import pytest

from assay.registry import pages
from assay.registry.ports import UpstreamUnavailable
from assay.registry.upstream import HttpUpstream

BASE = "http://upstream.invalid/simple/"
A = "a" * 64
M = "c" * 64

JSON_PAGE: dict[str, Any] = {
    "meta": {"api-version": "1.4", "_last-serial": 42},
    "name": "Demo_Pkg",
    "project-status": {"status": "archived", "reason": "moved"},
    "versions": ["1.0", "1.1"],
    "files": [
        {
            "filename": "demo_pkg-1.0-py3-none-any.whl",
            "url": "../../files/demo_pkg-1.0-py3-none-any.whl",
            "hashes": {"sha256": A.upper()},
            "requires-python": ">=3.9",
            "size": 10,
            "upload-time": "2024-01-02T03:04:05.000000Z",
            "core-metadata": {"sha256": M},
            "yanked": "broken build",
        },
        {
            "filename": "demo-pkg-1.1.tar.gz",
            "url": "https://elsewhere.invalid/demo-pkg-1.1.tar.gz#sha256=" + "b" * 64,
            "hashes": {},
            "dist-info-metadata": True,
        },
    ],
}

HTML_PAGE = f"""<!DOCTYPE html><html><head>
<meta name="pypi:repository-version" content="1.1">
<meta name="pypi:project-status" content="quarantined">
</head><body>
<a href="../../files/demo_pkg-1.0-py3-none-any.whl#sha256={A}" data-requires-python="&gt;=3.9"
   data-core-metadata="sha256={M}" data-yanked="">demo_pkg-1.0-py3-none-any.whl</a><br/>
<a href="/f/demo-pkg-1.1.tar.gz#sha256={"b" * 64}"
   data-dist-info-metadata="true">demo-pkg-1.1.tar.gz</a>
</body></html>"""


def test_json_page_keeps_every_field():
    page = pages.parse_json(json.dumps(JSON_PAGE), BASE + "demo-pkg/")
    first, second = page.files
    assert first.url == "http://upstream.invalid/files/demo_pkg-1.0-py3-none-any.whl"
    assert first.sha256 == A
    assert (first.requires_python, first.size, first.yanked) == (">=3.9", 10, "broken build")
    assert first.upload_time is not None
    assert first.upload_time.isoformat() == "2024-01-02T03:04:05+00:00"
    assert first.core_metadata == {"sha256": M}
    assert (first.project, first.version) == ("demo-pkg", "1.0")
    assert second.sha256 == "b" * 64  # from the URL fragment
    assert second.core_metadata == {}  # true: available without a hash
    assert (page.status, page.status_reason, page.last_serial) == ("archived", "moved", 42)
    assert page.versions == ("1.0", "1.1")


def test_html_page_keeps_data_attributes():
    page = pages.parse_html(HTML_PAGE, BASE + "demo-pkg/", "demo-pkg")
    first, second = page.files
    assert first.url == "http://upstream.invalid/files/demo_pkg-1.0-py3-none-any.whl"
    assert (first.sha256, first.requires_python, first.yanked) == (A, ">=3.9", True)
    assert first.core_metadata == {"sha256": M}
    assert second.url == "http://upstream.invalid/f/demo-pkg-1.1.tar.gz"
    assert second.core_metadata == {}
    assert page.versions == ("1.0", "1.1")
    assert page.status == "quarantined"


def test_stored_pages_round_trip():
    page = pages.parse_json(json.dumps(JSON_PAGE), BASE + "demo-pkg/")
    assert pages.loads(pages.dumps(page)) == page


def test_malformed_json_is_an_error():
    with pytest.raises(pages.PageError, match="malformed PEP 691"):
        pages.parse_json(b'{"name": "x"}', BASE)


class Recorder:
    def __init__(self, handler):
        self.handler = handler
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        return self.handler(request)


def fetch(handler, name="demo-pkg", previous=None, urls=(BASE,)):
    recorder = Recorder(handler)

    async def go():
        upstream = HttpUpstream(urls, transport=httpx.MockTransport(recorder))
        try:
            return await upstream.project(name, previous)
        finally:
            await upstream.aclose()

    return asyncio.run(go()), recorder.requests


def json_response(request):
    if request.headers.get("if-none-match") == '"v1"':
        return httpx.Response(304)
    return httpx.Response(
        200,
        json=JSON_PAGE,
        headers={"Content-Type": "application/vnd.pypi.simple.v1+json", "ETag": '"v1"'},
    )


def test_json_is_preferred_and_pages_are_revalidated():
    first, requests = fetch(json_response)
    assert requests[0].headers["accept"].startswith("application/vnd.pypi.simple.v1+json")
    assert len(first.page.files) == 2
    second, requests = fetch(json_response, previous=first)
    assert requests[0].headers["if-none-match"] == '"v1"'
    assert second.not_modified
    assert second.page == first.page


def test_html_answer_is_parsed():
    result, _ = fetch(lambda r: httpx.Response(200, text=HTML_PAGE))
    assert [f.filename for f in result.page.files] == [
        "demo_pkg-1.0-py3-none-any.whl",
        "demo-pkg-1.1.tar.gz",
    ]


def test_missing_project_is_none():
    assert fetch(lambda r: httpx.Response(404))[0] is None


@pytest.mark.parametrize(
    "handler",
    [
        lambda r: httpx.Response(503),
        lambda r: httpx.Response(
            200, json={"files": []}, headers={"Content-Type": "application/json"}
        ),
    ],
)
def test_server_errors_and_bad_pages_mean_unavailable(handler):
    with pytest.raises(UpstreamUnavailable):
        fetch(handler)


def test_connection_failure_means_unavailable():
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(UpstreamUnavailable, match="connection refused"):
        fetch(refuse)


def test_several_upstreams_merge_with_the_first_winning():
    other = "http://mirror.invalid/simple/"

    def handler(request):
        if request.url.host == "mirror.invalid":
            data = dict(JSON_PAGE, versions=["1.0", "3.0"])
            data["files"] = [
                dict(JSON_PAGE["files"][0], hashes={"sha256": "d" * 64}),
                {
                    "filename": "demo-pkg-3.0.tar.gz",
                    "url": "x.tar.gz",
                    "hashes": {"sha256": "e" * 64},
                },
            ]
            return httpx.Response(200, json=data, headers={"Content-Type": "application/json"})
        return json_response(request)

    result, requests = fetch(handler, urls=(BASE, other))
    assert [f.sha256 for f in result.page.files] == [A, "b" * 64, "e" * 64]
    assert result.page.versions == ("1.0", "1.1", "3.0")
    assert len(requests) == 2
