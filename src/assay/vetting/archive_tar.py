"""Tar archives (plain, gzip, bzip2, xz) read as one bounded stream with :mod:`tarfile`.

The compressed bytes go through an :class:`~assay.vetting.archive_io.Inflater`
(bounded output, ratio limit, trailing-data check) and :mod:`tarfile` reads them
in stream mode (``r|``), one entry after the other, so only the current member
is ever held.  :mod:`tarfile` ends silently on a truncated or invalid header
after the first entry; the reader therefore checks that the archive ends in a
zero end-of-archive block and that nothing but zeros follows it.
"""

from __future__ import annotations

import lzma
import tarfile
import zlib
from collections.abc import Iterator

from assay.vetting.archive_io import Inflater, LimitReached, ReadState
from assay.vetting.archive_model import (
    CORRUPT,
    DEVICE,
    HARDLINK,
    LIMIT_EXCEEDED,
    SYMLINK,
    TRUNCATED,
    UNSUPPORTED,
    normalise_path,
)


def _printable(name: str) -> str:
    """Undecodable bytes (surrogate escapes) shown as U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _special(info: tarfile.TarInfo, state: ReadState, prefix: str) -> bool:
    """Record a non-regular entry; True when the entry is not a file to read."""
    name = prefix + _printable(info.name)
    if info.isdir():
        _, rejected = normalise_path(_printable(info.name))
        if rejected is not None:
            state.problem(rejected.kind, prefix + rejected.path, rejected.detail)
        return True
    if info.issym():
        state.problem(SYMLINK, name, f"link to {_printable(info.linkname)}")
        return True
    if info.islnk():
        state.problem(HARDLINK, name, f"hard link to {_printable(info.linkname)}")
        return True
    if info.ischr() or info.isblk() or info.isfifo():
        kinds = {tarfile.CHRTYPE: "character", tarfile.BLKTYPE: "block", tarfile.FIFOTYPE: "fifo"}
        state.problem(DEVICE, name, f"{kinds.get(info.type, 'special')} device entry")
        return True
    if info.type == tarfile.GNUTYPE_SPARSE or info.issparse():
        state.problem(UNSUPPORTED, name, "GNU sparse file is not read")
        return True
    if not info.isreg():
        state.problem(UNSUPPORTED, name, f"entry type {info.type!r} is not read")
        return True
    return False


def _members(tar: tarfile.TarFile, state: ReadState, prefix: str) -> Iterator[tuple[str, bytes]]:
    for info in tar:
        if not state.count_entry(prefix):
            return
        if _special(info, state, prefix):
            continue
        path = state.admit(_printable(info.name), prefix)
        if path is None:
            continue
        if info.size > state.member_budget():
            if info.size > state.limits.max_member_bytes:
                state.problem(LIMIT_EXCEEDED, path, f"declares {info.size} bytes, over the limit")
                continue
            state.stop(path, f"more than {state.limits.max_total_bytes} bytes in total")
            return
        handle = tar.extractfile(info)
        if handle is None:  # pragma: no cover - isreg() entries always have a file object
            continue
        content = state.read_member(handle.read, path)
        if content is None:
            if state.stopped:
                return
            continue
        if len(content) != info.size:
            raise EOFError(f"{path} ends after {len(content)} of {info.size} bytes")
        yield path, content


def _check_end(stream: Inflater, end: int, state: ReadState, where: str) -> None:
    """A tar ends in a zero block; only zeros may follow it."""
    block = stream.window(end, 512)
    if len(block) < 512:
        state.problem(TRUNCATED, where, f"no end-of-archive block at offset {end}")
    elif any(block):
        state.problem(CORRUPT, where, f"invalid header at offset {end}: reading stopped there")
    else:
        stream.drain_trailing(end + 512)


def read_tar(data: bytes, codec: str, state: ReadState, prefix: str) -> Iterator[tuple[str, bytes]]:
    """Every regular file of a tar stream as (prefixed path, bytes); problems go to ``state``.

    ``codec`` is "tar" (uncompressed), "gzip", "bzip2" or "xz".
    """
    where = prefix.removesuffix("!")
    stream = Inflater(data, codec, state, where)
    try:
        with tarfile.open(
            fileobj=stream, mode="r|", encoding="utf-8", errors="surrogateescape"
        ) as tar:
            yield from _members(tar, state, prefix)
            if state.stopped:
                return
            end = tar.offset
        _check_end(stream, end, state, where)
    except LimitReached:
        return
    except EOFError as exc:
        state.problem(TRUNCATED, where, str(exc))
    except tarfile.ReadError as exc:
        kind = TRUNCATED if "unexpected end" in str(exc) else CORRUPT
        state.problem(kind, where, str(exc) or "unreadable tar")
    except (tarfile.TarError, zlib.error, lzma.LZMAError, OSError, ValueError) as exc:
        state.problem(CORRUPT, where, f"{type(exc).__name__}: {exc}")
