"""OSV advisory records as frozen values (only what assay reasons about).

The full original record is kept as canonical JSON in ``Advisory.document``
so that it can be served back unchanged (``GET /v1/vulns/{id}``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class EventKind(StrEnum):
    INTRODUCED = "introduced"
    FIXED = "fixed"
    LAST_AFFECTED = "last_affected"
    LIMIT = "limit"


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    version: str


@dataclass(frozen=True, slots=True)
class Range:
    """One ``affected[].ranges[]`` entry; only ECOSYSTEM ranges are used for matching."""

    type: str
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class Affected:
    """One ``affected[]`` entry for a PyPI package (name in PEP 503 form)."""

    name: str
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    severity: tuple[SeverityVector, ...] = ()


@dataclass(frozen=True, slots=True)
class SeverityVector:
    """A ``severity[]`` entry as written: type (``CVSS_V3``...) and score (a vector)."""

    type: str
    score: str


@dataclass(frozen=True, slots=True)
class Reference:
    type: str
    url: str


@dataclass(frozen=True, slots=True)
class Advisory:
    """An OSV record narrowed to the PyPI ecosystem."""

    id: str
    modified: str
    published: str | None = None
    withdrawn: str | None = None
    aliases: tuple[str, ...] = ()
    summary: str | None = None
    details: str | None = None
    affected: tuple[Affected, ...] = ()
    severity: tuple[SeverityVector, ...] = ()
    references: tuple[Reference, ...] = ()
    database_severity: str | None = None  # e.g. GHSA's database_specific.severity label
    document: str = field(default="", compare=False, repr=False)

    @property
    def ids(self) -> tuple[str, ...]:
        """This record's id followed by its aliases."""
        return (self.id, *(a for a in self.aliases if a != self.id))

    def affected_names(self) -> tuple[str, ...]:
        return tuple(sorted({a.name for a in self.affected}))
