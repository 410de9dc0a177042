"""Reads ``pdm.lock`` (``lock_version`` 4.x, PDM 2).

PDM writes a package once per set of extras: ``requests`` and, separately,
``requests`` with ``extras = ["socks"]`` whose dependencies are the extra's.
Entries with the same name, version and source are merged into one package
carrying the extras.  pdm.lock does not record the project or which packages it
asked for, so ``requested`` is ``None``; the groups a package belongs to are
kept in ``Package.groups``.
"""

from __future__ import annotations

import re
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
from assay.environments.readers._files import sniff_file

_SUPPORTED_MAJOR = 4
_VCS_KEYS = ("git", "hg", "svn", "bzr")


@dataclass(slots=True)
class _Entry:
    index: int
    name: str
    version: str | None
    origin: Origin
    marker: str | None
    hashes: list[Hash]
    dependencies: list[str]
    extras: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)


def _origin(doc: ls.LockDocument, entry: dict[str, Any], label: str, index: int) -> Origin:
    subdirectory = ls.opt_string(doc, entry.get("subdirectory"), f"{label} subdirectory", index)
    kinds = [key for key in (*_VCS_KEYS, "url", "path") if key in entry]
    if len(kinds) > 1:
        doc.fail(f"{label} names more than one source ({', '.join(kinds)})", index)
    if not kinds:
        return Origin(kind=OriginKind.INDEX)
    kind = kinds[0]
    location = ls.string(doc, entry[kind], f"{label} {kind}", index)
    if kind in _VCS_KEYS:
        revision = ls.opt_string(doc, entry.get("revision"), f"{label} revision", index)
        if revision is None:
            doc.fail(f"{label} is locked from {kind} without a revision", index)
        return Origin(
            kind=OriginKind.VCS,
            vcs=kind,
            url=location,
            commit=revision,
            requested_revision=ls.opt_string(doc, entry.get("ref"), f"{label} ref", index),
            subdirectory=subdirectory,
        )
    if kind == "url":
        return Origin(kind=OriginKind.URL, url=location, subdirectory=subdirectory)
    return Origin(
        kind=OriginKind.DIRECTORY,
        path=location,
        editable=ls.opt_bool(doc, entry.get("editable"), f"{label} editable", index),
        subdirectory=subdirectory,
    )


def _entry(doc: ls.LockDocument, raw: Any, index: int) -> _Entry:
    entry = ls.table(doc, raw, f"package #{index + 1}", index)
    name = ls.package_name(doc, entry, index)
    label = ls.entry_label(entry, index)
    for key in ("requires_python", "summary"):
        ls.opt_string(doc, entry.get(key), f"{label} {key}", index)
    hashes = []
    for item in ls.array(doc, entry.get("files", []), f"{label} files", index):
        artifact = ls.table(doc, item, f"{label} file", index)
        if "file" not in artifact and "url" not in artifact:
            doc.fail(f"{label} file entry has neither file nor url", index)
        ls.opt_string(doc, artifact.get("file"), f"{label} file name", index)
        ls.opt_string(doc, artifact.get("url"), f"{label} file url", index)
        if "hash" not in artifact:
            doc.fail(f"{label} file entry has no hash", index)
        hashes.append(ls.hash_string(doc, artifact["hash"], f"{label} file hash", index))
    own = canonicalize_name(name)
    return _Entry(
        index=index,
        name=name,
        version=ls.opt_string(doc, entry.get("version"), f"{label} version", index),
        origin=_origin(doc, entry, label, index),
        marker=ls.opt_string(doc, entry.get("marker"), f"{label} marker", index),
        hashes=hashes,
        dependencies=[
            dep
            for line in ls.array(doc, entry.get("dependencies", []), f"{label} dependencies", index)
            if (dep := ls.requirement_name(doc, line, f"{label} dependency", index)) != own
        ],
        extras={
            canonicalize_name(e)
            for e in ls.strings(doc, entry.get("extras"), f"{label} extras", index)
        },
        groups=set(ls.strings(doc, entry.get("groups"), f"{label} groups", index)),
    )


def _metadata(doc: ls.LockDocument) -> list[tuple[str, str]]:
    if "metadata" not in doc.data:
        doc.fail("no [metadata] table (not a PDM lock file?)")
    meta = ls.table(doc, doc.data["metadata"], "[metadata]")
    raw = meta.get("lock_version")
    if raw is None:
        doc.fail("no metadata.lock_version")
    version = ls.string(doc, raw, "metadata.lock_version")
    match = re.fullmatch(r"(\d+)(\.\d+)*", version.strip())
    if match is None:
        doc.fail(f"lock_version {version!r} is not a version number")
    if int(match.group(1)) != _SUPPORTED_MAJOR:
        doc.fail(
            f"unsupported lock_version {version}; this reader understands"
            f" {_SUPPORTED_MAJOR}.x (PDM 2)"
        )
    properties = [("pdm-lock-version", version)]
    for key, prop in (("groups", "pdm-group"), ("strategy", "pdm-strategy")):
        properties += [(prop, value) for value in ls.strings(doc, meta.get(key), f"metadata.{key}")]
    content_hash = ls.opt_string(doc, meta.get("content_hash"), "metadata.content_hash")
    if content_hash is not None:
        properties.append(("content-hash", content_hash))
    requires = ls.opt_string(doc, meta.get("requires_python"), "metadata.requires_python")
    if requires is not None:
        properties.append(("requires-python", requires))
    for item in ls.array(doc, meta.get("targets", []), "metadata.targets"):
        target = ls.table(doc, item, "metadata.targets entry")
        for key, value in sorted(target.items()):
            text = ls.string(doc, value, f"metadata.targets {key}")
            prop = "requires-python" if key == "requires_python" else f"target-{key}"
            properties.append((prop, text))
    return properties


def _merge(first: _Entry, second: _Entry) -> _Entry:
    """One package from two entries (the plain one and one per set of extras)."""
    plain, other = (second, first) if first.extras and not second.extras else (first, second)
    marker = plain.marker
    if other.marker != plain.marker:
        # The extras entry copies the plain one's marker; differing markers widen it.
        marker = (
            None
            if None in (plain.marker, other.marker)
            else (f"({plain.marker}) or ({other.marker})")
        )
    return _Entry(
        index=plain.index,
        name=plain.name,
        version=plain.version,
        origin=plain.origin,
        marker=marker,
        hashes=plain.hashes + other.hashes,
        dependencies=plain.dependencies + other.dependencies,
        extras=plain.extras | other.extras,
        groups=plain.groups | other.groups,
    )


class PdmLockReader(EnvironmentReader):
    """``pdm.lock`` 4.x: packages with their files' hashes, sources and groups."""

    format_name: ClassVar[str] = "pdm-lock"
    description: ClassVar[str] = "pdm.lock lock file written by PDM 2"

    def sniff(self, path: Path) -> bool:
        return sniff_file(
            path,
            named=lambda name: name == "pdm.lock",
            content=lambda start: b"[metadata]" in start and b"lock_version" in start,
        )

    def read(self, path: Path) -> Environment:
        doc = ls.load_lock(path, "package")
        properties = _metadata(doc)
        merged: dict[tuple[str, str | None, Origin], _Entry] = {}
        for index, raw in enumerate(ls.array(doc, doc.data.get("package", []), "package")):
            entry = _entry(doc, raw, index)
            key = (canonicalize_name(entry.name), entry.version, entry.origin)
            if key not in merged:
                merged[key] = entry
                continue
            merged[key] = _merge(merged[key], entry)
        packages = []
        for entry in merged.values():
            packages.append(
                Package(
                    name=entry.name,
                    version_raw=entry.version,
                    hashes=tuple(entry.hashes),
                    hash_source=HashSource.LOCK if entry.hashes else None,
                    origin=entry.origin,
                    installer="pdm",
                    markers=entry.marker,
                    extras=tuple(entry.extras),
                    dependencies=tuple(entry.dependencies),
                    groups=tuple(entry.groups),
                )
            )
        notes = []
        unversioned = sum(1 for package in packages if not package.pinned)
        if unversioned:
            notes.append(ls.unversioned_note(unversioned, "local or VCS sources"))
        return Environment(
            source=Source(kind=self.format_name, path=str(path), digest=doc.digest),
            packages=tuple(packages),
            notes=tuple(notes),
            properties=tuple(properties),
        )
