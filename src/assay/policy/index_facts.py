"""Adapter: :class:`ProjectMetadataSource` over the configured index's PEP 691 JSON API (httpx).

``GET <index>/<canonical name>/`` with ``Accept: application/vnd.pypi.simple.v1+json``.
From the answer:

* each file's version comes from its wheel or sdist file name; a version's
  release time is the earliest ``upload-time`` (PEP 700) of its files;
* a version is yanked when every one of its files is (``yanked`` true or a
  reason string, PEP 592), which is how pip reads it;
* ``project-status`` (PEP 792, ``{"status": ..., "reason": ...}``) gives the
  project's status; without one the project is ``active``.

The index is the one every assay upstream uses (``ASSAY_INDEX_URL``, else pip's
configuration, see :mod:`assay.vetting.index_config`).  404 means "no such
project"; other HTTP statuses and malformed pages make that project's facts
unavailable (:class:`IndexUnavailableError`); a transport failure (refused,
timed out, no route) raises :class:`IndexUnreachableError` so no further
project is asked.  The client is shared by the gathering's threads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion

from assay import __version__
from assay.policy.fact_sources import (
    IndexUnavailableError,
    IndexUnreachableError,
    ProjectMetadataSource,
    ProjectReleases,
    ReleaseInfo,
    version_key,
)
from assay.vetting.upstream import redact
from assay.vetting.upstream_projects import ACCEPT, fetch_json_page, parse_upload_time

TIMEOUT_SECONDS = 20.0


def _file_version(filename: str, project: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return str(version) if name == project else None


def project_releases(name: str, document: Any) -> ProjectReleases:
    """A :class:`ProjectReleases` from a decoded PEP 691 project document."""
    if not isinstance(document, dict) or not isinstance(document.get("files"), list):
        raise IndexUnavailableError(f"{name}: the index answered without a PEP 691 file list")
    project = canonicalize_name(name)
    files: dict[str, list[tuple[datetime | None, bool, str | None]]] = {}
    for entry in document["files"]:
        if not isinstance(entry, dict):
            continue
        version = _file_version(str(entry.get("filename", "")), project)
        if version is None:
            continue
        yanked = entry.get("yanked", False)
        reason = yanked.strip() or None if isinstance(yanked, str) else None
        files.setdefault(version, []).append(
            (
                parse_upload_time(entry.get("upload-time")),
                yanked is True or isinstance(yanked, str),
                reason,
            )
        )
    releases = {
        version_key(version): ReleaseInfo(
            version=version,
            upload_time=min((t for t, _, _ in found if t is not None), default=None),
            yanked=all(y for _, y, _ in found),
            yanked_reason=next((r for _, y, r in found if y and r), None),
        )
        for version, found in files.items()
    }
    status = document.get("project-status")
    state, reason = "active", None
    if isinstance(status, dict) and isinstance(status.get("status"), str):
        state = status["status"].strip().lower() or "active"
        reason = status.get("reason") if isinstance(status.get("reason"), str) else None
    return ProjectReleases(
        name=str(document.get("name") or project),
        releases=releases,
        status=state,
        status_reason=reason,
    )


class IndexProjects(ProjectMetadataSource):
    """Project releases from one PEP 691 index through a shared httpx client."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = TIMEOUT_SECONDS,
        connections: int = 16,
    ) -> None:
        self._base = base_url.rstrip("/") + "/"
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            limits=httpx.Limits(max_connections=connections),
            headers={"User-Agent": f"assay/{__version__}", "Accept": ACCEPT},
        )

    def close(self) -> None:
        self._client.close()

    def releases(self, name: str) -> ProjectReleases | None:
        shown = redact(self._base)
        if not self._base.startswith(("http://", "https://")):
            raise IndexUnreachableError(f"{shown}: not an HTTP(S) index")
        url = f"{self._base}{canonicalize_name(name)}/"
        try:
            document = fetch_json_page(self._client, url, redact(url), IndexUnavailableError)
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise IndexUnreachableError(
                f"cannot reach the package index at {shown}: {reason}"
            ) from None
        except httpx.HTTPError as exc:
            raise IndexUnavailableError(f"{redact(url)}: {type(exc).__name__}: {exc}") from None
        if document is None:
            return None
        return project_releases(name, document)
