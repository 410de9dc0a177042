"""Adapter: the upstream index(es) over HTTP (httpx), PEP 691 JSON preferred, HTML fallback.

Pages are asked for with ``Accept`` preferring ``application/vnd.pypi.simple.v1+json``;
an HTML answer is parsed as PEP 503.  With one upstream, a cached page is
revalidated with ``If-None-Match`` / ``If-Modified-Since`` (a 304 keeps it).
With several, the pages are merged by file name, the first index winning (as
pip merges ``--extra-index-url``), and always fetched in full.  A 404 or 410
means "not there"; any other failure (connection, timeout, 5xx, malformed
page) is :class:`UpstreamUnavailable`.  ``file://`` upstreams (a directory in
the simple layout) are read from disk.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import httpx
from packaging.utils import NormalizedName

from assay import __version__
from assay.registry import pages
from assay.registry.model import DistributionFile, ProjectPage
from assay.registry.ports import Upstream, UpstreamPage, UpstreamUnavailable
from assay.vetting.upstream import redact

ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
MAX_PAGE_BYTES = 64 * 1024 * 1024
CHUNK = 256 * 1024


class HttpUpstream(Upstream):
    """One or more simple-API indexes, asked with one shared connection pool."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not urls:
            raise ValueError("at least one upstream URL is needed")
        self.urls = tuple(url.rstrip("/") + "/" for url in urls)
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=True,
            headers={"User-Agent": f"assay-registry/{__version__}"},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def project(
        self, name: NormalizedName, previous: UpstreamPage | None = None
    ) -> UpstreamPage | None:
        if len(self.urls) == 1:
            return await self._one(self.urls[0], name, previous)
        merged: ProjectPage | None = None
        for base in self.urls:
            found = await self._one(base, name, None)
            if found is None:
                continue
            if merged is None:
                merged = found.page
                continue
            known = {f.filename for f in merged.files}
            extra = tuple(f for f in found.page.files if f.filename not in known)
            versions = tuple(dict.fromkeys([*merged.versions, *found.page.versions]))
            merged = replace(merged, files=merged.files + extra, versions=versions)
        return None if merged is None else UpstreamPage(page=merged)

    async def _one(
        self, base: str, name: NormalizedName, previous: UpstreamPage | None
    ) -> UpstreamPage | None:
        url = f"{base}{name}/"
        if urlsplit(url).scheme == "file":
            return self._local_page(url, name)
        headers = {"Accept": ACCEPT}
        if previous is not None and previous.validators:
            saved = json.loads(previous.validators)
            if saved.get("etag"):
                headers["If-None-Match"] = saved["etag"]
            if saved.get("last_modified"):
                headers["If-Modified-Since"] = saved["last_modified"]
        try:
            response = await self._client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise UpstreamUnavailable(f"cannot reach upstream {redact(url)}: {reason}") from None
        if response.status_code == 304 and previous is not None:
            return replace(previous, not_modified=True)
        if response.status_code in (404, 410):
            return None
        if response.status_code != 200:
            raise UpstreamUnavailable(f"upstream {redact(url)}: HTTP {response.status_code}")
        if len(response.content) > MAX_PAGE_BYTES:
            raise UpstreamUnavailable(f"upstream {redact(url)}: page over {MAX_PAGE_BYTES} bytes")
        validators = json.dumps(
            {
                "etag": response.headers.get("ETag", ""),
                "last_modified": response.headers.get("Last-Modified", ""),
            }
        )
        page_url = str(response.url)
        content_type = response.headers.get("Content-Type", "")
        try:
            if "json" in content_type:
                page = pages.parse_json(response.content, page_url)
            else:
                page = pages.parse_html(response.content, page_url, name)
        except pages.PageError as exc:
            raise UpstreamUnavailable(str(exc)) from None
        return UpstreamPage(page=page, validators=validators)

    def _local_page(self, url: str, name: NormalizedName) -> UpstreamPage | None:
        path = Path(url2pathname(unquote(urlsplit(url).path))) / "index.html"
        if not path.is_file():
            return None
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise UpstreamUnavailable(f"{path}: cannot read: {exc.strerror or exc}") from None
        return UpstreamPage(page=pages.parse_html(body, url, name))

    async def download(self, url: str) -> AsyncIterator[bytes]:
        if urlsplit(url).scheme == "file":
            path = Path(url2pathname(unquote(urlsplit(url).path)))
            try:
                with path.open("rb") as handle:
                    while chunk := handle.read(CHUNK):
                        yield chunk
            except OSError as exc:
                raise UpstreamUnavailable(f"{path}: cannot read: {exc.strerror or exc}") from None
            return
        shown = redact(url)
        try:
            async with self._client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise UpstreamUnavailable(f"upstream {shown}: HTTP {response.status_code}")
                async for chunk in response.aiter_bytes(CHUNK):
                    yield chunk
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise UpstreamUnavailable(f"download from {shown} failed: {reason}") from None


def metadata_url(file: DistributionFile) -> str:
    """PEP 658: the core metadata lives at the file's URL plus ``.metadata``."""
    return f"{file.url}.metadata"
