"""``assay db import``: OSV records from directories, archives and files into the database.

Accepted sources:

- a checkout of PyPA's advisory-database (a directory with ``vulns/``): every
  ``*.yaml``/``*.yml``/``*.json`` under ``vulns/``;
- any other directory: every ``*.json``, ``*.yaml`` and ``*.yml`` below it
  (hidden directories such as ``.git`` are skipped);
- OSV's per-ecosystem ``all.zip``: its ``*.json`` members, read in memory within
  :class:`ZipLimits`; an archive that breaks a limit or names a member outside
  itself (``../x.json``, ``/etc/x.json``) is refused as a whole;
- a single OSV record file (``.json``, ``.yaml``, ``.yml``).

A record that cannot be read or does not follow the schema is skipped and
stored as a problem (location and reason); it never aborts the import.  A
source that cannot be read at all raises :class:`SourceError` (exit 3), and
nothing of that import is kept.
"""

from __future__ import annotations

import os
import time
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from assay.advisories.osv import OsvRecordError, parse_record
from assay.advisories.store import (
    AdvisoryDatabase,
    ImportCounts,
    ImportTransaction,
    Outcome,
    Problem,
)
from assay.environments.ports import ReaderError
from assay.environments.readers._files import decode, parse_json, parse_yaml, read_bytes
from assay.errors import AssayError

MAX_RECORD_BYTES = 16 * 1024 * 1024
RECORD_SUFFIXES = (".json", ".yaml", ".yml")


class SourceError(AssayError):
    """An import source cannot be read at all (missing, not an archive, over a limit)."""

    exit_code = 3


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """Bounds for reading an archive in memory (a zip bomb or a tampered export is refused)."""

    max_entries: int = 200_000
    max_entry_bytes: int = MAX_RECORD_BYTES
    max_total_bytes: int = 2 * 1024 * 1024 * 1024
    max_ratio: int = 200  # uncompressed / compressed, for members over ``ratio_floor`` bytes
    ratio_floor: int = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What one source contributed to an import."""

    source: str
    kind: str
    counts: ImportCounts
    problems: tuple[Problem, ...]
    seconds: float


@dataclass(frozen=True, slots=True)
class _Entry:
    location: str  # relative to the source: a file path or an archive member
    data: bytes | None
    error: str | None = None


@dataclass(slots=True)
class _Tally:
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def add(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def result(self) -> ImportCounts:
        return ImportCounts(
            added=self.counts.get(Outcome.ADDED, 0),
            updated=self.counts.get(Outcome.UPDATED, 0),
            unchanged=self.counts.get(Outcome.UNCHANGED, 0),
            older=self.counts.get(Outcome.OLDER, 0),
            skipped=len(self.problems),
        )


def source_label(path: Path) -> str:
    """How a local source is recorded: its absolute path."""
    return str(path.expanduser().resolve())


def detect(path: Path) -> str:
    """The kind of source at ``path``; SourceError when there is nothing to import."""
    if path.is_dir():
        return "pypa-advisory-database" if (path / "vulns").is_dir() else "osv-directory"
    if not path.exists():
        raise SourceError(f"{path}: no such file or directory")
    if not path.is_file():
        raise SourceError(f"{path}: not a file or directory")
    if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        return "osv-archive"
    if path.suffix.lower() in RECORD_SUFFIXES:
        return "osv-record"
    raise SourceError(
        f"{path}: not an OSV source (expected a directory, an all.zip or a .json/.yaml record)"
    )


def _walk(root: Path, base: Path) -> Iterator[_Entry]:
    files: list[Path] = []
    for directory, subdirs, names in os.walk(root, onerror=_walk_error):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        files.extend(
            Path(directory, name) for name in names if name.lower().endswith(RECORD_SUFFIXES)
        )
    for file in sorted(files):
        location = file.relative_to(base).as_posix()
        try:
            yield _Entry(location, read_bytes(file, MAX_RECORD_BYTES))
        except ReaderError as exc:
            yield _Entry(location, None, exc.message.removeprefix(f"{file}: "))


def _walk_error(exc: OSError) -> None:
    raise SourceError(f"{exc.filename}: cannot read directory: {exc.strerror or exc}")


def _member_name_ok(name: str) -> bool:
    if not name or "\0" in name or "\\" in name or name.startswith("/"):
        return False
    parts = PurePosixPath(name).parts
    return ".." not in parts and not (parts and parts[0].endswith(":"))


def _zip_entries(path: Path, limits: ZipLimits) -> Iterator[_Entry]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SourceError(f"{path}: not a readable zip archive: {exc}") from None
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_entries:
            raise SourceError(f"{path}: more than {limits.max_entries} archive members")
        declared = 0
        for info in members:
            if not _member_name_ok(info.filename):
                raise SourceError(f"{path}: member {info.filename!r} points outside the archive")
            if info.file_size > limits.max_entry_bytes:
                raise SourceError(
                    f"{path}: member {info.filename} is larger than the "
                    f"{limits.max_entry_bytes} byte limit"
                )
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
                raise SourceError(
                    f"{path}: member {info.filename} expands {ratio:.0f}x "
                    f"(limit {limits.max_ratio}x): refusing a likely zip bomb"
                )
            declared += info.file_size
        if declared > limits.max_total_bytes:
            raise SourceError(f"{path}: expands beyond the {limits.max_total_bytes} byte limit")
        total = 0
        for info in members:
            if info.is_dir() or not info.filename.lower().endswith(".json"):
                continue
            try:
                with archive.open(info) as member:
                    data = member.read(limits.max_entry_bytes + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError) as exc:
                raise SourceError(f"{path}: member {info.filename} is unreadable: {exc}") from None
            except NotImplementedError as exc:
                raise SourceError(f"{path}: member {info.filename}: {exc}") from None
            total += len(data)
            if len(data) > limits.max_entry_bytes or total > limits.max_total_bytes:
                raise SourceError(f"{path}: member {info.filename} is larger than it declares")
            yield _Entry(info.filename, data)


def _entries(path: Path, kind: str, limits: ZipLimits) -> Iterator[_Entry]:
    if kind == "pypa-advisory-database":
        return _walk(path / "vulns", path)
    if kind == "osv-directory":
        return _walk(path, path)
    if kind == "osv-archive":
        return _zip_entries(path, limits)
    return _walk_file(path)


def _walk_file(path: Path) -> Iterator[_Entry]:
    try:
        yield _Entry(path.name, read_bytes(path, MAX_RECORD_BYTES))
    except ReaderError as exc:
        raise SourceError(exc.message) from None


def _load(entry: _Entry) -> Any:
    """The parsed document; ReaderError naming the member and line when malformed."""
    where = Path(entry.location)
    text = decode(where, entry.data or b"")
    if entry.location.lower().endswith(".json"):
        return parse_json(where, text)
    return parse_yaml(where, text)


def _reader_problem(source: str, location: str, exc: ReaderError) -> Problem:
    where = f"{location}:{exc.line}" if exc.line is not None else location
    return Problem(source, where, exc.message.removeprefix(f"{where}: "))


def _import_one(
    tx: ImportTransaction, path: Path, label: str, kind: str, limits: ZipLimits
) -> ImportSummary:
    started = time.perf_counter()
    tally = _Tally()
    tx.clear_problems(label)
    for entry in _entries(path, kind, limits):
        if entry.error is not None:
            tally.problems.append(Problem(label, entry.location, entry.error))
            continue
        try:
            advisory = parse_record(_load(entry))
            tally.add(tx.put(advisory, label, entry.location))
        except ReaderError as exc:
            tally.problems.append(_reader_problem(label, entry.location, exc))
        except OsvRecordError as exc:
            tally.problems.append(Problem(label, entry.location, exc.message))
    if not tally.problems and not tally.counts:
        raise SourceError(f"{path}: no OSV records found (*.json, *.yaml)")
    for problem in tally.problems:
        tx.problem(problem)
    counts = tally.result()
    tx.record_source(label, kind, counts)
    return ImportSummary(label, kind, counts, tuple(tally.problems), time.perf_counter() - started)


def import_sources(
    database: AdvisoryDatabase,
    paths: Sequence[Path],
    *,
    labels: Sequence[str] | None = None,
    limits: ZipLimits | None = None,
) -> list[ImportSummary]:
    """Import every source in one transaction: all of them are kept, or none.

    ``labels`` overrides how each source is recorded (``assay db sync`` records
    the URL it fetched); by default it is the source's absolute path.
    """
    kinds = [detect(path) for path in paths]
    names = list(labels) if labels is not None else [source_label(p) for p in paths]
    with database.importing() as tx:
        return [
            _import_one(tx, path, label, kind, limits or ZipLimits())
            for path, label, kind in zip(paths, names, kinds, strict=True)
        ]


def import_source(
    database: AdvisoryDatabase,
    path: Path,
    *,
    label: str | None = None,
    limits: ZipLimits | None = None,
) -> ImportSummary:
    """Import one source (see :func:`import_sources`)."""
    labels = None if label is None else [label]
    return import_sources(database, [path], labels=labels, limits=limits)[0]
