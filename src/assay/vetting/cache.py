"""Adapter: the vet result cache, one SQLite file keyed by the sha256 of each vetted file.

``assay vet`` writes every verdict on a file here (``--no-cache`` skips it); the
policy gate and the registry read it.  The API is stable::

    from assay.vetting.cache import VetCache, VetSummary, default_path

    cache = VetCache(default_path(settings))      # <settings.home>/vet-cache.sqlite3
    summary = cache.get(sha256_hex)               # VetSummary | None
    cache.put(summary)                            # insert or replace (by sha256)
    for s in cache.find("Requests", "2.32.3"):    # every file of a release, by file name
        ...
    cache.close()                                 # or use it as a context manager

* :class:`VetSummary` is a frozen value: ``name`` (PEP 503 canonical), ``version``
  (PEP 440 normal form when valid; :meth:`VetCache.find` matches versions PEP 440
  calls equal, ``1.0`` and ``1.0.0``), ``filename``, ``sha256`` (lower-case hex of
  the file's bytes), ``score`` (0-10), ``label`` (none, low, medium, high,
  critical), ``reasons`` (one line each: the name findings and package findings
  that produced the score), ``engine_version`` and ``vetted_at`` (ISO 8601, UTC).
  The score is the verdict of :mod:`assay.vetting.verdict`: package analysis
  and name checks as they stood at ``vetted_at`` (slopsquat signals change
  with time; re-vet to refresh them).
* Results of another :data:`ENGINE_VERSION` are stale: :meth:`VetCache.get` and
  :meth:`VetCache.find` ignore them (they are replaced on the next ``put``).
  Bump :data:`RULESET` whenever rules, scoring or the verdict change.
* Directories have no sha256 and are never cached.
* A file that is not a vet cache of this schema (corrupt, another SQLite
  application, a newer schema) raises :class:`VetCacheError` (exit code 4)
  naming the file; it is never overwritten.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from packaging.utils import canonicalize_name, canonicalize_version
from packaging.version import InvalidVersion, Version

from assay import __version__
from assay.errors import AssayError
from assay.settings import Settings
from assay.vetting.verdict import Verdict, normal_version

RULESET = 3  # bump when rules, scoring or the verdict change: older results become stale
ENGINE_VERSION = f"{__version__}+vet.{RULESET}"
FILE_NAME = "vet-cache.sqlite3"
SCHEMA_VERSION = 1
APPLICATION_ID = 0x61737663  # "asvc"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE results (
    sha256 TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    version_key TEXT NOT NULL,
    filename TEXT NOT NULL,
    score REAL NOT NULL,
    label TEXT NOT NULL,
    reasons TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    vetted_at TEXT NOT NULL
);
CREATE INDEX results_release ON results (name, version_key);
"""


_COLUMNS = "name, version, filename, sha256, score, label, reasons, engine_version, vetted_at"
_BY_HASH = f"SELECT {_COLUMNS} FROM results WHERE engine_version = ? AND sha256 = ?"  # noqa: S608
_BY_RELEASE = (
    f"SELECT {_COLUMNS} FROM results "  # noqa: S608 - constant column list
    "WHERE engine_version = ? AND name = ? AND version_key = ? ORDER BY filename"
)


class VetCacheError(AssayError):
    """The vet cache cannot be opened, read or written."""

    exit_code = 4


@dataclass(frozen=True, slots=True)
class VetSummary:
    """What the cache keeps about one vetted file."""

    name: str
    version: str
    filename: str
    sha256: str
    score: float
    label: str
    reasons: tuple[str, ...]
    engine_version: str = ENGINE_VERSION
    vetted_at: str = ""

    def __post_init__(self) -> None:
        if not _SHA256.match(self.sha256):
            raise ValueError(f"not a lower-case hex sha256: {self.sha256!r}")
        if any("\n" in line for line in self.reasons):
            raise ValueError("each reason must be one line")


def version_key(version: str) -> str:
    """Equal for versions PEP 440 calls equal (``1.0`` and ``1.0.0``); else the text."""
    try:
        return canonicalize_version(Version(version), strip_trailing_zero=True)
    except InvalidVersion:
        return version.strip()


def default_path(settings: Settings) -> Path:
    return settings.home / FILE_NAME


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def summary_of(verdict: Verdict, vetted_at: str | None = None) -> VetSummary | None:
    """The cache entry for a verdict; None when it cannot be cached (no sha256 or name)."""
    identity = verdict.identity
    if verdict.sha256 is None or identity.name is None or identity.version is None:
        return None
    return VetSummary(
        name=identity.name,
        version=identity.version,
        filename=verdict.file.replace("\\", "/").rsplit("/", 1)[-1],
        sha256=verdict.sha256.lower(),
        score=verdict.score,
        label=verdict.label,
        reasons=tuple(" ".join(line.split()) for line in verdict.reason_lines()),
        vetted_at=vetted_at or now(),
    )


class VetCache:
    """The results in one SQLite file, created (with its directory) on first use."""

    def __init__(self, path: Path, *, engine_version: str = ENGINE_VERSION) -> None:
        self.path = Path(path)
        self.engine_version = engine_version
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise VetCacheError(f"{self.path}: cannot open the vet cache: {exc}") from None
        try:
            self._setup()
        except sqlite3.DatabaseError as exc:
            self._connection.close()
            raise self._corrupt(exc) from None
        except VetCacheError:
            self._connection.close()
            raise

    def _corrupt(self, detail: object) -> VetCacheError:
        return VetCacheError(
            f"{self.path}: not a usable assay vet cache ({detail}); move it away or delete it "
            "(it only holds results that 'assay vet' can compute again)"
        )

    def _setup(self) -> None:
        connection = self._connection
        if connection.execute("PRAGMA page_count").fetchone()[0] == 0:
            connection.execute("PRAGMA journal_mode = WAL")  # readers never wait for a writer
            connection.executescript("BEGIN IMMEDIATE;" + _SCHEMA)
            connection.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
            connection.execute("COMMIT")
            return
        if connection.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            raise self._corrupt("a SQLite file of another application")
        row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None or row[0] != str(SCHEMA_VERSION):
            found = "none" if row is None else row[0]
            raise self._corrupt(f"schema version {found}, this assay reads {SCHEMA_VERSION}")

    def get(self, sha256: str) -> VetSummary | None:
        """The current-engine result for a file's sha256, or None."""
        rows = self._select(_BY_HASH, (sha256.lower(),))
        return rows[0] if rows else None

    def find(self, name: str, version: str) -> tuple[VetSummary, ...]:
        """The current-engine results for every file of one release, by file name."""
        return self._select(_BY_RELEASE, (canonicalize_name(name), version_key(version)))

    def put(self, summary: VetSummary) -> None:
        """Insert or replace the result for ``summary.sha256``."""
        values = (
            summary.sha256,
            canonicalize_name(summary.name),
            normal_version(summary.version),
            version_key(summary.version),
            summary.filename,
            float(summary.score),
            summary.label,
            json.dumps(list(summary.reasons)),
            summary.engine_version,
            summary.vetted_at or now(),
        )
        try:
            self._connection.execute(
                "INSERT OR REPLACE INTO results (sha256, name, version, version_key, filename, "
                "score, label, reasons, engine_version, vetted_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
        except sqlite3.Error as exc:
            raise VetCacheError(f"{self.path}: cannot write the vet cache: {exc}") from None

    def _select(self, query: str, parameters: tuple[str, ...]) -> tuple[VetSummary, ...]:
        try:
            rows = self._connection.execute(query, (self.engine_version, *parameters)).fetchall()
            return tuple(_summary(row) for row in rows)
        except (sqlite3.Error, ValueError, TypeError) as exc:
            raise self._corrupt(exc) from None

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> VetCache:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _summary(row: tuple[object, ...]) -> VetSummary:
    name, version, filename, sha256, score, label, reasons, engine, vetted_at = row
    lines = json.loads(str(reasons))
    if not isinstance(lines, list):
        raise TypeError("reasons is not a list")
    return VetSummary(
        name=str(name),
        version=str(version),
        filename=str(filename),
        sha256=str(sha256),
        score=float(str(score)),
        label=str(label),
        reasons=tuple(str(line) for line in lines),
        engine_version=str(engine),
        vetted_at=str(vetted_at),
    )
