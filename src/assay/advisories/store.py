"""The local advisory database: one SQLite file behind the :class:`AdvisorySource` port.

Each record is stored as the canonical JSON of the original OSV document with
its ``modified`` time, ``withdrawn`` time, the source it was imported from and
a ``sha256`` digest of that JSON; aliases and the PEP 503 names of affected
packages are indexed for lookups.  Parsed :class:`Advisory` values are cached
per (id, digest), so a warm single-package lookup is one indexed query.

Writes happen only inside :meth:`AdvisoryDatabase.importing`, one transaction
per import: a failed import leaves the previous database as it was.  The file
uses SQLite's WAL journal, so readers keep their snapshot while an import runs.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from assay.advisories.catalog import (
    DatabaseStatus,
    ImportCounts,
    Outcome,
    Problem,
    SourceInfo,
    normalise_timestamp,
    record_digest,
)
from assay.advisories.model import Advisory
from assay.advisories.osv import OsvRecordError, parse_record
from assay.advisories.ports import AdvisoryError, AdvisorySource

SCHEMA_VERSION = 1
APPLICATION_ID = 0x61737379  # "assy": marks the file as an assay advisory database
HOW_TO_BUILD = "build it with 'assay db import <path>' or 'assay db sync'"
_CACHE_LIMIT = 200_000

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE records (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,       -- normalised UTC, sortable: 2024-01-31T12:00:00.000000Z
    withdrawn TEXT,
    source TEXT NOT NULL,         -- what was imported (a path or URL)
    location TEXT NOT NULL,       -- the file or archive member inside it
    digest TEXT NOT NULL,         -- sha256 of the canonical JSON document
    document TEXT NOT NULL        -- last: lookups that skip it never read its overflow pages
);
CREATE TABLE aliases (alias TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (alias, id))
    WITHOUT ROWID;
CREATE INDEX aliases_by_id ON aliases (id);
CREATE TABLE affected (name TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (name, id))
    WITHOUT ROWID;
CREATE INDEX affected_by_id ON affected (id);
CREATE TABLE problems (source TEXT NOT NULL, location TEXT NOT NULL, message TEXT NOT NULL);
CREATE INDEX problems_by_source ON problems (source);
CREATE TABLE sources (
    source TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    records INTEGER NOT NULL,
    added INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    older INTEGER NOT NULL,
    skipped INTEGER NOT NULL
) WITHOUT ROWID;
"""

# Lookups read (id, digest) first; documents are only read for ids not cached at that digest.
_QUERY = (
    "SELECT r.id, r.digest FROM affected AS a JOIN records AS r ON r.id = a.id"
    " WHERE a.name = ? AND r.withdrawn IS NULL ORDER BY r.id"
)
_FIND = (
    "SELECT id, digest FROM records WHERE id = ?1"
    " UNION SELECT r.id, r.digest FROM aliases AS a JOIN records AS r"
    " ON r.id = a.id WHERE a.alias = ?1 ORDER BY 1"
)
_DOCUMENT = "SELECT digest, document FROM records WHERE id = ?"

__all__ = [
    "AdvisoryDatabase",
    "DatabaseStatus",
    "ImportCounts",
    "ImportTransaction",
    "Outcome",
    "Problem",
    "SourceInfo",
    "normalise_timestamp",
    "record_digest",
]


def _corrupt(path: Path, detail: object) -> AdvisoryError:
    return AdvisoryError(
        f"{path}: not a usable assay advisory database ({detail}); "
        f"move it away, then {HOW_TO_BUILD}"
    )


def _connect(path: Path, *, create: bool) -> sqlite3.Connection:
    mode = "rwc" if create else "rw"
    try:
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode={mode}",
            uri=True,
            isolation_level=None,  # transactions are explicit (BEGIN IMMEDIATE ... COMMIT)
            check_same_thread=False,  # shared by server threads, guarded by a lock
            timeout=30.0,
        )
    except sqlite3.Error as exc:
        raise AdvisoryError(f"{path}: cannot open the advisory database: {exc}") from None
    return connection


def _create(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AdvisoryError(f"{path.parent}: cannot create directory: {exc}") from None
    connection = _connect(path, create=True)
    try:
        if connection.execute("PRAGMA page_count").fetchone()[0] == 0:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.executescript("BEGIN IMMEDIATE;" + _SCHEMA)  # one transaction
            connection.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
            connection.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        connection.close()
        raise _corrupt(path, exc) from None
    return connection


def _check(connection: sqlite3.Connection, path: Path) -> None:
    """Refuse files that are not an assay advisory database of this schema."""
    try:
        app_id = connection.execute("PRAGMA application_id").fetchone()[0]
        if app_id != APPLICATION_ID:
            raise _corrupt(path, "a SQLite file of another application")
        row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise _corrupt(path, exc) from None
    if row is None or row[0] != str(SCHEMA_VERSION):
        found = "none" if row is None else row[0]
        raise _corrupt(path, f"schema version {found}, this assay reads {SCHEMA_VERSION}")


class AdvisoryDatabase(AdvisorySource):
    """The advisories in one SQLite file; open with the constructor or :meth:`open_for_write`."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        """Open an existing database; AdvisoryError (exit 4) when missing or not ours.

        With ``create`` (what importers use, see :meth:`open_for_write`) a missing
        or empty file, and its directory, are created with the schema.
        """
        self.path = Path(path)
        if create:
            self._connection = _create(self.path)
        elif not self.path.is_file() or self.path.stat().st_size == 0:
            raise AdvisoryError(f"no advisory database at {self.path}; {HOW_TO_BUILD}")
        else:
            self._connection = _connect(self.path, create=False)
        self._setup()

    @classmethod
    def open_for_write(cls, path: Path) -> AdvisoryDatabase:
        """Open the database at ``path`` for importing, creating it (and its directory)."""
        return cls(path, create=True)

    def _setup(self) -> None:
        self._lock = threading.RLock()
        self._cache: dict[str, tuple[str, Advisory]] = {}
        try:
            _check(self._connection, self.path)
        except BaseException:
            self._connection.close()
            raise

    # -- reading ----------------------------------------------------------------------------

    def _advisories(self, rows: Sequence[tuple[Any, ...]]) -> tuple[Advisory, ...]:
        found = []
        for advisory_id, digest in rows:
            cached = self._cache.get(advisory_id)
            if cached is None or cached[0] != digest:
                cached = self._load(advisory_id)
            found.append(cached[1])
        return tuple(found)

    def _load(self, advisory_id: str) -> tuple[str, Advisory]:
        rows = self._rows(_DOCUMENT, advisory_id)
        if not rows:  # replaced by another process's import between the two reads
            raise AdvisoryError(f"{self.path}: record {advisory_id} vanished; retry")
        digest, document = rows[0]
        try:
            advisory = parse_record(json.loads(document), document)
        except (ValueError, OsvRecordError) as exc:
            raise _corrupt(self.path, f"record {advisory_id}: {exc}") from None
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[advisory_id] = (digest, advisory)
        return digest, advisory

    def _rows(self, sql: str, *parameters: object) -> list[tuple[Any, ...]]:
        try:
            return self._connection.execute(sql, parameters).fetchall()
        except sqlite3.DatabaseError as exc:
            raise _corrupt(self.path, exc) from None

    def query(self, name: str) -> tuple[Advisory, ...]:
        """Non-withdrawn advisories naming ``name`` (normalised to PEP 503), sorted by id."""
        with self._lock:
            return self._advisories(self._rows(_QUERY, canonicalize_name(name)))

    def find(self, advisory_id: str) -> tuple[Advisory, ...]:
        """Every advisory (withdrawn too) whose id or one of whose aliases is ``advisory_id``."""
        with self._lock:
            return self._advisories(self._rows(_FIND, advisory_id))

    def get(self, advisory_id: str) -> Advisory | None:
        """The record with this id, else the first (by id) that has it as an alias."""
        found = self.find(advisory_id)
        exact = [a for a in found if a.id == advisory_id]
        return exact[0] if exact else (found[0] if found else None)

    def _scalar(self, sql: str) -> Any:
        try:
            return self._connection.execute(sql).fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise _corrupt(self.path, exc) from None

    def digest(self) -> str:
        """sha256 over the sorted (id, record digest) pairs: equal content, equal digest."""
        outer = hashlib.sha256()
        with self._lock:
            for advisory_id, digest in self._rows("SELECT id, digest FROM records ORDER BY id"):
                outer.update(f"{advisory_id}\0{digest}\n".encode())
        return "sha256:" + outer.hexdigest()

    def sources(self) -> tuple[SourceInfo, ...]:
        rows = self._rows(
            "SELECT source, kind, imported_at, added, updated, unchanged, older, skipped"
            " FROM sources ORDER BY imported_at, source"
        )
        return tuple(SourceInfo(row[0], row[1], row[2], ImportCounts(*row[3:])) for row in rows)

    def problems(self) -> tuple[Problem, ...]:
        rows = self._rows(
            "SELECT source, location, message FROM problems ORDER BY source, location, rowid"
        )
        return tuple(Problem(*row) for row in rows)

    def status(self) -> DatabaseStatus:
        with self._lock:
            newest = self._scalar("SELECT max(modified) FROM records")
            return DatabaseStatus(
                path=self.path,
                schema_version=SCHEMA_VERSION,
                records=int(self._scalar("SELECT count(*) FROM records")),
                withdrawn=int(
                    self._scalar("SELECT count(*) FROM records WHERE withdrawn IS NOT NULL")
                ),
                packages=int(self._scalar("SELECT count(DISTINCT name) FROM affected")),
                aliases=int(self._scalar("SELECT count(DISTINCT alias) FROM aliases")),
                newest_modified=None if newest is None else str(newest),
                digest=self.digest(),
                sources=self.sources(),
                problems=int(self._scalar("SELECT count(*) FROM problems")),
            )

    # -- writing ----------------------------------------------------------------------------

    @contextmanager
    def importing(self) -> Iterator[ImportTransaction]:
        """One import transaction: committed when the block ends, rolled back on any error."""
        with self._lock:
            try:
                self._connection.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise _corrupt(self.path, exc) from None
            try:
                yield ImportTransaction(self._connection)
            except BaseException:
                self._connection.rollback()
                raise
            try:
                self._connection.commit()
            except sqlite3.DatabaseError as exc:
                self._connection.rollback()
                raise AdvisoryError(f"{self.path}: import not saved: {exc}") from None

    def close(self) -> None:
        with self._lock:
            self._connection.close()
            self._cache.clear()

    def __enter__(self) -> AdvisoryDatabase:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class ImportTransaction:
    """The write side, only available inside :meth:`AdvisoryDatabase.importing`."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def put(self, advisory: Advisory, source: str, location: str) -> Outcome:
        """Store one record by the incremental rule.

        A record is added when its id is new; it replaces the stored one when its
        ``modified`` time is later, or when the times are equal but the content
        (digest) differs (the latest import wins a tie); an older ``modified``
        keeps the stored record.  Raises OsvRecordError for an invalid time.
        """
        modified = normalise_timestamp(advisory.modified)
        withdrawn = (
            normalise_timestamp(advisory.withdrawn, "withdrawn") if advisory.withdrawn else None
        )
        digest = record_digest(advisory)
        db = self._connection
        row = db.execute("SELECT modified, digest FROM records WHERE id = ?", (advisory.id,))
        stored = row.fetchone()
        if stored is not None:
            if modified < stored[0]:
                return Outcome.OLDER
            if modified == stored[0] and digest == stored[1]:
                return Outcome.UNCHANGED
            db.execute("DELETE FROM aliases WHERE id = ?", (advisory.id,))
            db.execute("DELETE FROM affected WHERE id = ?", (advisory.id,))
        db.execute(
            "INSERT OR REPLACE INTO records"
            " (id, modified, withdrawn, source, location, digest, document)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (advisory.id, modified, withdrawn, source, location, digest, advisory.document),
        )
        db.executemany(
            "INSERT OR IGNORE INTO aliases (alias, id) VALUES (?, ?)",
            [(alias, advisory.id) for alias in advisory.aliases],
        )
        db.executemany(
            "INSERT OR IGNORE INTO affected (name, id) VALUES (?, ?)",
            [(name, advisory.id) for name in advisory.affected_names()],
        )
        return Outcome.ADDED if stored is None else Outcome.UPDATED

    def clear_problems(self, source: str) -> None:
        """Forget the problems of an earlier import of ``source`` (called when re-importing)."""
        self._connection.execute("DELETE FROM problems WHERE source = ?", (source,))

    def problem(self, problem: Problem) -> None:
        self._connection.execute(
            "INSERT INTO problems (source, location, message) VALUES (?, ?, ?)",
            (problem.source, problem.location, problem.message),
        )

    def record_source(self, source: str, kind: str, counts: ImportCounts) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._connection.execute(
            "INSERT OR REPLACE INTO sources (source, kind, imported_at, records, added, updated,"
            " unchanged, older, skipped) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                source,
                kind,
                now,
                counts.records,
                counts.added,
                counts.updated,
                counts.unchanged,
                counts.older,
                counts.skipped,
            ),
        )
