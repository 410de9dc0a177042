"""The simple repository API as the registry serves it: rendering and negotiation (pure).

Project pages render as PEP 503 HTML or PEP 691 JSON (API version
:data:`API_VERSION`): PEP 592 ``yanked`` with its reason, PEP 658/714
``core-metadata`` hashes, PEP 700 ``versions``/``size``/``upload-time``, PEP 792
``project-status``.  File links are relative to the page
(``../../files/<sha256>/<filename>``), so they point at this registry under
whatever host and prefix the client used; the ``#sha256=`` fragment (HTML)
and ``hashes`` (JSON) carry every file's digest.  A page served from cache
while upstream was unreachable says so in ``meta._assay-stale`` (JSON; PEP 691
reserves ``_`` keys for the server) and a ``<meta name="assay:stale">`` tag (HTML).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC
from html import escape
from typing import Any
from urllib.parse import quote

from assay.registry.model import DistributionFile, ProjectPage

API_VERSION = "1.4"
JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
TEXT_HTML = "text/html"
_ALIASES = {
    JSON_V1: JSON_V1,
    "application/vnd.pypi.simple.latest+json": JSON_V1,
    HTML_V1: HTML_V1,
    "application/vnd.pypi.simple.latest+html": HTML_V1,
    TEXT_HTML: TEXT_HTML,
    "text/*": TEXT_HTML,
    "*/*": TEXT_HTML,
    "application/*": JSON_V1,
}
_PREFERENCE = (JSON_V1, HTML_V1, TEXT_HTML)  # on equal q, the first wins
_FORMATS = {"json": JSON_V1, "html": HTML_V1}


def negotiate(accept: str | None, format_param: str | None = None) -> str | None:
    """The content type to answer with, None when nothing acceptable (HTTP 406).

    ``?format=`` (PEP 691's URL alternative) wins over ``Accept``; a missing or
    empty ``Accept`` gets ``text/html``, as PEP 691 recommends.
    """
    if format_param:
        return _ALIASES.get(format_param.strip().lower(), _FORMATS.get(format_param.lower()))
    if not accept or not accept.strip():
        return TEXT_HTML
    best: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = max(0.0, min(1.0, float(value)))
                except ValueError:
                    quality = 0.0
        target = _ALIASES.get(media.lower())
        if target is not None:
            best[target] = max(best.get(target, 0.0), quality)
    chosen = [t for t in _PREFERENCE if best.get(t, 0.0) > 0]
    if not chosen:
        return None
    return max(chosen, key=lambda t: (best[t], -_PREFERENCE.index(t)))


def is_json(content_type: str) -> bool:
    return content_type == JSON_V1


def file_href(file: DistributionFile) -> str:
    """The link from a project page (``<prefix>/simple/<name>/``) to the file here."""
    return f"../../files/{file.sha256}/{quote(file.filename)}"


def _time(file: DistributionFile) -> str | None:
    if file.upload_time is None:
        return None
    return file.upload_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _metadata_value(file: DistributionFile) -> dict[str, str] | None:
    """Core metadata is only advertised with a sha256 (it is verified before serving)."""
    if file.core_metadata and file.core_metadata.get("sha256"):
        return {"sha256": file.core_metadata["sha256"]}
    return None


def _json_file(file: DistributionFile) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "filename": file.filename,
        "url": file_href(file),
        "hashes": {"sha256": file.sha256},
    }
    if file.requires_python:
        entry["requires-python"] = file.requires_python
    if file.yanked is not False:
        entry["yanked"] = file.yanked
    if file.size is not None:
        entry["size"] = file.size
    upload_time = _time(file)
    if upload_time:
        entry["upload-time"] = upload_time
    metadata = _metadata_value(file)
    if metadata:
        entry["core-metadata"] = metadata
    return entry


def _meta(stale: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"api-version": API_VERSION}
    if stale:
        meta["_assay-stale"] = True
    return meta


def project_json(page: ProjectPage) -> bytes:
    """PEP 691 JSON for a (governed) project page."""
    data: dict[str, Any] = {
        "meta": _meta(page.stale),
        "name": page.canonical_name,
        "files": [_json_file(f) for f in page.files],
        "versions": list(page.versions),
    }
    if page.status:
        status: dict[str, str] = {"status": page.status}
        if page.status_reason:
            status["reason"] = page.status_reason
        data["project-status"] = status
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def _anchor(file: DistributionFile) -> str:
    attrs = [f'href="{escape(file_href(file))}#sha256={file.sha256}"']
    if file.requires_python:
        attrs.append(f'data-requires-python="{escape(file.requires_python)}"')
    if file.yanked is not False:
        reason = file.yanked if isinstance(file.yanked, str) else ""
        attrs.append(f'data-yanked="{escape(reason)}"')
    metadata = _metadata_value(file)
    if metadata:
        attrs.append(f'data-core-metadata="sha256={metadata["sha256"]}"')
    return f"    <a {' '.join(attrs)}>{escape(file.filename)}</a><br />"


def _head(title: str, extra: Iterable[str]) -> list[str]:
    return [
        "<!DOCTYPE html>",
        "<html>",
        "  <head>",
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">',
        *extra,
        f"    <title>{escape(title)}</title>",
        "  </head>",
        "  <body>",
        f"    <h1>{escape(title)}</h1>",
    ]


def project_html(page: ProjectPage) -> bytes:
    """PEP 503 HTML for a (governed) project page."""
    extra = []
    if page.status:
        extra.append(f'    <meta name="pypi:project-status" content="{escape(page.status)}">')
        if page.status_reason:
            reason = escape(page.status_reason)
            extra.append(f'    <meta name="pypi:project-status-reason" content="{reason}">')
    if page.stale:
        extra.append('    <meta name="assay:stale" content="upstream unavailable">')
    lines = _head(f"Links for {page.canonical_name}", extra)
    lines += [_anchor(f) for f in page.files]
    lines += ["  </body>", "</html>", ""]
    return "\n".join(lines).encode()


def index_json(names: Iterable[str]) -> bytes:
    """PEP 691 JSON project list."""
    data = {"meta": _meta(False), "projects": [{"name": n} for n in names]}
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def index_html(names: Iterable[str]) -> bytes:
    """PEP 503 HTML project list."""
    lines = _head("Simple index", [])
    lines += [f'    <a href="{quote(n)}/">{escape(n)}</a><br />' for n in names]
    lines += ["  </body>", "</html>", ""]
    return "\n".join(lines).encode()


def render_project(page: ProjectPage, content_type: str) -> bytes:
    return project_json(page) if is_json(content_type) else project_html(page)


def render_index(names: Iterable[str], content_type: str) -> bytes:
    return index_json(names) if is_json(content_type) else index_html(names)
