"""Adapter: authors, maintainers and links from installed core metadata.

The environment model does not carry these yet, so for installed
environments and conda prefixes this re-reads the ``METADATA`` / ``PKG-INFO``
headers of each distribution (headers only, bounded reads, nothing executed)
and returns :class:`~assay.sbom.details.PackageDetails` keyed like the model's
packages.  Other sources (locks, requirements, SBOMs) have no such metadata and
get an empty mapping.
"""

from __future__ import annotations

from pathlib import Path

from packaging.utils import canonicalize_name

from assay.environments.model import Environment
from assay.environments.ports import ReaderError
from assay.environments.readers._files import decode, read_bytes
from assay.environments.readers.distinfo import find_site_dirs, metadata_entries
from assay.sbom.details import PackageDetails, parties

_WANTED = frozenset(
    {
        "name",
        "version",
        "summary",
        "author",
        "author-email",
        "maintainer",
        "maintainer-email",
        "home-page",
        "download-url",
        "project-url",
    }
)
_HEADER_LIMIT = 1024 * 1024
_UNKNOWN = frozenset({"", "unknown", "none", "n/a"})


def installed_details(env: Environment) -> dict[tuple[str, str | None], PackageDetails]:
    """Details of every distribution in an installed environment or conda prefix."""
    if env.source.kind not in ("installed", "conda-prefix"):
        return {}
    found: dict[tuple[str, str | None], PackageDetails] = {}
    for site in _site_dirs(Path(env.source.path)):
        for meta in metadata_entries(site):
            try:
                fields = _headers(meta)
            except ReaderError:
                continue  # the reader already reported unreadable metadata
            name, version = _first(fields, "name"), _first(fields, "version")
            if name:
                found.setdefault((canonicalize_name(name), version), details_from_headers(fields))
    return found


def _site_dirs(path: Path) -> list[Path]:
    if path.is_file():  # an interpreter: its prefix is two levels up (bin/python)
        path = path.parent.parent
    if not path.is_dir():
        return []
    sites = find_site_dirs(path)
    if sites:
        return sites
    return [path] if any(True for _ in metadata_entries(path)) else []


def _headers(meta: Path) -> dict[str, list[str]]:
    if meta.is_file():
        path = meta
    else:
        path = meta / ("METADATA" if meta.name.endswith(".dist-info") else "PKG-INFO")
    data = read_bytes(path, _HEADER_LIMIT) if path.is_file() else b""
    return parse_headers(path, data)


def parse_headers(path: Path, data: bytes) -> dict[str, list[str]]:
    """The wanted RFC 822 headers up to the first blank line (lower-cased keys)."""
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    end = data.find(b"\n\n")
    text = decode(path, data if end < 0 else data[:end])
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.split("\n"):
        if line[:1] in (" ", "\t"):
            if current is not None:
                current[-1] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep or not key or " " in key:
            break
        lowered = key.lower()
        if lowered in _WANTED:
            current = fields.setdefault(lowered, [])
            current.append(value.strip())
        else:
            current = None
    return fields


def _first(fields: dict[str, list[str]], key: str) -> str | None:
    values = fields.get(key) or []
    value = values[0].strip() if values else ""
    return None if value.lower() in _UNKNOWN else value


def details_from_headers(fields: dict[str, list[str]]) -> PackageDetails:
    """PackageDetails from core metadata headers (``Project-URL: label, url``)."""
    urls: list[tuple[str, str]] = []
    for entry in fields.get("project-url", []):
        label, sep, url = entry.partition(",")
        if sep and url.strip():
            urls.append((label.strip() or "url", url.strip()))
    return PackageDetails(
        summary=_first(fields, "summary"),
        authors=parties(_first(fields, "author"), _first(fields, "author-email")),
        maintainers=parties(_first(fields, "maintainer"), _first(fields, "maintainer-email")),
        homepage=_first(fields, "home-page"),
        download_url=_first(fields, "download-url"),
        project_urls=tuple(urls),
    )
