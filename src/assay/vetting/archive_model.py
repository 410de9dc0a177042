"""Values of the safe archive reader: limits, members, problems and the report.

The reader (:mod:`assay.vetting.archives`) never raises for hostile input: every
entry it refuses and every part it cannot read becomes an :class:`ArchiveProblem`.
An :class:`ArchiveReport` is ``complete`` only when no content was left unread;
callers must treat an incomplete report as a finding (fail closed), never as clean.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

# Problem kinds (stable ids: the vetting engine turns them into findings).
PATH_TRAVERSAL = "path-traversal"  # a ".." segment climbs out of the archive root
ABSOLUTE_PATH = "absolute-path"  # leading "/" or "\", a drive letter, a UNC path
INVALID_PATH = "invalid-path"  # empty, NUL or control characters
SYMLINK = "symlink"  # detail names the target
HARDLINK = "hardlink"  # detail names the target
DEVICE = "device"  # character or block device, FIFO
DUPLICATE_PATH = "duplicate-path"  # two entries normalise to the same path (both are read)
LIMIT_EXCEEDED = "limit-exceeded"  # detail names the limit
TRUNCATED = "truncated"  # the data ends early (no end record, short member, cut stream)
CORRUPT = "corrupt"  # CRC error, invalid header, undecodable stream
ENCRYPTED_MEMBER = "encrypted-member"
UNSUPPORTED = "unsupported"  # a compression method, entry type or format the reader refuses
FORMAT_CONFUSION = "format-confusion"  # the name says one format, the bytes another
TRAILING_DATA = "trailing-data"  # bytes after the end of the archive or compressed stream
NESTED_TOO_DEEP = "nested-too-deep"  # an archive below max_depth: read as bytes, not opened

# Kinds that mean some content was not read: the report is then incomplete.
INCOMPLETE_KINDS = frozenset(
    {
        PATH_TRAVERSAL,
        ABSOLUTE_PATH,
        INVALID_PATH,
        LIMIT_EXCEEDED,
        TRUNCATED,
        CORRUPT,
        ENCRYPTED_MEMBER,
        UNSUPPORTED,
        TRAILING_DATA,
    }
)

PROBLEM_KINDS: dict[str, str] = {
    PATH_TRAVERSAL: "an entry path climbs out of the archive with '..'",
    ABSOLUTE_PATH: "an entry path is absolute (leading slash, drive letter or UNC share)",
    INVALID_PATH: "an entry path is empty or holds NUL or control characters",
    SYMLINK: "a symbolic link entry (never followed)",
    HARDLINK: "a hard link entry (never followed)",
    DEVICE: "a device or FIFO entry",
    DUPLICATE_PATH: "two entries have the same normalised path; both were read",
    LIMIT_EXCEEDED: "a size, ratio, count, depth or path-length limit stopped the reading",
    TRUNCATED: "the archive or an entry ends early",
    CORRUPT: "the archive or an entry is damaged (CRC error, invalid header or stream)",
    ENCRYPTED_MEMBER: "an encrypted entry that cannot be read",
    UNSUPPORTED: "a format, compression method or entry type the reader does not read",
    FORMAT_CONFUSION: "the file name and the content disagree about the format",
    TRAILING_DATA: "bytes after the end of the archive were not read",
    NESTED_TOO_DEEP: "an archive nested deeper than the limit was read as bytes but not opened",
}


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Named bounds enforced while reading (never trusted from the archive's own headers).

    Measured on 967 real wheels (7.7 GiB, torch and tensorflow included): at most
    12,248 files, a 414 MiB largest member, and a whole-archive expansion of at
    most 18:1, while single members of test data reach 1016:1 (deflate's maximum),
    which is why the ratio limit applies to the whole archive, not to one member.
    The sizes leave room for CUDA wheels (single libraries near 1 GiB); a
    decompression bomb is stopped by the ratio limit long before a size limit.
    """

    max_archive_bytes: int = 4 * GiB  # the compressed file itself (read from disk or network)
    max_total_bytes: int = 8 * GiB  # uncompressed bytes of all members, nested ones included
    max_member_bytes: int = 2 * GiB  # uncompressed bytes of one member
    max_ratio: int = 200  # uncompressed bytes of an archive / its compressed size ...
    ratio_floor: int = 1 * MiB  # ... checked once an archive expands past this
    max_members: int = 100_000  # entries of every kind, nested archives included
    max_depth: int = 2  # 1: only the target; 2: archives inside it are opened too
    max_path_length: int = 1024  # characters of a normalised entry path

    def __post_init__(self) -> None:
        for name in self.__slots__:
            if getattr(self, name) < (1 if name != "ratio_floor" else 0):
                raise ValueError(f"archive limit {name} must be positive")


@dataclass(frozen=True, slots=True)
class ArchiveMember:
    """One regular file: its normalised POSIX path ("outer.whl!inner/x.py" when nested)."""

    path: str
    data: bytes
    size: int  # len(data): every byte of the member was read


@dataclass(frozen=True, slots=True, order=True)
class ArchiveProblem:
    """Something the reader refused or could not read; ``path`` is "" for the archive itself."""

    kind: str
    path: str
    detail: str

    @property
    def makes_incomplete(self) -> bool:
        return self.kind in INCOMPLETE_KINDS

    def describe(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.kind}: {where}{self.detail}"


@dataclass(frozen=True, slots=True)
class ArchiveReport:
    """What one reading found.  ``complete`` is False when any content was left unread."""

    name: str
    format: str | None  # "zip", "tar", "tar.gz", "tar.bz2", "tar.xz", "gzip", "directory"
    members_read: int
    bytes_read: int
    problems: tuple[ArchiveProblem, ...]

    @property
    def complete(self) -> bool:
        return not any(p.makes_incomplete for p in self.problems)

    @property
    def clean(self) -> bool:
        """Complete and without any problem (links, devices, duplicates, confusion)."""
        return not self.problems


_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalise_path(name: str) -> tuple[str, None] | tuple[None, ArchiveProblem]:
    """The entry name as a relative POSIX path, or the problem that rejects it.

    Backslashes count as separators (they are on Windows), ``.`` and empty
    segments are dropped, and ``..`` may only climb back within the archive.
    """
    shown = name if len(name) <= 200 else name[:200] + "..."
    if _CONTROL.search(name):
        return None, ArchiveProblem(INVALID_PATH, repr(shown), "control character in the path")
    unified = name.replace("\\", "/")
    if unified.startswith("/") or _DRIVE.match(unified):
        return None, ArchiveProblem(ABSOLUTE_PATH, shown, "absolute path")
    parts: list[str] = []
    for segment in unified.split("/"):
        if segment in {"", "."}:
            continue
        if segment == "..":
            if not parts:
                return None, ArchiveProblem(PATH_TRAVERSAL, shown, "'..' leaves the archive")
            parts.pop()
        else:
            parts.append(segment)
    if not parts:
        return None, ArchiveProblem(INVALID_PATH, repr(shown), "empty path")
    return "/".join(parts), None


class OneShotReading(ABC):
    """Members are read once, in order; the report is complete after the last one."""

    def __init__(self) -> None:
        self._members = 0
        self._bytes = 0
        self._started = False
        self._done = False

    @abstractmethod
    def _produce(self) -> Iterator[ArchiveMember]:
        """The members, read as they are yielded."""

    @abstractmethod
    def _finish(self) -> ArchiveReport:
        """The report, once every member was read."""

    def __iter__(self) -> Iterator[ArchiveMember]:
        if self._started:
            raise RuntimeError(f"a {type(self).__name__} can be iterated only once")
        self._started = True
        for member in self._produce():
            self._members += 1
            self._bytes += member.size
            yield member
        self._done = True

    def report(self) -> ArchiveReport:
        """The report; members not yet iterated over are read (and dropped) first."""
        if not self._started:
            for _ in self:
                pass
        elif not self._done:
            raise RuntimeError("report() before the members were all read")
        return self._finish()
