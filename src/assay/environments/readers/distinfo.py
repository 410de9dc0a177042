"""One installed distribution's metadata directory (``*.dist-info`` or ``*.egg-info``).

Shared by the ``installed`` and ``conda-prefix`` readers.  Only metadata files
are read (METADATA/PKG-INFO headers, INSTALLER, REQUESTED, direct_url.json,
RECORD, requires.txt); package code is never imported or executed.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.utils import canonicalize_name

from assay.environments import core_metadata, licenses
from assay.environments.graph import requirement_edges
from assay.environments.model import Hash, HashSource, Origin, OriginKind, Package
from assay.environments.ports import ReaderError
from assay.environments.readers._direct_url import from_direct_url
from assay.environments.readers._files import (
    decode,
    parse_json,
    read_bytes,
)

METADATA_SUFFIXES = (".dist-info", ".egg-info")
SITE_DIR_NAMES = ("site-packages", "dist-packages")

# Core metadata fields this module uses; every other header is skipped unparsed.
_WANTED = frozenset(
    {
        "name",
        "version",
        "license-expression",
        "license",
        "classifier",
        "requires-dist",
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
_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Distribution:
    """A parsed metadata directory: the package (without dependencies yet) and what was read.

    ``requires`` are the ``Requires-Dist`` lines (for egg-info: ``requires.txt``
    converted to the same form); ``files`` are ``(relative path, bytes)`` of every
    file read, for the source digest.
    """

    package: Package
    requires: tuple[str, ...]
    files: tuple[tuple[str, bytes], ...]
    location: Path


def is_metadata_dir(name: str) -> bool:
    return name.endswith(METADATA_SUFFIXES)


def metadata_entries(site: Path) -> list[Path]:
    """The ``*.dist-info`` / ``*.egg-info`` entries of one site directory, sorted by name."""
    try:
        with os.scandir(site) as entries:
            found = [Path(entry.path) for entry in entries if is_metadata_dir(entry.name)]
    except FileNotFoundError:
        raise ReaderError(site, "no such directory") from None
    except NotADirectoryError:
        raise ReaderError(site, "is not a directory") from None
    except OSError as exc:
        raise ReaderError(site, f"cannot list directory: {exc.strerror or exc}") from None
    return sorted(found, key=lambda p: p.name)


def read_installer(meta: Path) -> str | None:
    """The INSTALLER of a metadata directory, without reading anything else."""
    path = meta / "INSTALLER"
    if not path.is_file():
        return None
    return decode(path, read_bytes(path, 4096)).strip() or None


def parse_headers(path: Path, data: bytes) -> dict[str, list[str]]:
    """The core-metadata headers (RFC 822 style) up to the first blank line.

    Only the fields in ``_WANTED`` are kept (lower-cased keys, every occurrence).
    The body is never decoded.  A line that is neither a header nor a
    continuation ends the headers, as the ``email`` parser does.
    """
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    end = data.find(b"\n\n")
    text = decode(path, data if end < 0 else data[:end])
    fields: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.split("\n"):
        if line[:1] in (" ", "\t"):
            if current is not None:
                current[-1] += "\n" + (line[8:] if line.startswith(" " * 8) else line.strip())
            continue
        key, sep, value = line.partition(":")
        if not sep or not key or " " in key:
            break
        lowered = key.lower()
        if lowered in _WANTED:
            bucket = fields.setdefault(lowered, [])
            bucket.append(value.strip())
            current = bucket
        else:
            current = None
    return fields


def _egg_requires(text: str) -> Iterator[str]:
    """``requires.txt`` lines as Requires-Dist (sections ``[extra]``, ``[:marker]``, both)."""
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        extra, _, marker = section.partition(":")
        conditions = [f"({marker.strip()})"] if marker.strip() else []
        if extra.strip():
            conditions.append(f'extra == "{extra.strip()}"')
        yield f"{line}; {' and '.join(conditions)}" if conditions else line


def _first(fields: Mapping[str, list[str]], key: str) -> str | None:
    values = fields.get(key)
    return values[0] if values else None


def metadata_details(fields: Mapping[str, list[str]]) -> core_metadata.Details:
    """Summary, authors, maintainers and links from parsed headers (see :func:`parse_headers`)."""
    return core_metadata.details(
        summary=_first(fields, "summary"),
        author=_first(fields, "author"),
        author_email=_first(fields, "author-email"),
        maintainer=_first(fields, "maintainer"),
        maintainer_email=_first(fields, "maintainer-email"),
        home_page=_first(fields, "home-page"),
        download_url=_first(fields, "download-url"),
        project_url=fields.get("project-url", ()),
    )


class _MetaFiles:
    """The files of one metadata directory, read at most once and recorded for the digest."""

    def __init__(self, meta: Path, prefix: str) -> None:
        self.meta = meta
        self.prefix = prefix
        self.files: list[tuple[str, bytes]] = []
        if meta.is_file():  # an old distutils egg-info: the file itself is PKG-INFO
            self.names: set[str] = set()
        else:
            try:
                self.names = {entry.name for entry in meta.iterdir()}
            except OSError as exc:
                raise ReaderError(meta, f"cannot list directory: {exc.strerror or exc}") from None

    def metadata(self) -> tuple[Path, bytes]:
        if self.meta.is_file():
            path, rel = self.meta, self.prefix
        else:
            file_name = "METADATA" if self.meta.name.endswith(".dist-info") else "PKG-INFO"
            path, rel = self.meta / file_name, f"{self.prefix}/{file_name}"
        data = read_bytes(path)
        self.files.append((rel, data))
        return path, data

    def read(self, file_name: str) -> bytes | None:
        if file_name not in self.names:
            return None
        data = read_bytes(self.meta / file_name)
        self.files.append((f"{self.prefix}/{file_name}", data))
        return data

    def text(self, file_name: str) -> str | None:
        data = self.read(file_name)
        return None if data is None else decode(self.meta / file_name, data)


def _provenance(
    meta: _MetaFiles, installer: str | None
) -> tuple[Origin, tuple[Hash, ...], HashSource | None]:
    """Origin and hashes: direct_url.json (PEP 610) first, else the RECORD file's own digest."""
    origin = Origin(
        kind=OriginKind.INDEX if installer not in (None, "conda") else OriginKind.UNKNOWN
    )
    hashes: tuple[Hash, ...] = ()
    direct = meta.text("direct_url.json")
    if direct is not None:
        direct_path = meta.meta / "direct_url.json"
        origin, hashes = from_direct_url(
            direct_path, parse_json(direct_path, direct), "direct_url.json"
        )
    record = meta.read("RECORD")
    if hashes:
        return origin, hashes, HashSource.REPORT
    if record is not None:
        return origin, (Hash("sha256", hashlib.sha256(record).hexdigest()),), HashSource.RECORD
    return origin, (), None


def read_distribution(meta: Path, rel_root: str) -> Distribution:
    """Parse one metadata directory (or a single-file ``*.egg-info``).

    ``rel_root`` is the posix path prefix used for the files' relative paths in
    the source digest (e.g. ``lib/python3.11/site-packages``).
    """
    files = _MetaFiles(meta, f"{rel_root}/{meta.name}" if rel_root else meta.name)
    metadata_path, raw = files.metadata()
    fields = parse_headers(metadata_path, raw)
    name = _first(fields, "name")
    version = _first(fields, "version")
    if not name:
        raise ReaderError(metadata_path, "has no Name field")
    if not _NAME.match(name):
        raise ReaderError(metadata_path, f"Name is not a valid distribution name: {name!r}")
    if not version:
        raise ReaderError(metadata_path, "has no Version field")

    requires = tuple(fields.get("requires-dist", ()))
    if meta.name.endswith(".egg-info"):
        requires_txt = files.text("requires.txt")
        if requires_txt is not None and not requires:
            requires = tuple(_egg_requires(requires_txt))
    installer_text = files.text("INSTALLER")
    installer = installer_text.strip() or None if installer_text is not None else None
    if "REQUESTED" in files.names:
        requested: bool | None = True
    else:
        requested = False if installer is not None else None
    origin, hashes, hash_source = _provenance(files, installer)
    package = Package(
        name=name,
        version_raw=version,
        hashes=hashes,
        hash_source=hash_source,
        origin=origin,
        installer=installer,
        requested=requested,
        license=licenses.from_metadata(
            _first(fields, "license-expression"),
            _first(fields, "license"),
            fields.get("classifier", ()),
        ),
        **metadata_details(fields),
    )
    return Distribution(package=package, requires=requires, files=tuple(files.files), location=meta)


@dataclass(frozen=True, slots=True)
class CoreDetails:
    """The core-metadata details of a metadata directory read for them alone."""

    canonical_name: str
    version: str | None
    details: core_metadata.Details
    files: tuple[tuple[str, bytes], ...]


def read_core_details(meta: Path, rel_root: str) -> CoreDetails | None:
    """Name, version and details of a metadata directory whose package another record owns.

    None when the metadata has no name.  Reading errors raise :class:`ReaderError`.
    """
    files = _MetaFiles(meta, f"{rel_root}/{meta.name}" if rel_root else meta.name)
    metadata_path, raw = files.metadata()
    fields = parse_headers(metadata_path, raw)
    name = _first(fields, "name")
    if not name:
        return None
    return CoreDetails(
        canonical_name=canonicalize_name(name),
        version=_first(fields, "version"),
        details=metadata_details(fields),
        files=tuple(files.files),
    )


_PYTHON_DIR = re.compile(r"^python(\d+)\.(\d+)[a-z]*$")


def python_from_lib_dir(name: str) -> str | None:
    """``python3.11`` (or ``python3.13t``) -> ``3.11``."""
    match = _PYTHON_DIR.match(name)
    return f"{match.group(1)}.{match.group(2)}" if match else None


def find_site_dirs(prefix: Path) -> list[Path]:
    """Site directories of a prefix: ``lib*/pythonX.Y/site-packages`` and ``Lib/site-packages``.

    Symlinked duplicates (a venv's ``lib64 -> lib``) are listed once.
    """
    candidates: list[Path] = []
    for lib in ("lib", "lib64", "Lib"):
        base = prefix / lib
        if not base.is_dir():
            continue
        site = base / "site-packages"
        if site.is_dir():
            candidates.append(site)
        try:
            children = sorted(entry.name for entry in base.iterdir())
        except OSError as exc:
            raise ReaderError(base, f"cannot list directory: {exc.strerror or exc}") from None
        for child in children:
            if python_from_lib_dir(child) is not None:
                candidates.extend(
                    base / child / name for name in SITE_DIR_NAMES if (base / child / name).is_dir()
                )
    unique: dict[Path, Path] = {}
    for site in candidates:
        unique.setdefault(site.resolve(), site)
    return list(unique.values())


_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _may_be_installed(line: str, installed: set[str]) -> bool:
    """Cheap pre-filter: skip parsing requirements whose name is not installed anyway."""
    match = _REQUIREMENT_NAME.match(line)
    return match is None or canonicalize_name(match.group(1)) in installed


def link_dependencies(
    distributions: list[Distribution], installed: set[str], environment: Mapping[str, str]
) -> list[Package]:
    """Each distribution's package with ``dependencies``: requirements that apply, installed."""
    packages: list[Package] = []
    for dist in distributions:
        lines = [line for line in dist.requires if _may_be_installed(line, installed)]
        edges = [
            name
            for name in requirement_edges(lines, environment)
            if name in installed and name != dist.package.canonical_name
        ]
        packages.append(replace(dist.package, dependencies=tuple(edges)))
    return packages


def duplicate_notes(distributions: list[Distribution], root: Path) -> list[str]:
    """A note for every name installed by more than one metadata directory."""
    by_name: dict[str, list[Distribution]] = {}
    for dist in distributions:
        by_name.setdefault(dist.package.canonical_name, []).append(dist)
    notes: list[str] = []
    for name, group in sorted(by_name.items()):
        if len(group) > 1:
            where = ", ".join(_relative(d.location, root) for d in group)
            notes.append(
                f"{name} is installed {len(group)} times (broken environment; both kept): {where}"
            )
    return notes


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
