"""Simple-API project pages as read from an index: PEP 691 JSON and PEP 503 HTML (pure).

:func:`parse_json` and :func:`parse_html` turn an index's page into a
:class:`~assay.registry.model.ProjectPage` with absolute file URLs; every
attribute the registry serves again is kept (PEP 592 yanked, PEP 658/714
core metadata, PEP 700 versions/size/upload-time, PEP 792 status).
:func:`dumps` / :func:`loads` store a page in the registry's state losslessly.
Malformed pages raise :class:`PageError`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from assay.registry.model import DistributionFile, ProjectPage
from assay.registry.ports import RegistryError

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


class PageError(RegistryError):
    """An index page that cannot be read."""


def file_version(filename: str, project: NormalizedName) -> str | None:
    """The raw version a wheel or sdist name carries, None when unparsable or another project's."""
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None
    return str(version) if name == project else None


def file_project(filename: str) -> NormalizedName | None:
    """The project a wheel or sdist file name belongs to, None when unparsable."""
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[0]
        return parse_sdist_filename(filename)[0]
    except (InvalidWheelFilename, InvalidSdistFilename, ValueError):
        return None


def parse_time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _hashes(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {str(k).lower(): str(v).lower() for k, v in raw.items() if isinstance(v, str)}


def _metadata(raw: object) -> dict[str, str] | None:
    """PEP 714 ``core-metadata``: a hash dict, ``true`` (no hash: unusable here) or absent."""
    if isinstance(raw, dict):
        return _hashes(raw)
    return {} if raw is True else None


def _file(entry: Any, page_url: str, project: NormalizedName) -> DistributionFile:
    filename = str(entry["filename"])
    url, fragment = urldefrag(urljoin(page_url, str(entry["url"])))
    hashes = _hashes(entry.get("hashes"))
    if "sha256" not in hashes and fragment.startswith("sha256="):
        hashes["sha256"] = fragment.removeprefix("sha256=").lower()
    metadata = _metadata(entry.get("core-metadata", entry.get("dist-info-metadata")))
    yanked = entry.get("yanked", False)
    size = entry.get("size")
    requires = entry.get("requires-python")
    return DistributionFile(
        filename=filename,
        url=url,
        hashes=hashes,
        project=project,
        version=file_version(filename, project),
        requires_python=str(requires) if requires else None,
        yanked=yanked if isinstance(yanked, str) else bool(yanked),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        upload_time=parse_time(entry.get("upload-time")),
        core_metadata=metadata,
    )


def parse_json(body: bytes | str, page_url: str, *, internal: bool = False) -> ProjectPage:
    """A PEP 691 project page; relative URLs are resolved against ``page_url``."""
    try:
        data = json.loads(body)
        name = str(data["name"])
        project = canonicalize_name(name)
        files = tuple(_file(entry, page_url, project) for entry in data["files"])
        meta = data.get("meta") or {}
        status = data.get("project-status") or {}
        serial = meta.get("_last-serial")
        return ProjectPage(
            name=name,
            files=files,
            versions=tuple(str(v) for v in data.get("versions") or ()),
            status=str(status["status"]) if status.get("status") else None,
            status_reason=str(status["reason"]) if status.get("reason") else None,
            api_version=str(meta.get("api-version", "1.0")),
            last_serial=serial if isinstance(serial, int) else None,
            internal=internal,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PageError(f"{page_url}: malformed PEP 691 JSON page ({exc})") from None


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self.meta: dict[str, str] = {}
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open = dict(attrs)
            self._text = []
        elif tag == "meta":
            values = dict(attrs)
            if values.get("name") and values.get("content") is not None:
                self.meta[str(values["name"])] = str(values["content"])

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.anchors.append((self._open, "".join(self._text).strip()))
            self._open = None


def _html_metadata(value: str | None) -> dict[str, str] | None:
    if value is None:
        return None
    if "=" in value:
        algorithm, _, digest = value.partition("=")
        return {algorithm.lower(): digest.lower()}
    return {} if value.strip().lower() == "true" else None


def parse_html(body: bytes | str, page_url: str, name: str) -> ProjectPage:
    """A PEP 503 project page (anchors with ``data-*`` attributes)."""
    parser = _Anchors()
    parser.feed(body.decode("utf-8", "replace") if isinstance(body, bytes) else body)
    parser.close()
    project = canonicalize_name(name)
    files = []
    for attrs, text in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        url, fragment = urldefrag(urljoin(page_url, href))
        filename = text or unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        hashes: dict[str, str] = {}
        if "=" in fragment:
            algorithm, _, digest = fragment.partition("=")
            hashes[algorithm.lower()] = digest.lower()
        yanked: bool | str = False
        if "data-yanked" in attrs:
            yanked = attrs["data-yanked"] or True
        metadata = _html_metadata(
            attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        )
        files.append(
            DistributionFile(
                filename=filename,
                url=url,
                hashes=hashes,
                project=project,
                version=file_version(filename, project),
                requires_python=attrs.get("data-requires-python") or None,
                yanked=yanked,
                core_metadata=metadata,
            )
        )
    return ProjectPage(
        name=name,
        files=tuple(files),
        versions=tuple(dict.fromkeys(f.version for f in files if f.version)),
        status=parser.meta.get("pypi:project-status"),
        status_reason=parser.meta.get("pypi:project-status-reason"),
        api_version=parser.meta.get("pypi:repository-version", "1.0"),
    )


def _entry(file: DistributionFile) -> dict[str, Any]:
    entry: dict[str, Any] = {"filename": file.filename, "url": file.url, "hashes": file.hashes}
    if file.requires_python:
        entry["requires-python"] = file.requires_python
    if file.yanked is not False:
        entry["yanked"] = file.yanked
    if file.size is not None:
        entry["size"] = file.size
    if file.upload_time is not None:
        entry["upload-time"] = file.upload_time.isoformat()
    if file.core_metadata is not None:
        entry["core-metadata"] = file.core_metadata or True
    return entry


def dumps(page: ProjectPage) -> str:
    """The page as PEP 691 JSON with its original (upstream) URLs, for the state database."""
    data: dict[str, Any] = {
        "meta": {"api-version": page.api_version},
        "name": page.name,
        "files": [_entry(f) for f in page.files],
        "versions": list(page.versions),
    }
    if page.last_serial is not None:
        data["meta"]["_last-serial"] = page.last_serial
    if page.status:
        data["project-status"] = {"status": page.status}
        if page.status_reason:
            data["project-status"]["reason"] = page.status_reason
    return json.dumps(data, separators=(",", ":"))


def loads(text: str) -> ProjectPage:
    """A page stored by :func:`dumps` (URLs are absolute, so no base is needed)."""
    return parse_json(text, "")
