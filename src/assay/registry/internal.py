"""Internal packages: files uploaded to this registry, in SQLite plus a content-addressed store.

Layout under the registry directory (``settings.registry_dir``)::

    internal/internal.sqlite3        one row per file (project, version, hashes, metadata hash)
    internal/files/ab/<sha256>        the distribution files and their core-metadata files

A blob is written to a temporary file in the same directory, flushed, checked
against the sha256 the upload declared and renamed into place, so no partial
file is ever visible.  File names are immutable: a second upload with a file
name already stored is refused (:class:`DuplicateFileError`, HTTP 400), whatever
its content, as public indexes do.  An internal project name shadows upstream
completely: the registry asks :meth:`InternalStore.project` first and never
resolves such a name upstream.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from assay.registry.model import DistributionFile, ProjectPage
from assay.registry.ports import InternalPackages, RegistryError
from assay.registry.uploads import Upload, UploadError
from assay.vetting.cache import VetSummary

DIRECTORY = "internal"
DATABASE = "internal.sqlite3"
LOCATOR = "internal:"  # DistributionFile.url of an internal file: internal:<sha256>

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    filename TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    filetype TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    blake2_256 TEXT NOT NULL,
    md5 TEXT NOT NULL,
    size INTEGER NOT NULL,
    requires_python TEXT,
    metadata_sha256 TEXT NOT NULL,
    summary TEXT NOT NULL,
    upload_time TEXT NOT NULL,
    uploader TEXT NOT NULL,
    vet_score REAL,
    vet_label TEXT,
    yanked TEXT
);
CREATE INDEX IF NOT EXISTS files_project ON files (project);
"""
_SELECT = (
    "SELECT filename, project, name, version, sha256, size, requires_python, "
    "metadata_sha256, upload_time, yanked FROM files"
)
_BY_PROJECT = _SELECT + " WHERE project = ? ORDER BY upload_time, filename"
_BY_FILENAME = _SELECT + " WHERE filename = ?"


class InternalStoreError(RegistryError):
    """The internal package store cannot be read or written."""

    exit_code = 3


class DuplicateFileError(UploadError):
    """The file name is already stored (files are immutable)."""

    status = 400


@dataclass(frozen=True, slots=True)
class InternalStats:
    projects: int
    files: int
    bytes: int
    yanked: int


def _sort_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


class InternalStore(InternalPackages):
    """The internal packages under ``<directory>/internal/`` (created on first upload)."""

    def __init__(self, directory: Path) -> None:
        self.root = directory / DIRECTORY
        self.database = self.root / DATABASE
        self.blobs = self.root / "files"
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._publish: Callable[[bytes], object] | None = None

    # -- SQLite ---------------------------------------------------------------------------

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        if self._connection is not None:
            return self._connection
        if not create and not self.database.is_file():
            return None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.database, timeout=10, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise InternalStoreError(
                f"{self.database}: cannot open the internal store: {exc}"
            ) from None
        self._connection = connection
        return connection

    def _rows(self, sql: str, parameters: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            connection = self._connect(create=False)
            if connection is None:
                return []
            try:
                return connection.execute(sql, parameters).fetchall()
            except sqlite3.DatabaseError as exc:
                raise InternalStoreError(f"{self.database}: unreadable: {exc}") from None

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # -- InternalPackages port ------------------------------------------------------------

    def project(self, name: NormalizedName) -> ProjectPage | None:
        rows = self._rows(_BY_PROJECT, (canonicalize_name(name),))
        if not rows:
            return None
        files = tuple(_file(row) for row in rows)
        versions = sorted({str(row[3]) for row in rows}, key=_sort_key)
        return ProjectPage(
            name=str(rows[0][2]), files=files, versions=tuple(versions), internal=True
        )

    def open(self, file: DistributionFile) -> Path | None:
        return self._blob(file.sha256)

    def open_metadata(self, file: DistributionFile) -> Path | None:
        """The core-metadata file (PEP 658) of one of this store's files."""
        digest = (file.core_metadata or {}).get("sha256", "")
        return self._blob(digest)

    def publish_metadata_to(self, put: Callable[[bytes], object]) -> int:
        """Also hand every core-metadata file to ``put`` (the registry's file store, which
        serves ``<file>.metadata`` by its sha256): all stored ones now, each new one on upload.
        Returns how many were handed over."""
        self._publish = put
        rows = self._rows("SELECT DISTINCT metadata_sha256 FROM files")
        count = 0
        for (digest,) in rows:
            path = self._blob(str(digest))
            if path is not None:
                put(path.read_bytes())
                count += 1
        return count

    def names(self) -> Iterable[NormalizedName]:
        rows = self._rows("SELECT DISTINCT project FROM files ORDER BY project")
        return [canonicalize_name(str(row[0])) for row in rows]

    # -- writing --------------------------------------------------------------------------

    def add(
        self,
        upload: Upload,
        *,
        uploader: str,
        vet: VetSummary | None = None,
        now: datetime | None = None,
    ) -> DistributionFile:
        """Store one checked upload; a file name already stored raises DuplicateFileError."""
        if self._row(upload.filename) is not None:
            raise DuplicateFileError(file_exists_message(upload.filename))
        self._write_blob(upload.content, upload.sha256)
        metadata_sha256 = hashlib.sha256(upload.metadata).hexdigest()
        self._write_blob(upload.metadata, metadata_sha256)
        if self._publish is not None:
            self._publish(upload.metadata)
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        values = (
            upload.filename,
            upload.project,
            upload.name,
            upload.version,
            upload.filetype,
            upload.sha256,
            upload.digests["blake2_256"],
            upload.digests["md5"],
            len(upload.content),
            upload.requires_python,
            metadata_sha256,
            upload.summary,
            moment.isoformat(timespec="microseconds"),
            uploader,
            None if vet is None else vet.score,
            None if vet is None else vet.label,
        )
        with self._lock:
            connection = self._connect(create=True)
            assert connection is not None
            try:
                with connection:
                    connection.execute(
                        "INSERT INTO files VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,NULL)", values
                    )
            except sqlite3.IntegrityError:
                raise DuplicateFileError(file_exists_message(upload.filename)) from None
            except sqlite3.DatabaseError as exc:
                raise InternalStoreError(f"{self.database}: cannot write: {exc}") from None
        stored = self._row(upload.filename)
        assert stored is not None
        return stored

    def has_file(self, filename: str) -> bool:
        return self._row(filename) is not None

    def yank(self, filename: str, reason: str | None) -> DistributionFile:
        """Mark a file yanked (PEP 592) with an optional reason; ``None`` reason un-yanks."""
        if self._row(filename) is None:
            raise InternalStoreError(f"no internal file named {filename!r}")
        value = None if reason is None else (reason.strip() or "yanked")
        with self._lock:
            connection = self._connect(create=True)
            assert connection is not None
            with connection:
                connection.execute(
                    "UPDATE files SET yanked = ? WHERE filename = ?", (value, filename)
                )
        stored = self._row(filename)
        assert stored is not None
        return stored

    def stats(self) -> InternalStats:
        rows = self._rows(
            "SELECT COUNT(DISTINCT project), COUNT(*), COALESCE(SUM(size), 0), "
            "COUNT(yanked) FROM files"
        )
        if not rows:
            return InternalStats(0, 0, 0, 0)
        projects, files, size, yanked = (int(str(value)) for value in rows[0])
        return InternalStats(projects, files, size, yanked)

    # -- blobs ----------------------------------------------------------------------------

    def _row(self, filename: str) -> DistributionFile | None:
        rows = self._rows(_BY_FILENAME, (filename,))
        return _file(rows[0]) if rows else None

    def _path(self, sha256: str) -> Path:
        return self.blobs / sha256[:2] / sha256

    def _blob(self, sha256: str) -> Path | None:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            return None
        path = self._path(sha256)
        return path if path.is_file() else None

    def _write_blob(self, data: bytes, sha256: str) -> None:
        """Write ``data`` at its content address, atomically, after checking its sha256."""
        if hashlib.sha256(data).hexdigest() != sha256:
            raise UploadError("the stored content does not match its sha256")
        target = self._path(sha256)
        if target.is_file():
            return
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".tmp")
        except OSError as exc:
            raise InternalStoreError(f"{target.parent}: cannot write: {exc}") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            Path(temporary).replace(target)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise InternalStoreError(f"{target}: cannot write: {exc}") from None


def file_exists_message(filename: str) -> str:
    return f"File already exists: {filename!r} (files are immutable; upload a new version)"


def _file(row: tuple[object, ...]) -> DistributionFile:
    filename, project, _, version, sha256, size, requires, metadata, uploaded, yanked = row
    return DistributionFile(
        filename=str(filename),
        url=f"{LOCATOR}{sha256}",
        hashes={"sha256": str(sha256)},
        project=canonicalize_name(str(project)),
        version=str(version),
        requires_python=None if requires is None else str(requires),
        yanked=False if yanked is None else str(yanked),
        size=int(str(size)),
        upload_time=datetime.fromisoformat(str(uploaded)),
        core_metadata={"sha256": str(metadata)},
    )
