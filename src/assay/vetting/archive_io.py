"""The bounded plumbing under the archive reader: magic bytes, the budget, bounded streams.

* :func:`sniff` names a format from its magic bytes; :func:`expected_format`
  from the file name (only to detect format confusion).
* :class:`ReadState` holds the limits, the running totals and the problems of
  one reading, nested archives included, and admits entries (path checks,
  duplicates, the entry count).
* :class:`Inflater` decompresses gzip, bzip2 or xz through ``max_length``, so no
  call ever produces more than was asked for, and stops at the stream's size
  and ratio limits; bytes after the last stream are reported, not ignored.
"""

from __future__ import annotations

import bz2
import io
import lzma
import zlib
from collections import deque
from collections.abc import Callable
from typing import Protocol

from assay.vetting.archive_model import (
    DUPLICATE_PATH,
    INVALID_PATH,
    LIMIT_EXCEEDED,
    TRAILING_DATA,
    ArchiveLimits,
    ArchiveProblem,
    normalise_path,
)

CHUNK = 1024 * 1024
_MAGIC = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty zip: only the end record
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
)
_SUFFIXES = (
    (".tar.gz", "gzip"),
    (".tgz", "gzip"),
    (".tar.bz2", "bzip2"),
    (".tbz2", "bzip2"),
    (".tar.xz", "xz"),
    (".txz", "xz"),
    (".tar", "tar"),
    (".whl", "zip"),
    (".zip", "zip"),
    (".egg", "zip"),
)


def looks_like_tar(block: bytes) -> bool:
    """True for a 512-byte block with the ustar magic or a valid header checksum."""
    if len(block) < 512:
        return False
    if block[257:262] == b"ustar":
        return True
    stored = block[148:156].replace(b"\x00", b" ").strip()
    if not stored or not all(48 <= c <= 55 for c in stored):
        return False
    computed = sum(block[:148]) + 8 * 32 + sum(block[156:512])
    return int(stored, 8) == computed


def sniff(data: bytes | memoryview) -> str | None:
    """The format the bytes start with: zip, gzip, bzip2, xz, tar (or zstd/7z/rar), or None."""
    head = bytes(data[:512])
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return "tar" if looks_like_tar(head) else None


def expected_format(name: str) -> str | None:
    """The format a file name promises (same names as :func:`sniff`), or None."""
    lowered = name.lower()
    for suffix, fmt in _SUFFIXES:
        if lowered.endswith(suffix):
            return fmt
    return None


class LimitReached(Exception):  # noqa: N818 - a stop signal, not an error
    """Raised inside a stream when reading must stop; the problem is already recorded."""


class ReadState:
    """Limits, running totals and problems shared by one reading and its nested archives."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.entries = 0
        self.members = 0
        self.total = 0
        self.stopped = False
        self.problems: list[ArchiveProblem] = []
        self._seen: set[str] = set()

    def problem(self, kind: str, path: str, detail: str) -> None:
        self.problems.append(ArchiveProblem(kind, path, detail))

    def stop(self, path: str, detail: str) -> None:
        """Record a limit that ends the whole reading."""
        self.problem(LIMIT_EXCEEDED, path, detail)
        self.stopped = True

    def count_entry(self, prefix: str) -> bool:
        """Count one entry of any kind; False (and stop) past ``max_members``."""
        self.entries += 1
        if self.entries > self.limits.max_members:
            self.stop(prefix.rstrip("!"), f"more than {self.limits.max_members} entries")
            return False
        return True

    def admit(self, name: str, prefix: str) -> str | None:
        """The prefixed normalised path of an entry, or None (problem recorded)."""
        path, rejected = normalise_path(name)
        if path is None:
            if rejected is not None:
                self.problems.append(
                    ArchiveProblem(rejected.kind, prefix + rejected.path, rejected.detail)
                )
            return None
        if len(path) > self.limits.max_path_length:
            shown = prefix + path[:200] + "..."
            self.problem(INVALID_PATH, shown, f"path longer than {self.limits.max_path_length}")
            return None
        full = prefix + path
        if full in self._seen:
            self.problem(DUPLICATE_PATH, full, "another entry has the same path")
        self._seen.add(full)
        return full

    def member_budget(self) -> int:
        """How many bytes the next member may have."""
        return min(self.limits.max_member_bytes, self.limits.max_total_bytes - self.total)

    def read_member(self, read: Callable[[int], bytes], path: str) -> bytes | None:
        """All of a member through ``read(n)``, or None past its limit (problem recorded)."""
        budget = self.member_budget()
        chunks: list[bytes] = []
        got = 0
        while True:
            chunk = read(min(CHUNK, budget + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
            if got > budget:
                if budget < self.limits.max_member_bytes:
                    self.stop(path, f"more than {self.limits.max_total_bytes} bytes in total")
                else:
                    self.problem(
                        LIMIT_EXCEEDED, path, f"larger than {self.limits.max_member_bytes} bytes"
                    )
                return None
        self.total += got
        self.members += 1
        return b"".join(chunks)


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    @property
    def needs_input(self) -> bool: ...
    def decompress(self, data: bytes, max_length: int = -1, /) -> bytes: ...


class _Gunzip:
    """zlib's gzip decoder with the needs_input interface of bz2 and lzma."""

    def __init__(self) -> None:
        self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.needs_input = True

    @property
    def eof(self) -> bool:
        return self._z.eof

    @property
    def unused_data(self) -> bytes:
        return self._z.unused_data

    def decompress(self, data: bytes, max_length: int = -1, /) -> bytes:
        limit = max(max_length, 0)  # zlib: 0 means unbounded
        out = self._z.decompress(self._z.unconsumed_tail + data, limit)
        self.needs_input = not self._z.unconsumed_tail and (limit == 0 or len(out) < limit)
        return out


_CODECS: dict[str, tuple[bytes, Callable[[], _Decompressor]]] = {
    "gzip": (b"\x1f\x8b", _Gunzip),
    "bzip2": (b"BZh", bz2.BZ2Decompressor),
    "xz": (b"\xfd7zXZ\x00", lzma.LZMADecompressor),
}


class Inflater(io.RawIOBase):
    """A read-only stream of the decompressed bytes of ``data`` within ``limit`` bytes.

    Raises :class:`LimitReached` past ``limit`` or the ratio limit (recorded in
    ``state``); a stream that ends early raises ``EOFError``; codec errors pass
    through (``zlib.error``, ``OSError``, ``lzma.LZMAError``).  The last 64 KiB of
    output stay readable through :meth:`window` for the tar end-of-archive check.
    """

    def __init__(
        self, data: bytes, codec: str, state: ReadState, path: str, limit: int | None = None
    ) -> None:
        super().__init__()
        self._data = memoryview(data)
        self._codec = codec
        self._state = state
        self._path = path
        self._limit = state.limits.max_total_bytes if limit is None else limit
        self._pos = 0
        self._decoder: _Decompressor | None = _CODECS[codec][1]() if codec != "tar" else None
        self._finished = False
        self.produced = 0
        self._window: deque[tuple[int, bytes]] = deque()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        out = self._next(len(buffer))
        buffer[: len(out)] = out
        return len(out)

    def window(self, offset: int, size: int) -> bytes:
        """Output bytes ``[offset, offset + size)`` if still in the window (else fewer)."""
        joined = b"".join(chunk for _, chunk in self._window)
        start = self._window[0][0] if self._window else self.produced
        return joined[max(0, offset - start) : max(0, offset - start + size)]

    def _next(self, want: int) -> bytes:
        out = self._pull(want)
        if out:
            self.produced += len(out)
            self._check()
            self._window.append((self.produced - len(out), out))
            while self._window and self._window[0][0] + len(self._window[0][1]) < (
                self.produced - 65536
            ):
                self._window.popleft()
        return out

    def _check(self) -> None:
        limits = self._state.limits
        if self.produced > self._limit:
            self._state.stop(self._path, f"decompresses to more than {self._limit} bytes")
            raise LimitReached
        if self.produced > limits.ratio_floor and self.produced > limits.max_ratio * len(
            self._data
        ):
            self._state.stop(
                self._path,
                f"compression ratio above {limits.max_ratio}:1 "
                f"({len(self._data)} bytes expand past {self.produced})",
            )
            raise LimitReached

    def _pull(self, want: int) -> bytes:
        if self._finished or want <= 0:
            return b""
        if self._decoder is None:  # plain tar: the bytes themselves
            out = bytes(self._data[self._pos : self._pos + want])
            self._pos += len(out)
            return out
        while True:
            decoder = self._decoder
            if decoder.eof:
                if self._end_of_stream(decoder):
                    return b""
                continue
            chunk = b""
            if decoder.needs_input:
                chunk = bytes(self._data[self._pos : self._pos + 64 * 1024])
                self._pos += len(chunk)
                if not chunk:
                    raise EOFError("compressed stream ends before its end marker")
            out = decoder.decompress(chunk, want)
            if out:
                return out

    def _end_of_stream(self, decoder: _Decompressor) -> bool:
        """After one stream: start the next one (multi-stream files) or finish (True)."""
        self._pos -= len(decoder.unused_data)
        rest = self._data[self._pos :]
        magic, factory = _CODECS[self._codec]
        if bytes(rest[: len(magic)]) == magic:
            self._decoder = factory()
            return False
        self._finished = True
        if bytes(rest).count(0) != len(
            rest
        ):  # zero padding is allowed, anything else is hidden data
            self._state.problem(
                TRAILING_DATA, self._path, f"{len(rest)} bytes after the compressed stream"
            )
        return True

    def drain_trailing(self, tar_end: int) -> None:
        """Read to the end; non-zero bytes past ``tar_end`` are trailing data."""
        hidden = 0
        for offset, chunk in self._window:
            if offset + len(chunk) > tar_end:
                part = chunk[max(0, tar_end - offset) :]
                hidden += len(part) - part.count(0)
        while chunk := self._next(CHUNK):
            hidden += len(chunk) - chunk.count(0)
        if hidden:
            self._state.problem(
                TRAILING_DATA,
                self._path,
                f"{hidden} non-zero bytes after the end-of-archive marker",
            )
