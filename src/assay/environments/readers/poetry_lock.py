"""Reads ``poetry.lock``, lock-version 1.x and 2.x (Poetry 1.0 to 2.x).

The layouts differ in where hashes live: lock-version 1.x keeps them in
``[metadata.files]`` keyed by package name (hashes of a name locked at several
versions are split by the version in each file name); 2.x keeps a ``files``
array in each ``[[package]]``.  1.x packages have a ``category`` (main/dev),
2.1 packages have ``groups`` and ``markers`` (a string, or a table per group,
combined here with ``or``).  Groups go to ``Package.groups``; packages
marked ``optional = true`` (installed only through an extra) also get the
group ``optional``.  Every ``[[package]]`` is a package, including every
version of a name locked several times for different environments.

poetry.lock does not say which packages the project asked for.  When a
``pyproject.toml`` sits beside the lock, its ``[project]`` dependencies,
optional dependencies and ``[dependency-groups]``, and ``[tool.poetry]``
dependencies, dev-dependencies and group dependencies are the direct ones
(``requested`` True, the rest False) and the digest covers both files.
Otherwise ``requested`` is None and a note says so.

A package's ``extras`` are those selected for it: asked for by a dependent in
the lock or by pyproject.toml.  Its ``dependencies`` are the names in
``[package.dependencies]`` that the lock contains; an optional one only when a
selected extra names it (or, with no pyproject.toml to say which extras the
project selected, whenever the lock contains it).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from packaging.utils import canonicalize_name

from assay.environments.model import (
    Environment,
    Hash,
    HashSource,
    Origin,
    OriginKind,
    Package,
    Source,
)
from assay.environments.ports import EnvironmentReader
from assay.environments.readers import _lock_support as ls
from assay.environments.readers._files import digest_files, sniff_file
from assay.environments.readers._poetry_support import (
    Manifest,
    file_hashes,
    load_lock,
    metadata_hashes,
    read_manifest,
)

_SUPPORTED_MAJORS = frozenset({1, 2})
_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


@dataclass(frozen=True, slots=True)
class _Dependency:
    name: str  # canonical
    optional: bool
    extras: tuple[str, ...]


@dataclass(slots=True)
class _Entry:
    name: str
    version: str
    origin: Origin
    source_name: str | None
    groups: tuple[str, ...]
    optional: bool
    marker: str | None
    hashes: list[Hash]
    dependencies: list[_Dependency]
    extras: dict[str, set[str]]  # extra -> canonical names it pulls in
    selected: set[str] = field(default_factory=set)

    @property
    def canonical(self) -> str:
        return canonicalize_name(self.name)


def _lock_version(doc: ls.LockDocument) -> tuple[str, dict[str, Any]]:
    if "metadata" not in doc.data:
        doc.fail("no [metadata] table (not a Poetry lock file?)")
    meta = ls.table(doc, doc.data["metadata"], "[metadata]")
    # Poetry itself reads a lock without lock-version as 1.0.
    version = ls.string(doc, meta.get("lock-version", "1.0"), "metadata.lock-version")
    match = re.fullmatch(r"(\d+)(?:\.\d+)*", version.strip())
    if match is None:
        doc.fail(f"lock-version {version!r} is not a version number")
    if int(match.group(1)) not in _SUPPORTED_MAJORS:
        doc.fail(f"unsupported lock-version {version}; this reader understands 1.x and 2.x")
    return version, meta


def _origin(doc: ls.LockDocument, entry: dict[str, Any], index: int) -> tuple[Origin, str | None]:
    """The package's origin and, for an index, the source's name in pyproject.toml."""
    develop = ls.opt_bool(doc, entry.get("develop"), "develop", index)
    raw = entry.get("source")
    if raw is None:
        return Origin(kind=OriginKind.INDEX), None  # Poetry's default index
    source = ls.table(doc, raw, "[package.source]", index)
    kind = ls.string(doc, source.get("type"), "source.type", index)
    url = ls.string(doc, source.get("url"), "source.url", index)
    reference = ls.opt_string(doc, source.get("reference"), "source.reference", index)
    resolved = ls.opt_string(
        doc, source.get("resolved_reference"), "source.resolved_reference", index
    )
    subdirectory = ls.opt_string(doc, source.get("subdirectory"), "source.subdirectory", index)
    if kind == "git":
        return Origin(
            kind=OriginKind.VCS,
            vcs="git",
            url=url.removeprefix("git+"),
            commit=resolved,
            requested_revision=reference or None,
            subdirectory=subdirectory,
        ), None
    if kind == "url":
        return Origin(kind=OriginKind.URL, url=url, subdirectory=subdirectory), None
    if kind in ("file", "directory"):
        return Origin(
            kind=OriginKind.DIRECTORY, path=url, editable=develop, subdirectory=subdirectory
        ), None
    if kind != "legacy":
        doc.fail(
            f"unknown source type {kind!r} (expected git, url, file, directory or legacy)", index
        )
    return Origin(kind=OriginKind.INDEX, url=url), reference


def _dependencies(doc: ls.LockDocument, value: Any, index: int) -> list[_Dependency]:
    found: list[_Dependency] = []
    for name, spec in ls.table(
        doc, {} if value is None else value, "[package.dependencies]", index
    ).items():
        what = f"dependency {name!r}"
        if isinstance(spec, str):
            specs: list[Any] = [{"version": spec}]
        elif isinstance(spec, list):
            specs = spec
        else:
            specs = [ls.table(doc, spec, what, index)]
        for item in specs:
            table = ls.table(doc, item, f"{what} constraint", index)
            ls.opt_string(doc, table.get("version"), f"{what} version", index)
            ls.opt_string(doc, table.get("markers"), f"{what} markers", index)
            found.append(
                _Dependency(
                    name=canonicalize_name(name),
                    optional=ls.opt_bool(doc, table.get("optional"), f"{what} optional", index),
                    extras=tuple(ls.strings(doc, table.get("extras"), f"{what} extras", index)),
                )
            )
    return found


def _extras(doc: ls.LockDocument, value: Any, index: int) -> dict[str, set[str]]:
    extras: dict[str, set[str]] = {}
    for extra, items in ls.table(
        doc, {} if value is None else value, "[package.extras]", index
    ).items():
        names: set[str] = set()
        for text in ls.strings(doc, items, f"extra {extra!r}", index):
            match = _REQUIREMENT_NAME.match(text)
            if match is None:
                doc.fail(f"extra {extra!r} entry {text!r} does not start with a name", index)
            names.add(canonicalize_name(match.group(1)))
        extras[canonicalize_name(extra)] = names
    return extras


def _marker(doc: ls.LockDocument, value: Any, groups: tuple[str, ...], index: int) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    per_group = ls.table(doc, value, "markers", index)
    conditions = []
    for group, text in per_group.items():
        conditions.append(ls.string(doc, text, f"markers.{group}", index))
    if any(group not in per_group for group in groups) or not conditions:
        return None  # some group installs it unconditionally
    unique = sorted(set(conditions))
    return unique[0] if len(unique) == 1 else " or ".join(f"({c})" for c in unique)


def _entry(doc: ls.LockDocument, raw: Any, index: int, layout_v1: bool) -> _Entry:
    entry = ls.table(doc, raw, f"package #{index + 1}", index)
    name = ls.package_name(doc, entry, index)
    label = ls.entry_label(entry, index)
    if "version" not in entry:
        doc.fail(f"{label} has no version", index)
    version = ls.string(doc, entry["version"], f"{label} version", index)
    if not version.strip():
        doc.fail(f"{label} has an empty version", index)
    for key in ("description", "python-versions", "category"):
        ls.opt_string(doc, entry.get(key), f"{label} {key}", index)
    groups = ls.strings(doc, entry.get("groups"), f"{label} groups", index)
    if not groups and entry.get("category") is not None:
        groups = [entry["category"]]
    origin, source_name = _origin(doc, entry, index)
    hashes: list[Hash] = []
    if not layout_v1 or "files" in entry:
        files = file_hashes(doc, entry.get("files", []), f"{label} files", index)
        hashes = [h for _, h in files if h is not None]
    return _Entry(
        name=name,
        version=version,
        origin=origin,
        source_name=source_name,
        groups=tuple(groups),
        optional=ls.opt_bool(doc, entry.get("optional"), f"{label} optional", index),
        marker=_marker(doc, entry.get("markers"), tuple(groups), index),
        hashes=hashes,
        dependencies=_dependencies(doc, entry.get("dependencies"), index),
        extras=_extras(doc, entry.get("extras"), index),
    )


def _select_extras(entries: list[_Entry], manifest: Manifest | None) -> None:
    by_name: dict[str, list[_Entry]] = defaultdict(list)
    for entry in entries:
        by_name[entry.canonical].append(entry)
    for entry in entries:
        for dep in entry.dependencies:
            for target in by_name.get(dep.name, []):
                target.selected.update(canonicalize_name(e) for e in dep.extras)
    if manifest is not None:
        for name, extras in manifest.extras.items():
            for target in by_name.get(name, []):
                target.selected.update(extras)


def _edges(entry: _Entry, present: set[str], manifest: Manifest | None) -> list[str]:
    chosen = set().union(*(entry.extras.get(e, set()) for e in entry.selected))
    names = []
    for dep in entry.dependencies:
        if dep.name not in present:
            continue
        if dep.optional and manifest is not None and dep.name not in chosen:
            continue
        names.append(dep.name)
    return names


def _looks_like_poetry(start: bytes) -> bool:
    if b"@generated by Poetry" in start[:200]:
        return True
    if b"[[package]]" not in start:
        return False
    return b"\npython-versions = " in start or (b"[metadata]" in start and b"content-hash" in start)


class PoetryLockReader(EnvironmentReader):
    """``poetry.lock`` 1.x/2.x: packages, hashes, sources, groups and the lock's graph."""

    format_name: ClassVar[str] = "poetry-lock"
    description: ClassVar[str] = "poetry.lock lock file written by Poetry 1.x or 2.x"

    def sniff(self, path: Path) -> bool:
        return sniff_file(
            path, named=lambda name: name == "poetry.lock", content=_looks_like_poetry
        )

    def read(self, path: Path) -> Environment:
        doc, raw_lock = load_lock(path)
        version, meta = _lock_version(doc)
        layout_v1 = version.strip().startswith("1")
        properties = [("poetry-lock-version", version)]
        for key in ("content-hash", "python-versions"):
            value = ls.opt_string(doc, meta.get(key), f"metadata.{key}")
            if value is not None:
                properties.append((key, value))
        raw_packages = ls.array(doc, doc.data.get("package", []), "package")
        entries = [_entry(doc, raw, index, layout_v1) for index, raw in enumerate(raw_packages)]
        notes: list[str] = []
        if layout_v1 or "files" in meta or "hashes" in meta:
            found, notes = metadata_hashes(doc, meta, [(e.canonical, e.version) for e in entries])
            for entry, hashes in zip(entries, found, strict=True):
                entry.hashes.extend(hashes)
        manifest, manifest_note = read_manifest(path.parent / "pyproject.toml")
        if manifest_note:
            notes.append(manifest_note)
        _select_extras(entries, manifest)
        present = {entry.canonical for entry in entries}
        packages = []
        versions: dict[str, list[str]] = defaultdict(list)
        for entry in entries:
            versions[entry.canonical].append(entry.version)
            if entry.source_name is not None and entry.origin.url is not None:
                properties.append((f"source:{entry.source_name}", entry.origin.url))
            packages.append(
                Package(
                    name=entry.name,
                    version_raw=entry.version,
                    hashes=tuple(entry.hashes),
                    hash_source=HashSource.LOCK if entry.hashes else None,
                    origin=entry.origin,
                    installer="poetry",
                    requested=None if manifest is None else entry.canonical in manifest.direct,
                    markers=entry.marker,
                    extras=tuple(entry.selected),
                    dependencies=tuple(_edges(entry, present, manifest)),
                    groups=tuple(entry.groups) + (("optional",) if entry.optional else ()),
                )
            )
        notes.extend(_notes(versions, manifest, present))
        digest = doc.digest
        if manifest is not None:
            digest = digest_files([(path.name, raw_lock), ("pyproject.toml", manifest.data)])
        return Environment(
            source=Source(kind=self.format_name, path=str(path), digest=digest),
            packages=tuple(packages),
            notes=tuple(notes),
            properties=tuple(properties),
        )


def _notes(
    versions: dict[str, list[str]], manifest: Manifest | None, present: set[str]
) -> list[str]:
    notes = []
    for name, locked in sorted(versions.items()):
        if len(locked) > 1:
            notes.append(
                f"{name} is locked at {len(locked)} versions for different environments:"
                f" {', '.join(locked)}"
            )
    if manifest is None:
        notes.append(
            "poetry.lock does not record which packages the project asked for and no"
            " pyproject.toml sits beside it: requested is unknown"
        )
    else:
        missing = sorted(manifest.direct - present)
        if missing:
            notes.append(
                "pyproject.toml asks for packages the lock does not contain (the lock may be"
                f" out of date): {', '.join(missing)}"
            )
    return notes
