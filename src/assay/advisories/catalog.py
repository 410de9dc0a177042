"""Values that describe the advisory database and what an import did (pure, no I/O).

The incremental rule lives with :class:`Outcome`: a record is added when its
id is new; it replaces the stored one when its ``modified`` time is later, or
when the times are equal but its content digest differs (the latest import
wins a tie); an older ``modified`` keeps the stored record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from assay.advisories.model import Advisory
from assay.advisories.osv import OsvRecordError


class Outcome(StrEnum):
    """What storing one record did, by the incremental rule above."""

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    OLDER = "older"  # the database already holds a newer version: kept


@dataclass(frozen=True, slots=True)
class Problem:
    """A record an import skipped: where it was and why."""

    source: str
    location: str
    message: str


@dataclass(frozen=True, slots=True)
class ImportCounts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0
    skipped: int = 0

    @property
    def records(self) -> int:
        """Records read successfully (every outcome except skipped)."""
        return self.added + self.updated + self.unchanged + self.older


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """The latest import of one source."""

    source: str
    kind: str
    imported_at: str
    counts: ImportCounts


@dataclass(frozen=True, slots=True)
class DatabaseStatus:
    path: Path
    schema_version: int
    records: int
    withdrawn: int
    packages: int
    aliases: int
    newest_modified: str | None
    digest: str
    sources: tuple[SourceInfo, ...]
    problems: int


def normalise_timestamp(value: str, field: str = "modified") -> str:
    """An RFC 3339 time as sortable UTC text; OsvRecordError when it is not a time."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise OsvRecordError(f"{field!r} is not an RFC 3339 time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_digest(advisory: Advisory) -> str:
    """sha256 of the record's canonical JSON (``Advisory.document``)."""
    return "sha256:" + hashlib.sha256(advisory.document.encode("utf-8")).hexdigest()
