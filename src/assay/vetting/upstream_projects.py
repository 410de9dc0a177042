"""Adapter: :class:`ProjectInfoSource` over an index's PEP 691 JSON simple API (httpx).

``GET <index>/<canonical name>/`` with ``Accept: application/vnd.pypi.simple.v1+json``;
a 404 means the project does not exist.  Release counts come from the
``versions`` list (PEP 700) or, when the index gives none, from the versions in
the file names; first and latest release times from the files' ``upload-time``.

The index is the one pip uses, never a built-in host: ``ASSAY_INDEX_URL``, else
``PIP_INDEX_URL``, else ``index-url`` from ``pip config list``, else pip's own
default (asked from the installed pip).  Any failure to ask (no index, a
non-HTTP index, network errors, a non-JSON answer) raises
:class:`UpstreamUnavailableError` with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from assay.errors import UsageError
from assay.vetting.index_config import configured_indexes, pip_config_list, pip_default_index
from assay.vetting.names import canonicalize
from assay.vetting.slopsquat import ProjectInfo, ProjectInfoSource, UpstreamUnavailableError

ACCEPT = "application/vnd.pypi.simple.v1+json"
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


def index_url(
    environ: Mapping[str, str] | None = None,
    pip_config: Callable[[], str] = pip_config_list,
    pip_default: Callable[[], str | None] = pip_default_index,
) -> str | None:
    """The primary simple-index URL (trailing slash), resolved like every assay upstream.

    See :func:`assay.vetting.index_config.configured_indexes` for the order.
    """
    try:
        primary = configured_indexes(environ, pip_config, pip_default)[0]
    except UsageError:
        return None
    return primary.rstrip("/") + "/"


def parse_upload_time(value: object) -> datetime | None:
    """A PEP 700 ``upload-time`` as an aware datetime (naive means UTC); None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _file_version(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def project_info(name: str, document: Any) -> ProjectInfo:
    """A :class:`ProjectInfo` from a PEP 691 project document (already decoded JSON)."""
    if not isinstance(document, dict) or not isinstance(document.get("files"), list):
        raise UpstreamUnavailableError(f"{name}: the index answered without a PEP 691 file list")
    files = [f for f in document["files"] if isinstance(f, dict)]
    times = [t for f in files if (t := parse_upload_time(f.get("upload-time"))) is not None]
    listed = document.get("versions")
    if isinstance(listed, list):
        versions = {str(v) for v in listed}
    else:
        versions = {v for f in files if (v := _file_version(str(f.get("filename", ""))))}
    return ProjectInfo(
        name=str(document.get("name") or canonicalize(name)),
        releases=len(versions),
        files=len(files),
        first_upload=min(times, default=None),
        latest_upload=max(times, default=None),
    )


class SimpleIndexProjects(ProjectInfoSource):
    """Project metadata from a PEP 691 index through an httpx client."""

    def __init__(self, base_url: str | None, client: httpx.Client | None = None) -> None:
        self._base = base_url.rstrip("/") + "/" if base_url else None
        self._client = client or httpx.Client(timeout=httpx.Timeout(20.0), follow_redirects=True)

    def close(self) -> None:
        self._client.close()

    def project(self, name: str) -> ProjectInfo | None:
        if self._base is None:
            raise UpstreamUnavailableError("no upstream index configured (set ASSAY_INDEX_URL)")
        if not self._base.startswith(("http://", "https://")):
            raise UpstreamUnavailableError(f"{self._base}: not an HTTP(S) index")
        url = f"{self._base}{canonicalize(name)}/"
        try:
            document = fetch_json_page(self._client, url, url, UpstreamUnavailableError)
        except httpx.HTTPError as exc:
            raise UpstreamUnavailableError(f"{url}: {type(exc).__name__}: {exc}") from None
        if document is None:
            return None
        return project_info(name, document)


def fetch_json_page(
    client: httpx.Client, url: str, shown: str, unavailable: Callable[[str], Exception]
) -> Any | None:
    """The decoded PEP 691 JSON page at ``url``; None on 404.

    An HTTP error status, a non-JSON answer or one over 64 MiB raises
    ``unavailable(message)`` (messages name ``shown``, the URL without
    credentials); transport errors are left to the caller (``httpx.HTTPError``).
    """
    with client.stream("GET", url, headers={"Accept": ACCEPT}) as response:
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        if response.status_code != httpx.codes.OK:
            raise unavailable(f"{shown}: HTTP {response.status_code}")
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        if kind != ACCEPT and not kind.endswith("json"):
            raise unavailable(f"{shown}: not a PEP 691 JSON answer ({kind or '?'})")
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_RESPONSE_BYTES:
                raise unavailable(f"{shown}: answer larger than 64 MiB")
    try:
        return json.loads(bytes(body))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise unavailable(f"{shown}: the answer is not valid JSON") from None
