"""Zip, wheel and egg archives read in memory with :mod:`zipfile`, entry by entry.

Before :mod:`zipfile` parses the central directory, its declared entry count and
size are checked against the limits (a forged directory cannot make it build
millions of entries).  Each entry is then checked before a byte is inflated:
path, type (Unix mode bits: links, devices), encryption, compression method,
declared size.  The declared expansion of the whole archive is held to the
ratio limit.  Only stored and deflated entries are read (wheels and
sdists use nothing else; bzip2 and lzma members are refused, because
:mod:`zipfile` inflates them without an output bound).  Reading goes through
:meth:`ReadState.read_member`, so no member yields more than its limit + 1 byte.
"""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from collections.abc import Iterator

from assay.vetting.archive_io import ReadState
from assay.vetting.archive_model import (
    CORRUPT,
    DEVICE,
    ENCRYPTED_MEMBER,
    LIMIT_EXCEEDED,
    SYMLINK,
    TRUNCATED,
    UNSUPPORTED,
    normalise_path,
)

_END = b"PK\x05\x06"
_END64_LOCATOR = b"PK\x06\x07"
_END64 = b"PK\x06\x06"
_CD_BYTES_PER_ENTRY = 300  # a generous average: 46 fixed bytes, the name, extras, comment
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma", 9: "deflate64"}


def _int(data: bytes, start: int, size: int) -> int:
    return int.from_bytes(data[start : start + size], "little")


def central_directory(data: bytes) -> tuple[int, int] | None:
    """(declared entries, central directory bytes) from the end record, or None if absent."""
    end = data.rfind(_END, max(0, len(data) - 22 - 65535))
    if end < 0 or len(data) - end < 22:
        return None
    entries, size = _int(data, end + 10, 2), _int(data, end + 12, 4)
    locator = end - 20
    if locator >= 0 and data[locator : locator + 4] == _END64_LOCATOR:
        record = _int(data, locator + 8, 8)
        if data[record : record + 4] == _END64:
            entries, size = _int(data, record + 32, 8), _int(data, record + 40, 8)
    return entries, size


def _link_target(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x1 or info.file_size > 4096 or info.compress_type not in _METHODS:
        return "(target not read)"
    try:
        with archive.open(info) as handle:
            return handle.read(4097).decode("utf-8", "replace")
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, RuntimeError, ValueError):
        return "(target unreadable)"


def _entry_problem(info: zipfile.ZipInfo, path: str, state: ReadState) -> bool:
    """Record why an entry cannot be read; True when it must be skipped."""
    if info.flag_bits & 0x1:
        state.problem(ENCRYPTED_MEMBER, path, "encrypted entry")
        return True
    if info.compress_type not in _METHODS:
        method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
        state.problem(UNSUPPORTED, path, f"compression {method} is not read")
        return True
    limits = state.limits
    if info.file_size > state.member_budget():
        if info.file_size > limits.max_member_bytes:
            state.problem(LIMIT_EXCEEDED, path, f"declares {info.file_size} bytes, over the limit")
        else:
            state.stop(path, f"more than {limits.max_total_bytes} bytes in total")
        return True
    return False


def read_zip(data: bytes, state: ReadState, prefix: str) -> Iterator[tuple[str, bytes]]:
    """Every regular file of the zip as (prefixed path, bytes); problems go to ``state``."""
    where = prefix.removesuffix("!")
    directory = central_directory(data)
    if directory is None:
        state.problem(TRUNCATED, where, "no end-of-central-directory record (truncated zip)")
        return
    entries, size = directory
    room = state.limits.max_members - state.entries
    if entries > room or size > room * _CD_BYTES_PER_ENTRY:
        state.stop(where, f"central directory declares {entries} entries ({size} bytes)")
        return
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as exc:
        state.problem(CORRUPT, where, f"unreadable zip: {exc}")
        return
    limits = state.limits
    cap = max(limits.ratio_floor, limits.max_ratio * len(data))
    expanded = 0
    with archive:
        for info in archive.infolist():
            if not state.count_entry(prefix):
                return
            expanded += info.file_size
            if expanded > cap:
                ratio = f"{limits.max_ratio}:1"
                state.stop(
                    where, f"compression ratio above {ratio}: {len(data)} bytes declare more"
                )
                return
            yield from _read_entry(archive, info, state, prefix)
            if state.stopped:
                return


def _read_entry(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, state: ReadState, prefix: str
) -> Iterator[tuple[str, bytes]]:
    mode = info.external_attr >> 16 if info.create_system == 3 else 0
    kind = stat.S_IFMT(mode)
    if info.is_dir() or kind == stat.S_IFDIR:
        _, rejected = normalise_path(info.filename)
        if rejected is not None:
            state.problem(rejected.kind, prefix + rejected.path, rejected.detail)
        return
    if kind == stat.S_IFLNK:
        target = _link_target(archive, info)
        state.problem(SYMLINK, prefix + info.filename, f"link to {target}")
        return
    if kind in {stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK}:
        state.problem(DEVICE, prefix + info.filename, f"special file (mode {mode:o})")
        return
    path = state.admit(info.filename, prefix)
    if path is None or _entry_problem(info, path, state):
        return
    try:
        with archive.open(info) as handle:
            content = state.read_member(handle.read, path)
    except EOFError as exc:
        state.problem(TRUNCATED, path, f"entry ends early: {exc}")
        return
    except RuntimeError as exc:  # zipfile's "encrypted, password required"
        state.problem(ENCRYPTED_MEMBER, path, str(exc))
        return
    except NotImplementedError as exc:
        state.problem(UNSUPPORTED, path, str(exc))
        return
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError) as exc:
        state.problem(CORRUPT, path, str(exc) or type(exc).__name__)
        return
    if content is None:
        return
    if len(content) != info.file_size:
        state.problem(CORRUPT, path, f"{len(content)} bytes, {info.file_size} declared")
        return
    yield path, content
