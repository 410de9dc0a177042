"""Adapter: the registry's state in one SQLite file (WAL mode).

Tables: ``pages`` (each upstream project page as fetched: JSON, revalidation
data, fetch time), ``files`` (sha256 -> the project and file name it was
listed as, so ``/files/<sha256>/<name>`` can be resolved), ``blocked`` (every
refused download with its reasons), ``pending`` (files being vetted) and
``counters``.  One connection, shared by the event loop and worker threads
behind a lock.  Hot counters are kept in memory and written by :meth:`flush`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from assay.registry import pages
from assay.registry.ports import RegistryError, UpstreamPage

APPLICATION_ID = 0x61737267  # "asrg"
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pages (
    project TEXT PRIMARY KEY, body TEXT NOT NULL, validators TEXT NOT NULL,
    fetched_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT NOT NULL, filename TEXT NOT NULL, project TEXT NOT NULL,
    PRIMARY KEY (sha256, filename));
CREATE TABLE IF NOT EXISTS blocked (
    id INTEGER PRIMARY KEY, at REAL NOT NULL, index_name TEXT NOT NULL, stage TEXT NOT NULL,
    project TEXT NOT NULL, filename TEXT NOT NULL, sha256 TEXT NOT NULL, reasons TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pending (sha256 TEXT PRIMARY KEY, filename TEXT NOT NULL,
    since REAL NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class CachedPage:
    upstream: UpstreamPage
    fetched_at: float


@dataclass(frozen=True, slots=True)
class BlockedRequest:
    at: float
    index: str
    stage: str
    project: str
    filename: str
    sha256: str
    reasons: str


class RegistryState:
    """The SQLite state file, created with its directory on first use."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """Open (creating it and its directory) the state; ``read_only``: the file must exist,
        nothing is created or written (``assay registry status`` without a server)."""
        self.path = Path(path)
        self.read_only = read_only
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        try:
            if read_only:
                self._db = sqlite3.connect(
                    f"{self.path.resolve().as_uri()}?mode=ro",
                    uri=True,
                    isolation_level=None,
                    check_same_thread=False,
                )
                self._check_application()
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._setup()
        except (OSError, sqlite3.Error) as exc:
            raise RegistryError(f"{self.path}: cannot open the registry state: {exc}") from None

    def _check_application(self) -> None:
        application = self._db.execute("PRAGMA application_id").fetchone()[0]
        tables = self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if (tables or self.read_only) and application != APPLICATION_ID:
            self._db.close()
            raise RegistryError(
                f"{self.path}: not an assay registry state file (another SQLite application)"
            )

    def _setup(self) -> None:
        self._check_application()
        self._db.executescript("BEGIN IMMEDIATE;" + _SCHEMA)  # leaves the transaction open
        self._db.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
        self._db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        self._db.execute("COMMIT")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        if not self.read_only:
            self.flush()
        with self._lock:
            self._db.close()

    # pages -----------------------------------------------------------------
    def page(self, project: NormalizedName) -> CachedPage | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body, validators, fetched_at FROM pages WHERE project = ?", (project,)
            ).fetchone()
        if row is None:
            return None
        upstream = UpstreamPage(page=pages.loads(row[0]), validators=row[1])
        return CachedPage(upstream=upstream, fetched_at=float(row[2]))

    def save_page(self, project: NormalizedName, fetched: UpstreamPage, at: float) -> None:
        page = fetched.page
        rows = [(f.sha256, f.filename, project) for f in page.files if f.sha256]
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?)",
                (project, pages.dumps(page), fetched.validators, at),
            )
            db.executemany("INSERT OR IGNORE INTO files VALUES (?, ?, ?)", rows)

    def touch_page(self, project: NormalizedName, at: float) -> None:
        with self._write() as db:
            db.execute("UPDATE pages SET fetched_at = ? WHERE project = ?", (at, project))

    def projects(self) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT project FROM pages ORDER BY project").fetchall()
        return [str(r[0]) for r in rows]

    def file_project(self, sha256: str, filename: str) -> NormalizedName | None:
        """The project a file was listed under (by digest and name), None if never listed."""
        with self._lock:
            row = self._db.execute(
                "SELECT project FROM files WHERE sha256 = ? AND filename = ?", (sha256, filename)
            ).fetchone()
        return None if row is None else canonicalize_name(str(row[0]))

    # blocked requests, pending vetting, counters ---------------------------
    def record_blocked(self, entry: BlockedRequest) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO blocked (at, index_name, stage, project, filename, sha256, reasons) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.at,
                    entry.index,
                    entry.stage,
                    entry.project,
                    entry.filename,
                    entry.sha256,
                    entry.reasons,
                ),
            )

    def blocked(self, limit: int = 100) -> list[BlockedRequest]:
        with self._lock:
            rows = self._db.execute(
                "SELECT at, index_name, stage, project, filename, sha256, reasons FROM blocked "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [BlockedRequest(float(r[0]), *(str(v) for v in r[1:])) for r in rows]

    def start_vetting(self, sha256: str, filename: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO pending VALUES (?, ?, ?)", (sha256, filename, time.time())
            )

    def end_vetting(self, sha256: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM pending WHERE sha256 = ?", (sha256,))

    def pending(self) -> list[tuple[str, str, float]]:
        with self._lock:
            rows = self._db.execute("SELECT sha256, filename, since FROM pending").fetchall()
        return [(str(r[0]), str(r[1]), float(r[2])) for r in rows]

    def count(self, name: str, amount: int = 1) -> None:
        """Add to a counter in memory (written by :meth:`flush`)."""
        self._counts[name] += amount

    def flush(self) -> None:
        counts, self._counts = self._counts, Counter()
        if not counts:
            return
        with self._write() as db:
            db.executemany(
                "INSERT INTO counters VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                list(counts.items()),
            )

    def counters(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT name, value FROM counters").fetchall()
        totals = Counter({str(r[0]): int(r[1]) for r in rows})
        totals.update(self._counts)
        return dict(sorted(totals.items()))

    def reset_pending(self) -> None:
        """Forget vetting that a previous process left unfinished (it starts again on demand)."""
        with self._write() as db:
            db.execute("DELETE FROM pending")
