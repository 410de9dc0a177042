"""Reads ``Pipfile.lock`` (``pipfile-spec`` 6), pipenv's lock file.

The lock has a ``default`` section (the Pipfile's ``[packages]``), a
``develop`` section (``[dev-packages]``) and one section per custom pipenv
category.  Each name becomes one package; the sections it is listed in are
``Package.groups`` (``develop`` marks development packages).
A name listed in several sections with the same version and origin is kept
once (hashes, extras and markers merged) and a note says so; with a different
version or origin each entry is kept and a note says so.

``requested``: the lock does not say which packages the project asked for.
When a ``Pipfile`` sits beside the lock, the names in its ``[packages]``,
``[dev-packages]`` and category tables are True, the rest False, and the
digest covers both files; otherwise None, with a note.

``index`` names are resolved to URLs through ``_meta.sources``; an entry with
no ``index`` keeps an index origin with no URL.  ``git``/``hg``/``svn``/``bzr``
entries are VCS origins (``ref`` is the commit when it is a full hex digest),
``path`` entries local ones, ``file`` entries direct URLs (or local files).
Entries without an exact ``==`` pin keep ``version_raw=None`` and are named in
a note; a direct archive URL's version is read from its wheel or sdist file
name when the name matches.  Pipfile.lock records no graph: ``dependencies``
are empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NoReturn
from urllib.parse import unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from assay.environments.model import (
    Environment,
    Hash,
    HashSource,
    Origin,
    OriginKind,
    Package,
    Source,
)
from assay.environments.ports import EnvironmentReader, ReaderError
from assay.environments.readers._files import (
    decode,
    digest,
    digest_files,
    parse_json,
    parse_toml,
    read_bytes,
    sniff_file,
)

_SPEC = 6
_VCS = ("git", "hg", "svn", "bzr")
_COMMIT = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
_HASH = re.compile(r"([A-Za-z0-9_-]+):([0-9a-fA-F]+)")
_PIPFILE_SECTIONS = {"packages": "default", "dev-packages": "develop"}
_UNUSABLE = "Pipfile beside the lock is unusable, requested is unknown"
_PIPFILE_OTHER = frozenset({"source", "requires", "pipenv", "scripts"})


@dataclass(frozen=True, slots=True)
class _Doc:
    path: Path
    text: str

    def fail(self, message: str, section: str | None = None, name: str | None = None) -> NoReturn:
        raise ReaderError(self.path, message, line=self.line_of(section, name))

    def line_of(self, section: str | None, name: str | None) -> int | None:
        """The line of ``"name":`` inside ``"section":`` (pipenv writes indented JSON)."""
        if section is None:
            return None
        start = self.text.find(f'"{section}":')
        if start < 0:
            return None
        if name is not None:
            found = self.text.find(f'"{name}":', start)
            start = found if found >= 0 else start
        return self.text.count("\n", 0, start) + 1


@dataclass(slots=True)
class _Entry:
    name: str
    version: str | None
    specifier: str | None
    origin: Origin
    hashes: set[Hash]
    markers: str | None
    extras: set[str]
    sections: list[str]
    from_file_name: bool = False


def _str(doc: _Doc, value: Any, what: str, section: str | None, name: str | None) -> str | None:
    if value is not None and not isinstance(value, str):
        doc.fail(f"{what} must be a string, found {type(value).__name__}", section, name)
    return value


def _meta(
    doc: _Doc, data: dict[str, Any]
) -> tuple[dict[str, str], list[tuple[str, str]], str | None]:
    meta = data.get("_meta")
    if not isinstance(meta, dict):
        doc.fail(
            "no _meta table (not a Pipfile.lock?)" if meta is None else "_meta must be a mapping",
            "_meta",
        )
    spec = meta.get("pipfile-spec")
    if spec is None:
        doc.fail("_meta has no pipfile-spec", "_meta")
    if isinstance(spec, bool) or spec != _SPEC:
        doc.fail(f"unsupported pipfile-spec {spec!r}; this reader understands {_SPEC}", "_meta")
    properties = [("pipfile-spec", str(spec))]
    hashed = meta.get("hash", {})
    if not isinstance(hashed, dict):
        doc.fail("_meta.hash must be a mapping", "_meta")
    sha = _str(doc, hashed.get("sha256"), "_meta.hash.sha256", "_meta", None)
    if sha:
        properties.append(("pipfile-hash", f"sha256:{sha}"))
    requires = meta.get("requires", {})
    if not isinstance(requires, dict):
        doc.fail("_meta.requires must be a mapping", "_meta")
    python = _str(doc, requires.get("python_full_version"), "python_full_version", "_meta", None)
    python = python or _str(doc, requires.get("python_version"), "python_version", "_meta", None)
    sources: dict[str, str] = {}
    raw_sources = meta.get("sources", [])
    if not isinstance(raw_sources, list):
        doc.fail("_meta.sources must be a list", "_meta")
    for item in raw_sources:
        if not isinstance(item, dict):
            doc.fail("_meta.sources entries must be mappings", "sources")
        source_name = _str(doc, item.get("name"), "source name", "sources", None)
        url = _str(doc, item.get("url"), "source url", "sources", None)
        if not source_name or not url:
            doc.fail("a _meta.sources entry lacks its name or url", "sources")
        if "verify_ssl" in item and not isinstance(item["verify_ssl"], bool):
            doc.fail(f"source {source_name!r} verify_ssl must be true or false", "sources")
        sources[source_name] = url
        properties.append((f"source:{source_name}", url))
    return sources, properties, python


def _version(doc: _Doc, raw: Any, section: str, name: str) -> tuple[str | None, str | None]:
    """(version_raw, specifier) from a ``version`` value such as ``==1.2``."""
    text = _str(doc, raw, f"{name} version", section, name)
    if text is None or text.strip() in ("", "*"):
        return None, None
    text = text.strip()
    for operator in ("===", "=="):
        pinned = text.removeprefix(operator).strip()
        if text.startswith(operator) and pinned and "," not in pinned and "*" not in pinned:
            return pinned, None
    return None, text


def _hashes(doc: _Doc, raw: Any, section: str, name: str) -> set[Hash]:
    if raw is None:
        return set()
    if not isinstance(raw, list):
        doc.fail(f"{name} hashes must be a list", section, name)
    found = set()
    for item in raw:
        match = _HASH.fullmatch(item) if isinstance(item, str) else None
        if match is None:
            doc.fail(f"{name} hash {item!r} is not of the form algorithm:hex", section, name)
        found.add(Hash(match.group(1), match.group(2)))
    return found


def _origin(
    doc: _Doc, entry: dict[str, Any], sources: dict[str, str], section: str, name: str
) -> Origin:
    editable = entry.get("editable", False)
    if not isinstance(editable, bool):
        doc.fail(f"{name} editable must be true or false", section, name)
    subdirectory = _str(doc, entry.get("subdirectory"), f"{name} subdirectory", section, name)
    for vcs in _VCS:
        url = _str(doc, entry.get(vcs), f"{name} {vcs}", section, name)
        if url:
            ref = _str(doc, entry.get("ref"), f"{name} ref", section, name)
            commit = ref if ref and _COMMIT.fullmatch(ref) else None
            return Origin(
                kind=OriginKind.VCS,
                vcs=vcs,
                url=url.removeprefix(f"{vcs}+"),
                commit=commit,
                requested_revision=None if commit else ref,
                subdirectory=subdirectory,
                editable=editable,
            )
    local = _str(doc, entry.get("path"), f"{name} path", section, name)
    if local:
        return Origin(
            kind=OriginKind.DIRECTORY, path=local, editable=editable, subdirectory=subdirectory
        )
    target = _str(doc, entry.get("file"), f"{name} file", section, name)
    if target:
        if "://" in target and not target.startswith("file:"):
            return Origin(kind=OriginKind.URL, url=target, subdirectory=subdirectory)
        return Origin(kind=OriginKind.DIRECTORY, path=target, editable=editable)
    index = _str(doc, entry.get("index"), f"{name} index", section, name)
    if index is None:
        return Origin(kind=OriginKind.INDEX)
    if index not in sources:
        doc.fail(f"{name} names index {index!r}, which _meta.sources does not list", section, name)
    return Origin(kind=OriginKind.INDEX, url=sources[index])


def _file_name_version(name: str, origin: Origin) -> str | None:
    location = origin.url or origin.path
    if origin.kind not in (OriginKind.URL, OriginKind.DIRECTORY) or not location:
        return None
    file_name = unquote(urlsplit(location).path.rsplit("/", 1)[-1])
    try:
        if file_name.endswith(".whl"):
            found, version, _, _ = parse_wheel_filename(file_name)
        else:
            found, version = parse_sdist_filename(file_name)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return str(version) if found == canonicalize_name(name) else None


def _entry(doc: _Doc, raw: Any, sources: dict[str, str], section: str, name: str) -> _Entry:
    if not isinstance(raw, dict):
        doc.fail(
            f"{section} entry {name!r} must be a mapping, found {type(raw).__name__}", section, name
        )
    version, specifier = _version(doc, raw.get("version"), section, name)
    origin = _origin(doc, raw, sources, section, name)
    derived = None if version or specifier else _file_name_version(name, origin)
    extras = raw.get("extras", [])
    if not isinstance(extras, list) or not all(isinstance(e, str) for e in extras):
        doc.fail(f"{name} extras must be a list of strings", section, name)
    return _Entry(
        name=name,
        version=version or derived,
        specifier=specifier,
        origin=origin,
        hashes=_hashes(doc, raw.get("hashes"), section, name),
        markers=_str(doc, raw.get("markers"), f"{name} markers", section, name) or None,
        extras=set(extras),
        sections=[section],
        from_file_name=derived is not None,
    )


def _merge(kept: _Entry, other: _Entry) -> None:
    kept.hashes |= other.hashes
    kept.extras |= other.extras
    kept.sections += other.sections
    if kept.markers != other.markers:
        kept.markers = (
            None
            if None in (kept.markers, other.markers)
            else f"({kept.markers}) or ({other.markers})"
        )


def _pipfile_names(path: Path) -> tuple[set[str] | None, bytes, str | None]:
    """Names a Pipfile beside the lock asks for, its bytes, or why it cannot be used."""
    if not path.is_file():
        return None, b"", None
    try:
        data = read_bytes(path)
        document = parse_toml(path, decode(path, data))
    except ReaderError as exc:
        return None, b"", f"{_UNUSABLE}: {exc}"
    names: set[str] = set()
    for key, table in document.items():
        if key in _PIPFILE_OTHER or (key not in _PIPFILE_SECTIONS and not isinstance(table, dict)):
            continue
        if not isinstance(table, dict):
            return (
                None,
                b"",
                f"{_UNUSABLE}: [{key}] is not a table",
            )
        names.update(canonicalize_name(name) for name in table)
    return names, data, None


class PipfileLockReader(EnvironmentReader):
    """``Pipfile.lock`` (pipfile-spec 6): pinned packages per section, hashes and indexes."""

    format_name: ClassVar[str] = "pipfile-lock"
    description: ClassVar[str] = "Pipfile.lock lock file written by pipenv"

    def sniff(self, path: Path) -> bool:
        return sniff_file(
            path,
            named=lambda name: name == "Pipfile.lock",
            content=lambda start: b'"_meta"' in start and b'"pipfile-spec"' in start,
        )

    def read(self, path: Path) -> Environment:
        raw = read_bytes(path)
        doc = _Doc(path, decode(path, raw))
        data = parse_json(path, doc.text)
        if not isinstance(data, dict):
            doc.fail(f"the top level must be a mapping, found {type(data).__name__}")
        sources, properties, python = _meta(doc, data)
        merged: dict[str, list[_Entry]] = {}
        notes: list[str] = []
        for section, body in data.items():
            if section == "_meta":
                continue
            if not isinstance(body, dict):
                doc.fail(
                    f"section {section!r} must be a mapping, found {type(body).__name__}", section
                )
            for name, value in body.items():
                entry = _entry(doc, value, sources, section, name)
                kept = merged.setdefault(canonicalize_name(name), [])
                same = [
                    e
                    for e in kept
                    if (e.version, e.specifier, e.origin)
                    == (entry.version, entry.specifier, entry.origin)
                ]
                if same:
                    _merge(same[0], entry)
                else:
                    kept.append(entry)
        wanted, pipfile_bytes, pipfile_note = _pipfile_names(path.parent / "Pipfile")
        packages = []
        for canonical, entries in sorted(merged.items()):
            sections = sorted({s for e in entries for s in e.sections})
            if len(sections) > 1:
                how = (
                    "kept once"
                    if len(entries) == 1
                    else f"with {len(entries)} different pins, each kept"
                )
                notes.append(f"{canonical} is listed in {' and '.join(sections)} ({how})")
            for entry in entries:
                packages.append(
                    Package(
                        name=entry.name,
                        version_raw=entry.version,
                        specifier=entry.specifier,
                        hashes=tuple(entry.hashes),
                        hash_source=HashSource.LOCK if entry.hashes else None,
                        origin=entry.origin,
                        installer="pipenv",
                        requested=None if wanted is None else canonical in wanted,
                        markers=entry.markers,
                        extras=tuple(entry.extras),
                        groups=tuple(entry.sections),
                    )
                )
        notes.extend(
            _notes(packages, [e for es in merged.values() for e in es], wanted, pipfile_note)
        )
        source_digest = digest(raw)
        if wanted is not None:
            source_digest = digest_files([(path.name, raw), ("Pipfile", pipfile_bytes)])
        return Environment(
            source=Source(kind=self.format_name, path=str(path), digest=source_digest),
            packages=tuple(packages),
            python_version=python,
            notes=tuple(notes),
            properties=tuple(properties),
        )


def _notes(
    packages: list[Package],
    entries: list[_Entry],
    wanted: set[str] | None,
    pipfile_note: str | None,
) -> list[str]:
    notes = []
    unpinned = [f"{p.name} ({_unpinned_reason(p)})" for p in packages if not p.pinned]
    if unpinned:
        notes.append(f"{len(unpinned)} package(s) have no locked version: {', '.join(unpinned)}")
    derived = sorted(f"{e.name} {e.version}" for e in entries if e.from_file_name)
    if derived:
        notes.append(
            f"version read from the archive file name of a direct reference: {', '.join(derived)}"
        )
    if pipfile_note:
        notes.append(pipfile_note)
    elif wanted is None:
        notes.append(
            "Pipfile.lock does not record which packages the project asked for and no Pipfile"
            " sits beside it: requested is unknown"
        )
    notes.append("Pipfile.lock records no dependency graph: dependencies are empty")
    return notes


def _unpinned_reason(package: Package) -> str:
    if package.specifier:
        return package.specifier
    origin = package.origin
    if origin.kind is OriginKind.INDEX:
        return "any version"
    return f"{origin.describe()} {origin.url or origin.path or ''}".strip()
