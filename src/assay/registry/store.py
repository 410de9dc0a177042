"""The content-addressed file store: ``<root>/sha256/ab/cdef...`` (one file per digest).

A file appears under its name only complete and verified: bytes are written
to a temporary file in the same directory, hashed while written, compared
with the digest upstream published, flushed to disk, and only then renamed
into place (``os.replace``, atomic on one file system).  A mismatch, a size
over the limit or a failure mid-stream removes the temporary file; nothing
partial is ever visible under a digest's name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from assay.registry.ports import IntegrityError, RegistryError

SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024  # 2 GiB: the largest wheels on public indexes are < 1 GiB


def _check(actual: str, published: str, label: str) -> None:
    if actual != published:
        raise IntegrityError(
            f"{label}: sha256 mismatch (upstream published {published}, its bytes hash to "
            f"{actual}): refused"
        )


def usage(root: Path) -> tuple[int, int]:
    """(number of files, total bytes) stored under ``root`` (read only; 0, 0 when absent)."""
    count = total = 0
    for path in (root / "sha256").glob("*/*"):
        if path.is_file() and not path.name.startswith(".partial-"):
            count += 1
            total += path.stat().st_size
    return count, total


class FileStore:
    """Verified files by sha256 under ``root``."""

    def __init__(self, root: Path, *, max_file_bytes: int = MAX_FILE_BYTES) -> None:
        self.root = Path(root)
        self.max_file_bytes = max_file_bytes
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegistryError(f"{self.root}: cannot create the file store: {exc}") from None

    def path(self, sha256: str) -> Path:
        if not SHA256.match(sha256):
            raise ValueError(f"not a lower-case hex sha256: {sha256!r}")
        return self.root / "sha256" / sha256[:2] / sha256[2:]

    def has(self, sha256: str) -> bool:
        return SHA256.match(sha256) is not None and self.path(sha256).is_file()

    async def write(self, sha256: str, chunks: AsyncIterator[bytes], label: str = "") -> Path:
        """Store the stream under ``sha256`` if its bytes hash to it; IntegrityError if not.

        An exception from ``chunks`` (upstream failed mid-download) propagates
        after the temporary file is removed.
        """
        target = self.path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".partial-", dir=target.parent)
        temporary = Path(name)
        try:
            with os.fdopen(handle, "wb") as out:
                _check(await self._copy(chunks, out, label or sha256), sha256, label or sha256)
                os.fsync(out.fileno())
            temporary.replace(target)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        self._sync_directory(target.parent)
        return target

    async def _copy(self, chunks: AsyncIterator[bytes], out: BinaryIO, label: str) -> str:
        digest = hashlib.sha256()
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            if size > self.max_file_bytes:
                raise IntegrityError(f"{label}: larger than {self.max_file_bytes} bytes: refused")
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        return digest.hexdigest()

    def put_bytes(self, data: bytes) -> tuple[str, Path]:
        """Store ``data`` (already trusted, e.g. an upload) under its own digest."""
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path(sha256)
        if target.is_file():
            return sha256, target
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".partial-", dir=target.parent)
        temporary = Path(name)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            temporary.replace(target)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        self._sync_directory(target.parent)
        return sha256, target

    def usage(self) -> tuple[int, int]:
        """(number of files, total bytes) in the store."""
        return usage(self.root)

    @staticmethod
    def _sync_directory(directory: Path) -> None:
        with contextlib.suppress(OSError):
            descriptor = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
