"""The audit log file: append under an exclusive lock, read, verify.

The log is JSON lines (see :mod:`assay.auditlog.chain`).  ``append`` takes an
exclusive ``flock`` on the log file, reads the last entry to chain from,
refuses to continue a log whose last line is cut off, edited or signed by
another key, then writes one line and fsyncs it.  The public key is written
next to the log as ``<log>.pub`` so a copy of the two files can be verified
anywhere (``assay log verify --log FILE --public-key FILE.pub``).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from assay.auditlog.chain import (
    Entry,
    MalformedEntryError,
    VerifyResult,
    entry_hash,
    new_entry,
    parse_entry,
    signature_ok,
    split_lines,
    verify_entries,
)
from assay.auditlog.errors import AuditLogError
from assay.auditlog.keys import Signer, Verifier, load_or_create_signer
from assay.settings import Settings

_BLOCK = 64 * 1024


def utcnow() -> datetime:
    return datetime.now(UTC)


def public_key_path(log_path: Path) -> Path:
    """Where the log's public key is kept: ``<log>.pub``."""
    return log_path.with_name(log_path.name + ".pub")


def read_lines(path: Path) -> tuple[list[bytes], bool]:
    """The lines of the log at ``path`` and whether the last one is cut off."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AuditLogError(f"{path}: no audit log (nothing has been logged yet)") from None
    except OSError as exc:
        raise AuditLogError(f"{path}: cannot read audit log: {exc.strerror or exc}") from None
    return split_lines(data)


def verify_log(path: Path, verifier: Verifier) -> VerifyResult:
    """Verify the whole log at ``path`` against one public key."""
    lines, truncated = read_lines(path)
    return verify_entries(lines, verifier, truncated)


def read_entries(path: Path) -> Iterator[Entry]:
    """Every entry, parsed but not verified; a malformed line is an error naming it."""
    lines, truncated = read_lines(path)
    for number, line in enumerate(lines, start=1):
        if truncated and number == len(lines):
            raise AuditLogError(f"{path}:{number}: incomplete last line (run 'assay log verify')")
        try:
            yield parse_entry(line)
        except MalformedEntryError as exc:
            raise AuditLogError(f"{path}:{number}: {exc} (run 'assay log verify')") from None


def _tail(handle: BinaryIO, size: int) -> bytes:
    """The bytes after the last-but-one newline: the last line (with its newline, if any)."""
    end = size
    chunk = b""
    while end > 0:
        start = max(0, end - _BLOCK)
        handle.seek(start)
        chunk = handle.read(end - start) + chunk
        end = start
        if chunk.rfind(b"\n", 0, len(chunk) - 1) >= 0:
            break
    cut = chunk.rfind(b"\n", 0, len(chunk) - 1)
    return chunk[cut + 1 :]


class AuditLog:
    """One signed, hash-chained log file and the key that extends it."""

    def __init__(self, path: Path, signer: Signer, clock: Callable[[], datetime] = utcnow) -> None:
        self.path = path
        self.signer = signer
        self.clock = clock

    @property
    def public_key_path(self) -> Path:
        return public_key_path(self.path)

    def _last_entry(self, handle: BinaryIO) -> Entry | None:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return None
        line = _tail(handle, size)
        where = f"{self.path}: refusing to append"
        if not line.endswith(b"\n"):
            raise AuditLogError(f"{where}: the last line is incomplete (run 'assay log verify')")
        try:
            last = parse_entry(line[:-1])
        except MalformedEntryError as exc:
            raise AuditLogError(f"{where}: the last line is corrupt: {exc}") from None
        if entry_hash(last.body()) != last.hash or last.to_line() != line:
            raise AuditLogError(f"{where}: the last entry (seq {last.seq}) was edited")
        if last.key_id != self.signer.key_id:
            raise AuditLogError(
                f"{where}: the log is signed by key {last.key_id[:16]}, "
                f"the signing key is {self.signer.key_id[:16]}"
            )
        if not signature_ok(last, self.signer.verifier()):
            raise AuditLogError(f"{where}: the last entry (seq {last.seq}) has a bad signature")
        return last

    def append(self, kind: str, record: Mapping[str, object]) -> Entry:
        """Sign ``record`` as the next entry of kind ``kind`` and write it durably."""
        created = not self.path.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise AuditLogError(
                f"{self.path}: cannot open audit log: {exc.strerror or exc}"
            ) from None
        with os.fdopen(fd, "r+b", buffering=0) as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                previous = self._last_entry(handle)
                entry = new_entry(
                    previous,
                    kind=kind,
                    record=record,
                    moment=self.clock(),
                    key_id=self.signer.key_id,
                    sign=self.signer.sign,
                )
                handle.write(entry.to_line())
                os.fsync(handle.fileno())
                if previous is None or not self.public_key_path.exists():
                    self._write_public_key()
            except OSError as exc:
                raise AuditLogError(f"{self.path}: cannot append: {exc.strerror or exc}") from None
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        if created:
            _fsync_directory(self.path.parent)
        return entry

    def _write_public_key(self) -> None:
        target = self.public_key_path
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(self.signer.public_key_pem(), encoding="ascii")
        tmp.replace(target)

    def entries(self) -> Iterator[Entry]:
        return read_entries(self.path)

    def verify(self) -> VerifyResult:
        return verify_log(self.path, self.signer.verifier())


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_log(settings: Settings, clock: Callable[[], datetime] = utcnow) -> AuditLog:
    """The configured audit log, with its signing key (created on first use)."""
    return AuditLog(settings.audit_log, load_or_create_signer(settings.signing_key), clock)
