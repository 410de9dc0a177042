"""What ``assay vet TARGET`` reads: an archive file, an unpacked directory, or ``name==version``.

:func:`open_target` turns a TARGET into one :class:`TargetUnit` per thing to
analyse, each with a reading that yields :class:`ArchiveMember` values and then
an :class:`ArchiveReport`:

* a file (wheel, sdist, egg, zip, whatever its name): read within
  ``max_archive_bytes`` and through the safe archive reader;
* a directory: walked without following symbolic links (links, devices and
  unreadable files are problems), every regular file a member, under the same
  limits; archives inside it are opened as inside an archive;
* ``name==version``: every file of that release from the configured index
  (:mod:`assay.vetting.index_config`), each verified against its sha256 before
  it is read.

Nothing is extracted, installed, imported or executed.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from assay.errors import AssayError
from assay.vetting.archive_io import ReadState
from assay.vetting.archive_model import (
    CORRUPT,
    DEVICE,
    LIMIT_EXCEEDED,
    SYMLINK,
    ArchiveLimits,
    ArchiveMember,
    ArchiveProblem,
    ArchiveReport,
    OneShotReading,
)
from assay.vetting.archives import ArchiveReading, open_nested
from assay.vetting.distributions import DistributionSource

_REQUIREMENT = re.compile(
    r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*==\s*([^\s=;,]+)\s*$"
)


class TargetError(AssayError):
    """A TARGET that names nothing readable (missing path, unreadable file)."""

    exit_code = 3


class Reading(Protocol):
    """Iterate once for the members, then ask for the report."""

    def __iter__(self) -> Iterator[ArchiveMember]: ...
    def report(self) -> ArchiveReport: ...


@dataclass(frozen=True, slots=True)
class TargetUnit:
    """One archive or directory of a target, with where it came from."""

    label: str  # the path, or the file name of a fetched distribution
    origin: str  # "file", "directory" or the (redacted) URL it was fetched from
    sha256: str | None  # of the archive bytes (verified against the index when fetched)
    reading: Reading


def parse_requirement(text: str) -> tuple[str, str] | None:
    """``(name, version)`` for ``name==version``, else None."""
    match = _REQUIREMENT.match(text)
    return (match[1], match[2]) if match else None


def open_target(
    target: str,
    *,
    limits: ArchiveLimits | None = None,
    source: Callable[[], DistributionSource] | None = None,
) -> list[TargetUnit]:
    """The units of ``target``; ``source`` builds the index adapter (only for name==version)."""
    bounds = limits or ArchiveLimits()
    path = Path(target).expanduser()
    if path.is_dir():
        return [TargetUnit(target, "directory", None, DirectoryReading(path, bounds))]
    if path.exists() or path.is_symlink():
        if not path.is_file():  # a FIFO, socket or device would block or never end
            raise TargetError(f"{target}: not a regular file or directory")
        data = _read_file(path, bounds)
        if data is None:
            detail = f"larger than the {bounds.max_archive_bytes} byte archive limit"
            return [TargetUnit(target, "file", None, _Refused(path.name, detail))]
        digest = hashlib.sha256(data).hexdigest()
        return [TargetUnit(target, "file", digest, ArchiveReading(data, path.name, bounds))]
    requirement = parse_requirement(target)
    if requirement is None:
        raise TargetError(f"{target}: no such file or directory, and not a name==version")
    if source is None:
        raise TargetError(f"{target}: no package index source to fetch it from")
    files = source().fetch(*requirement)
    return [
        TargetUnit(d.filename, d.url, d.sha256, ArchiveReading(d.data, d.filename, bounds))
        for d in files
    ]


def _read_file(path: Path, limits: ArchiveLimits) -> bytes | None:
    """The file's bytes (None past the archive limit); TargetError when unreadable."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limits.max_archive_bytes + 1)
    except OSError as exc:
        raise TargetError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return None if len(data) > limits.max_archive_bytes else data


class _Refused:
    """A reading that reads nothing: the archive itself broke a limit."""

    def __init__(self, name: str, detail: str) -> None:
        self._report = ArchiveReport(
            name, None, 0, 0, (ArchiveProblem(LIMIT_EXCEEDED, "", detail),)
        )

    def __iter__(self) -> Iterator[ArchiveMember]:
        return iter(())

    def report(self) -> ArchiveReport:
        return self._report


class DirectoryReading(OneShotReading):
    """An unpacked tree read like an archive: no link is followed, the same limits apply."""

    def __init__(self, root: Path, limits: ArchiveLimits | None = None) -> None:
        super().__init__()
        self.root = root
        self._state = ReadState(limits or ArchiveLimits())

    def _produce(self) -> Iterator[ArchiveMember]:
        return self._walk(self.root, "")

    def _finish(self) -> ArchiveReport:
        problems = tuple(self._state.problems)
        return ArchiveReport(str(self.root), "directory", self._members, self._bytes, problems)

    def _walk(self, directory: Path, relative: str) -> Iterator[ArchiveMember]:
        state = self._state
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            state.problem(CORRUPT, relative or ".", f"cannot list: {exc.strerror or exc}")
            return
        for entry in entries:
            if state.stopped or not state.count_entry(""):
                return
            rel = f"{relative}{entry.name}"
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                state.problem(CORRUPT, rel, f"cannot stat: {exc.strerror or exc}")
                continue
            if stat.S_ISLNK(mode):
                state.problem(SYMLINK, rel, f"link to {_link(entry.path)} (not followed)")
            elif stat.S_ISDIR(mode):
                yield from self._walk(Path(entry.path), rel + "/")
            elif not stat.S_ISREG(mode):
                state.problem(DEVICE, rel, f"special file (mode {mode:o})")
            else:
                yield from self._file(Path(entry.path), rel)

    def _file(self, path: Path, rel: str) -> Iterator[ArchiveMember]:
        state = self._state
        name = state.admit(rel, "")
        if name is None:
            return
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as handle:
                content = state.read_member(handle.read, name)
        except OSError as exc:
            state.problem(CORRUPT, name, f"cannot read: {exc.strerror or exc}")
            return
        if content is None:
            return
        yield ArchiveMember(name, content, len(content))
        yield from open_nested(content, name, state, 1)


def _link(path: str) -> str:
    try:
        return str(Path(path).readlink())
    except OSError:
        return "(unreadable target)"
