"""Adapter: release files from a package index (PEP 691 JSON, PEP 503 HTML, ``file://``).

For each configured index, the project page ``<index>/<name>/`` is asked for
with ``Accept: application/vnd.pypi.simple.v1+json`` (HTML is accepted as a
fallback and parsed for its links).  The files whose wheel or sdist file name
carries the requested version are downloaded within a size limit and checked
against the sha256 the index publishes (JSON ``hashes`` or a ``#sha256=``
fragment); a file without a published sha256, or whose bytes differ from it,
is refused (:class:`UpstreamError`), never analysed.  ``file://`` indexes (local
mirrors in the simple layout) are read from disk with the same checks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit, urlunsplit
from urllib.request import url2pathname

import httpx
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from assay import __version__
from assay.vetting.archive_model import ArchiveLimits
from assay.vetting.distributions import Distribution, DistributionSource, UpstreamError

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
MAX_PAGE_BYTES = 64 * 1024 * 1024
TIMEOUT_SECONDS = 60.0


def redact(url: str) -> str:
    """The URL without user:password, for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    return urlunsplit(parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append(href)


def _files_from_page(body: bytes, content_type: str, page_url: str) -> list[tuple[str, str, str]]:
    """(filename, absolute URL without fragment, sha256 or "") for each file on a page."""
    found: list[tuple[str, str, str]] = []
    if JSON_TYPE in content_type or body.lstrip().startswith(b"{"):
        try:
            files = json.loads(body)["files"]
            for entry in files:
                url, fragment = urldefrag(urljoin(page_url, str(entry["url"])))
                digest = str((entry.get("hashes") or {}).get("sha256", ""))
                if not digest and fragment.startswith("sha256="):
                    digest = fragment.removeprefix("sha256=")
                found.append((str(entry["filename"]), url, digest.lower()))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UpstreamError(
                f"{redact(page_url)}: malformed PEP 691 JSON page ({exc})"
            ) from None
        return found
    parser = _Links()
    parser.feed(body.decode("utf-8", "replace"))
    for href in parser.links:
        url, fragment = urldefrag(urljoin(page_url, href))
        name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        digest = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else ""
        found.append((name, url, digest.lower()))
    return found


def release_version(filename: str, name: str) -> Version | str | None:
    """The version a wheel or sdist file name carries if it belongs to ``name``."""
    try:
        if filename.endswith(".whl"):
            project, version, _, _ = parse_wheel_filename(filename)
        else:
            project, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return version if project == canonicalize_name(name) else None


def _matches(found: Version | str, wanted: str) -> bool:
    try:
        return found == Version(wanted)
    except InvalidVersion:
        return str(found) == wanted


class IndexSource(DistributionSource):
    """Release files from one or more simple-API indexes, merged by file name."""

    def __init__(
        self,
        indexes: Sequence[str],
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = TIMEOUT_SECONDS,
        max_file_bytes: int = ArchiveLimits().max_archive_bytes,
    ) -> None:
        self.indexes = list(indexes)
        self._max_file_bytes = max_file_bytes
        self._client = httpx.Client(
            transport=transport,
            timeout=timeout,
            follow_redirects=True,
            headers={"User-Agent": f"assay/{__version__}"},
        )

    def close(self) -> None:
        self._client.close()

    def fetch(self, name: str, version: str) -> list[Distribution]:
        project = canonicalize_name(name)
        chosen: dict[str, tuple[str, str]] = {}
        known = False
        for index in self.indexes:
            page = urljoin(index.rstrip("/") + "/", f"{project}/")
            listed = self._page(page)
            if listed is None:
                continue
            known = True
            for filename, url, digest in listed:
                found = release_version(filename, project)
                if found is not None and _matches(found, version):
                    chosen.setdefault(filename, (url, digest))
        shown = ", ".join(redact(i) for i in self.indexes)
        if not known:
            raise UpstreamError(f"{name}: no such project on the configured index ({shown})")
        if not chosen:
            raise UpstreamError(f"{name}=={version}: no files of that version on {shown}")
        return [self._download(f, url, digest) for f, (url, digest) in sorted(chosen.items())]

    def _page(self, url: str) -> list[tuple[str, str, str]] | None:
        """The files listed on a project page, or None when the index lacks the project."""
        if urlsplit(url).scheme == "file":
            path = Path(url2pathname(unquote(urlsplit(url).path)))
            page = path / "index.html"
            if not page.is_file():
                return None
            return _files_from_page(self._local(page, MAX_PAGE_BYTES), "text/html", url)
        body, content_type, status = self._get(url, MAX_PAGE_BYTES, {"Accept": ACCEPT})
        if status == httpx.codes.NOT_FOUND:
            return None
        if status != httpx.codes.OK:
            raise UpstreamError(f"package index page {redact(url)}: HTTP {status}")
        return _files_from_page(body, content_type, str(url))

    def _download(self, filename: str, url: str, digest: str) -> Distribution:
        shown = redact(url)
        if len(digest) != 64:
            raise UpstreamError(f"{filename}: the index publishes no sha256 for it ({shown})")
        if urlsplit(url).scheme == "file":
            path = Path(url2pathname(unquote(urlsplit(url).path)))
            data = self._local(path, self._max_file_bytes)
        else:
            data, _, status = self._get(url, self._max_file_bytes, {})
            if status != httpx.codes.OK:
                raise UpstreamError(f"cannot download {shown}: HTTP {status}")
        actual = hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise UpstreamError(
                f"{filename}: sha256 mismatch (index says {digest}, downloaded {actual})"
            )
        return Distribution(filename=filename, data=data, sha256=actual, url=shown)

    def _local(self, path: Path, limit: int) -> bytes:
        try:
            with path.open("rb") as handle:
                data = handle.read(limit + 1)
        except OSError as exc:
            raise UpstreamError(f"{path}: cannot read: {exc.strerror or exc}") from None
        if len(data) > limit:
            raise UpstreamError(f"{path}: larger than {limit} bytes")
        return data

    def _get(self, url: str, limit: int, headers: dict[str, str]) -> tuple[bytes, str, int]:
        shown = redact(url)
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code != httpx.codes.OK:
                    return b"", "", response.status_code
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise UpstreamError(f"{shown}: larger than {limit} bytes")
                chunks: list[bytes] = []
                received = 0
                for chunk in response.iter_bytes():
                    received += len(chunk)
                    if received > limit:
                        raise UpstreamError(f"{shown}: larger than {limit} bytes")
                    chunks.append(chunk)
                content_type = response.headers.get("Content-Type", "")
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise UpstreamError(f"cannot reach the package index at {shown}: {reason}") from None
        return b"".join(chunks), content_type, httpx.codes.OK
