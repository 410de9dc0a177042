"""One requirement line (PEP 508, ``-e``, bare URL or path) to a :class:`Package`.

Shared by the requirements-file and ``pip freeze`` readers.  A version is only
ever taken from an exact pin (``==`` without a wildcard, or ``===``), from a
wheel or sdist file name (normative there), from ``pip freeze``'s comment above
an editable line, or from a local project's static ``[project] version``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import Specifier

from assay.environments.model import Hash, HashSource, Origin, OriginKind, Package
from assay.environments.ports import ReaderError
from assay.environments.readers._direct_url import (
    ARCHIVE_SUFFIXES,
    DirectReference,
    is_vcs_url,
    name_matches,
    parse_local_path,
    parse_url,
)
from assay.environments.readers._files import decode, parse_toml, read_bytes
from assay.environments.readers._reqfile import RequirementLine

_EXTRAS = re.compile(r"^(?P<base>.+?)(?:\[(?P<extras>[^\]]*)\])?$")
_FREEZE_EDITABLE = re.compile(
    r"Editable\b.*\((?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)===?(?P<version>[^()\s]+)\)"
)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")


@dataclass(frozen=True, slots=True)
class LineContext:
    """How to read lines: the origin of index packages, which hash source, freeze rules."""

    index_origin: Origin
    fragment_hash_source: HashSource
    freeze: bool


@dataclass(frozen=True, slots=True)
class LinePackage:
    """A line's package and any extra files read to name it (a local ``pyproject.toml``)."""

    line: RequirementLine
    package: Package
    files_read: tuple[tuple[Path, bytes], ...] = ()


def _fail(line: RequirementLine, message: str) -> ReaderError:
    return ReaderError(line.path, message, line=line.line)


def _extras_of(text: str) -> tuple[str, tuple[str, ...]]:
    match = _EXTRAS.match(text)
    if match is None or match.group("extras") is None:
        return text, ()
    extras = tuple(e.strip() for e in match.group("extras").split(",") if e.strip())
    return match.group("base"), extras


def _is_url(location: str) -> bool:
    """A URL (not a Windows drive letter): a VCS URL, ``file:`` or ``scheme://``."""
    return bool(_URL.match(location)) and (
        is_vcs_url(location) or "://" in location or location.lower().startswith("file:")
    )


def _looks_like_location(text: str) -> bool:
    head = text.split(";", 1)[0].strip()
    return (
        bool(_URL.match(head))
        or head.startswith((".", "/", "~"))
        or head.lower().endswith(ARCHIVE_SUFFIXES)
    )


def _hash_source(
    hashes: tuple[Hash, ...], line_hashes: bool, ctx: LineContext
) -> HashSource | None:
    if not hashes:
        return None
    return HashSource.LOCK if line_hashes else ctx.fragment_hash_source


def _local_project(line: RequirementLine, location: str) -> tuple[str, str | None, Path, bytes]:
    """Name and static version from a local project's pyproject.toml, or a ReaderError."""
    pyproject = line.path.parent / location / "pyproject.toml"
    unknown = (
        f"cannot tell which package {location!r} installs: no '#egg=<name>' and no"
        " [project] name in a pyproject.toml there"
    )
    if not pyproject.is_file():
        raise _fail(line, unknown)
    data = read_bytes(pyproject)
    project = parse_toml(pyproject, decode(pyproject, data)).get("project")
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        raise _fail(line, unknown)
    version = project.get("version")
    dynamic = project.get("dynamic")
    static = isinstance(version, str) and not (isinstance(dynamic, list) and "version" in dynamic)
    return str(project["name"]).strip(), str(version) if static else None, pyproject, data


def _location_package(
    line: RequirementLine, text: str, markers: str | None, ctx: LineContext
) -> LinePackage:
    """A bare URL / path line, or the value of ``-e``."""
    location, extras = _extras_of(text.strip())
    ref: DirectReference = (
        parse_url(line.path, location, editable=line.editable, line=line.line)
        if _is_url(location)
        else parse_local_path(location, editable=line.editable)
    )
    name: str | None = None
    version: str | None = None
    files: tuple[tuple[Path, bytes], ...] = ()
    if ref.egg:
        name, egg_extras = _extras_of(ref.egg)
        extras = extras or egg_extras
    if ctx.freeze and line.editable:
        for comment in reversed(line.lead_comments):
            if match := _FREEZE_EDITABLE.search(comment):
                name, version = name or match.group("name"), match.group("version")
                break
    if name is None and ref.filename_name:
        name = ref.filename_name
    if name is not None and version is None and name_matches(name, ref.filename_name):
        version = ref.filename_version
    if name is None and ref.origin.kind is OriginKind.DIRECTORY and not ctx.freeze:
        project_dir = ref.origin.path or location
        name, version, pyproject, data = _local_project(line, project_dir)
        files = ((pyproject, data),)
    if name is None:
        raise _fail(line, f"cannot tell which package {text!r} installs: add '#egg=<name>'")
    if not _NAME.fullmatch(name):
        raise _fail(line, f"{name!r} is not a valid package name")
    package = Package(
        name=name,
        version_raw=version,
        hashes=(*line.hashes, *ref.hashes),
        hash_source=_hash_source((*line.hashes, *ref.hashes), bool(line.hashes), ctx),
        origin=ref.origin,
        markers=markers,
        extras=extras,
    )
    return LinePackage(line, package, files)


def _pin(line: RequirementLine, req: Requirement) -> tuple[str | None, str | None]:
    """(exact version, remaining specifier) of a PEP 508 requirement without a URL."""
    specs = list(req.specifier)
    exact: list[Specifier] = [
        s for s in specs if s.operator == "===" or (s.operator == "==" and "*" not in s.version)
    ]
    if len({s.version for s in exact}) > 1:
        raise _fail(line, f"{req.name} pins more than one version: {req.specifier}")
    if not exact:
        return None, str(req.specifier) or None
    rest = sorted(str(s) for s in specs if str(s) != str(exact[0]))
    return exact[0].version, ",".join(rest) or None


def line_package(line: RequirementLine, ctx: LineContext) -> LinePackage:
    """The package one requirement line names."""
    text = line.text
    if line.editable:
        return _location_package(line, text, None, ctx)
    separator = "; " if _URL.match(text) else ";"
    head, _, marker_text = text.partition(separator)
    bare_archive = "@" not in head and head.strip().lower().endswith(ARCHIVE_SUFFIXES)
    if bare_archive or (_looks_like_location(text) and not _is_pep508(text)):
        markers = None
        if marker_text.strip():
            try:
                markers = str(Marker(marker_text.strip()))
            except InvalidMarker as exc:
                raise _fail(line, f"invalid environment marker: {exc}") from None
        return _location_package(line, head, markers, ctx)
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        message = str(exc).splitlines()[0]
        raise _fail(line, f"invalid requirement {text!r}: {message}") from None
    markers = str(req.marker) if req.marker is not None else None
    if req.url is not None:
        ref = (
            parse_url(line.path, req.url, editable=False, line=line.line)
            if _is_url(req.url)
            else parse_local_path(req.url, editable=False)
        )
        version = ref.filename_version if name_matches(req.name, ref.filename_name) else None
        hashes = (*line.hashes, *ref.hashes)
        package = Package(
            name=req.name,
            version_raw=version,
            hashes=hashes,
            hash_source=_hash_source(hashes, bool(line.hashes), ctx),
            origin=ref.origin,
            markers=markers,
            extras=tuple(req.extras),
        )
        return LinePackage(line, package)
    version, specifier = _pin(line, req)
    package = Package(
        name=req.name,
        version_raw=version,
        specifier=specifier,
        hashes=line.hashes,
        hash_source=_hash_source(line.hashes, True, ctx),
        origin=ctx.index_origin,
        markers=markers,
        extras=tuple(req.extras),
    )
    return LinePackage(line, package)


def _is_pep508(text: str) -> bool:
    try:
        Requirement(text)
    except InvalidRequirement:
        return False
    return True
