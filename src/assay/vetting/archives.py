"""The one safe archive reader of ``assay vet``: bytes in, regular files and problems out.

Nothing touches the disk, nothing is extracted, installed or imported::

    reading = ArchiveReading(data, "pkg-1.0.tar.gz")
    for member in reading:          # ArchiveMember(path, data, size), regular files only
        analyse(member)
    report = reading.report()       # ArchiveReport: format, counts, problems, complete

The format comes from the magic bytes, never from the name; a name that promises
another format is a ``format-confusion`` problem and the bytes are read as what
they are.  Zip, wheel and egg archives, tar, and tar inside gzip, bzip2 or xz
are read; a gzip/bzip2/xz stream that holds no tar is read as one member.
Archives inside the archive (by name *and* magic: ``.whl``, ``.zip``, ``.egg``,
``.tar.*``) are read too, down to :attr:`ArchiveLimits.max_depth`, their members
named ``outer!inner`` and charged to the same limits.  Every limit, path,
link, device and damage rule is recorded as an :class:`ArchiveProblem`; see
:mod:`assay.vetting.archive_model` for which problems make a report incomplete.
"""

from __future__ import annotations

import io
import lzma
import posixpath
import zipfile
import zlib
from collections.abc import Iterator

from assay.vetting.archive_io import (
    Inflater,
    LimitReached,
    ReadState,
    expected_format,
    looks_like_tar,
    sniff,
)
from assay.vetting.archive_model import (
    CORRUPT,
    FORMAT_CONFUSION,
    NESTED_TOO_DEEP,
    TRUNCATED,
    UNSUPPORTED,
    ArchiveLimits,
    ArchiveMember,
    ArchiveReport,
    OneShotReading,
)
from assay.vetting.archive_tar import read_tar
from assay.vetting.archive_zip import read_zip

__all__ = ["ArchiveLimits", "ArchiveMember", "ArchiveReading", "ArchiveReport", "read_archive"]

_STREAMS = {"gzip": "gz", "bzip2": "bz2", "xz": "xz"}
_READABLE = {"zip", "tar", *_STREAMS}
_DAMAGE = (EOFError, OSError, ValueError, zlib.error, lzma.LZMAError)
_UNREADABLE = {"zstd": "zstandard", "7z": "7-Zip", "rar": "RAR"}


class ArchiveReading(OneShotReading):
    """One pass over one archive: iterate for the members, then call :meth:`report`.

    ``state`` lets a caller charge several readings (a directory of archives) to
    the same limits; by default each reading has its own.
    """

    def __init__(
        self,
        data: bytes,
        name: str,
        limits: ArchiveLimits | None = None,
        *,
        state: ReadState | None = None,
        depth: int = 1,
        prefix: str = "",
    ) -> None:
        super().__init__()
        self.name = name
        self._data = data
        self._state = state if state is not None else ReadState(limits or ArchiveLimits())
        self._depth = depth
        self._prefix = prefix
        self._first_problem = len(self._state.problems)
        self._format: str | None = None

    def _produce(self) -> Iterator[ArchiveMember]:
        return self._read(self._data, self.name, self._prefix, self._depth)

    def _finish(self) -> ArchiveReport:
        return ArchiveReport(
            name=self.name,
            format=self._format,
            members_read=self._members,
            bytes_read=self._bytes,
            problems=tuple(self._state.problems[self._first_problem :]),
        )

    def _read(self, data: bytes, name: str, prefix: str, depth: int) -> Iterator[ArchiveMember]:
        state = self._state
        where = prefix.removesuffix("!")
        found = sniff(data)
        if found is None and zipfile.is_zipfile(io.BytesIO(data)):
            state.problem(FORMAT_CONFUSION, where, "zip data after a prefix of other bytes")
            found = "zip"
        promised = expected_format(name)
        if found is not None and promised is not None and found != promised:
            state.problem(
                FORMAT_CONFUSION, where, f"named as {promised} but the content is {found}"
            )
        if found is None or found not in _READABLE:
            what = _UNREADABLE.get(found or "", "not a zip, tar, gzip, bzip2 or xz archive")
            state.problem(UNSUPPORTED, where, f"{what} content is not read")
            self._set_format(depth, found)
            return
        if found == "zip":
            entries = read_zip(data, state, prefix)
            self._set_format(depth, "zip")
        elif found == "tar" or _holds_tar(data, found, state, where):
            entries = read_tar(data, found, state, prefix)
            self._set_format(depth, "tar" if found == "tar" else f"tar.{_STREAMS[found]}")
        else:
            state.problem(FORMAT_CONFUSION, where, f"a {found} stream that holds no tar archive")
            entries = _single(data, found, name, state, prefix)
            self._set_format(depth, found)
        for path, content in entries:
            yield ArchiveMember(path, content, len(content))
            yield from open_nested(content, path, self._state, depth)

    def _set_format(self, depth: int, found: str | None) -> None:
        if depth == self._depth:
            self._format = found


def open_nested(content: bytes, path: str, state: ReadState, depth: int) -> Iterator[ArchiveMember]:
    """The members of ``content`` when it is an archive (by name and magic) at ``depth``.

    ``depth`` is the depth of the archive ``content`` was found in (1: the target).
    """
    if expected_format(path) is None:
        return
    if sniff(content) not in _READABLE:
        state.problem(FORMAT_CONFUSION, path, "named as an archive but is not one")
        return
    if depth >= state.limits.max_depth:
        detail = (
            f"an archive at nesting depth {depth + 1}, over the limit of {state.limits.max_depth}"
        )
        state.problem(NESTED_TOO_DEEP, path, detail)
        return
    yield from ArchiveReading(content, path, state=state, depth=depth + 1, prefix=path + "!")


def _holds_tar(data: bytes, codec: str, state: ReadState, where: str) -> bool:
    """Whether the decompressed stream starts with a tar header (reads 512 bytes)."""
    probe = ReadState(state.limits)
    try:
        head = Inflater(data, codec, probe, where).read(512)
    except (LimitReached, *_DAMAGE):
        return True  # the tar reader reports the damage
    return not head or looks_like_tar(head) or not any(head)


def _single(
    data: bytes, codec: str, name: str, state: ReadState, prefix: str
) -> Iterator[tuple[str, bytes]]:
    """A compressed stream that is not a tar: its content as one member."""
    base = posixpath.basename(name.replace("\\", "/")) or "stream"
    stem, dot, suffix = base.rpartition(".")
    if not dot or not stem:
        inner = base + ".decompressed"
    else:
        inner = stem + ".tar" if suffix.lower() in {"tgz", "tbz2", "txz"} else stem
    path = state.admit(inner, prefix)
    if path is None:
        return
    where = prefix.removesuffix("!")
    stream = Inflater(data, codec, state, where, limit=state.member_budget() + 1)
    try:
        content = state.read_member(stream.read, path)
    except LimitReached:
        return
    except EOFError as exc:
        state.problem(TRUNCATED, where, str(exc))
        return
    except _DAMAGE as exc:
        state.problem(CORRUPT, where, f"{type(exc).__name__}: {exc}")
        return
    if content is not None:
        yield path, content


def read_archive(
    data: bytes, name: str, limits: ArchiveLimits | None = None
) -> tuple[list[ArchiveMember], ArchiveReport]:
    """All members in memory and the report (for small archives; iterate otherwise)."""
    reading = ArchiveReading(data, name, limits)
    members = list(reading)
    return members, reading.report()
