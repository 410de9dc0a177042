"""Helpers for the poetry.lock reader: loading the lock, lock-version 1.x
``[metadata.files]`` hashes, and the direct dependencies a ``pyproject.toml``
beside the lock asks for.

A missing pyproject.toml gives no manifest; an unusable one gives no manifest
and a note saying why (the lock itself is still read).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from assay.environments.model import Hash
from assay.environments.ports import ReaderError
from assay.environments.readers import _lock_support as ls
from assay.environments.readers._files import decode, digest, parse_toml, read_bytes


def load_lock(path: Path) -> tuple[ls.LockDocument, bytes]:
    """The parsed lock, remembering where each ``[[package]]`` starts, and its bytes."""
    raw = read_bytes(path)
    text = decode(path, raw)
    data = parse_toml(path, text)
    lines = tuple(
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if line.split("#", 1)[0].strip() == "[[package]]"
    )
    entries = data.get("package")
    if not isinstance(entries, list) or len(entries) != len(lines):
        lines = ()
    return ls.LockDocument(path=path, data=data, digest=digest(raw), package_lines=lines), raw


def file_hashes(
    doc: ls.LockDocument, value: Any, what: str, index: int | None
) -> list[tuple[str, Hash | None]]:
    """``[{file, hash}]`` entries as (file name, hash) pairs; an empty hash is None."""
    pairs: list[tuple[str, Hash | None]] = []
    where = -1 if index is None else index
    for item in ls.array(doc, value, what, index):
        entry = ls.table(doc, item, f"{what} entry", index)
        name = ls.string(doc, entry.get("file"), f"{what} file", index)
        text = ls.string(doc, entry.get("hash"), f"{what} hash of {name}", index)
        # Old locks write an empty hash for direct URL archives: no hash was recorded.
        hashed = ls.hash_string(doc, text, f"{what} hash of {name}", where) if text else None
        pairs.append((name, hashed))
    return pairs


def metadata_hashes(
    doc: ls.LockDocument, meta: dict[str, Any], packages: Sequence[tuple[str, str]]
) -> tuple[list[list[Hash]], list[str]]:
    """Hashes per package (canonical name, version) from 1.x ``[metadata.files]``.

    A name locked at several versions shares one key; its files are split by
    the version in each file name.  Pre-1.0 ``[metadata.hashes]`` (bare sha256
    digests per name) are read too.  Also returns notes about files that fit
    no package.
    """
    found: list[list[Hash]] = [[] for _ in packages]
    by_name: dict[str, list[int]] = defaultdict(list)
    for position, (name, _) in enumerate(packages):
        by_name[name].append(position)
    notes: list[str] = []
    for key, value in ls.table(doc, meta.get("files", {}), "[metadata.files]").items():
        owners = by_name.get(canonicalize_name(key), [])
        pairs = file_hashes(doc, value, f"metadata.files {key!r}", None)
        if not owners and pairs:
            notes.append(
                f"[metadata.files] lists hashes for {key}, which the lock has no package for"
            )
        for file_name, hashed in pairs:
            if hashed is None:
                continue
            matches = owners
            if len(owners) > 1:
                wanted = _file_version(file_name)
                matches = [i for i in owners if wanted and _same(packages[i][1], wanted)]
                if not matches:
                    notes.append(f"cannot tell which version of {key} the file {file_name} is for")
            for position in matches:
                found[position].append(hashed)
    for key, value in ls.table(doc, meta.get("hashes", {}), "[metadata.hashes]").items():
        for text in ls.strings(doc, value, f"metadata.hashes {key!r}"):
            hashed = ls.hash_value(doc, "sha256", text, f"metadata.hashes {key!r}", -1)
            for position in by_name.get(canonicalize_name(key), []):
                found[position].append(hashed)
    return found, notes


def _file_version(file_name: str) -> str | None:
    try:
        if file_name.endswith(".whl"):
            return str(parse_wheel_filename(file_name)[1])
        return str(parse_sdist_filename(file_name)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def _same(version: str, other: str) -> bool:
    try:
        return Version(version) == Version(other)
    except InvalidVersion:
        return version == other


@dataclass(frozen=True, slots=True)
class Manifest:
    """Canonical names asked for directly, the extras asked of them, and the file's bytes."""

    direct: frozenset[str]
    extras: dict[str, frozenset[str]] = field(default_factory=dict)
    data: bytes = b""


def read_manifest(path: Path) -> tuple[Manifest | None, str | None]:
    """The manifest at ``path``, or None and, when the file exists but is unusable, why."""
    if not path.is_file():
        return None, None
    try:
        data = read_bytes(path)
        document = parse_toml(path, decode(path, data))
        wanted: dict[str, set[str]] = {}
        _collect(path, document, wanted)
    except ReaderError as exc:
        return None, f"pyproject.toml beside the lock is unusable, requested is unknown: {exc}"
    return (
        Manifest(
            direct=frozenset(wanted),
            extras={name: frozenset(extras) for name, extras in wanted.items() if extras},
            data=data,
        ),
        None,
    )


def _table(path: Path, value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ReaderError(path, f"{what} must be a table, found {type(value).__name__}")
    return value


def _array(path: Path, value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ReaderError(path, f"{what} must be an array, found {type(value).__name__}")
    return value


def _collect(path: Path, document: dict[str, Any], wanted: dict[str, set[str]]) -> None:
    project = _table(path, document.get("project"), "[project]")
    _pep508(path, _array(path, project.get("dependencies"), "project.dependencies"), wanted)
    optional = _table(path, project.get("optional-dependencies"), "project.optional-dependencies")
    for extra, items in optional.items():
        _pep508(path, _array(path, items, f"optional-dependencies.{extra}"), wanted)
    groups = _table(path, document.get("dependency-groups"), "[dependency-groups]")
    for group, items in groups.items():
        lines = _array(path, items, f"dependency-groups.{group}")
        _pep508(path, [item for item in lines if not isinstance(item, dict)], wanted)
    poetry = _table(
        path, _table(path, document.get("tool"), "[tool]").get("poetry"), "[tool.poetry]"
    )
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    for group, body in _table(path, poetry.get("group"), "tool.poetry.group").items():
        tables.append(_table(path, body, f"tool.poetry.group.{group}").get("dependencies"))
    for value in tables:
        for name, spec in _table(path, value, "tool.poetry dependencies").items():
            if canonicalize_name(name) == "python":
                continue
            wanted.setdefault(canonicalize_name(name), set()).update(_poetry_extras(path, spec))


def _pep508(path: Path, lines: Iterable[Any], wanted: dict[str, set[str]]) -> None:
    for line in lines:
        if not isinstance(line, str):
            raise ReaderError(path, f"dependency {line!r} must be a string")
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise ReaderError(path, f"dependency {line!r} is not valid: {exc}") from None
        extras = {canonicalize_name(e) for e in requirement.extras}
        wanted.setdefault(canonicalize_name(requirement.name), set()).update(extras)


def _poetry_extras(path: Path, spec: Any) -> set[str]:
    specs = spec if isinstance(spec, list) else [spec]
    extras: set[str] = set()
    for item in specs:
        if isinstance(item, str):
            continue
        table = _table(path, item, "a tool.poetry dependency")
        for extra in _array(path, table.get("extras"), "dependency extras"):
            if not isinstance(extra, str):
                raise ReaderError(path, f"extra {extra!r} must be a string")
            extras.add(canonicalize_name(extra))
    return extras
