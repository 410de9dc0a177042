"""Severity scores computed from CVSS vectors with the ``cvss`` library."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from assay.advisories.model import Advisory, SeverityVector


class Level(IntEnum):
    """Qualitative severity, ordered so that thresholds compare."""

    UNKNOWN = 0
    NONE = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4
    CRITICAL = 5

    @classmethod
    def parse(cls, text: str) -> Level:
        normalised = text.strip().upper()
        if normalised == "MODERATE":  # GitHub's word for MEDIUM
            return cls.MEDIUM
        try:
            return cls[normalised]
        except KeyError:
            raise ValueError(text) from None

    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Severity:
    """The worst score found on an advisory, and where it came from."""

    level: Level
    score: float | None = None
    vector: str | None = None
    kind: str | None = None  # CVSS_V3, CVSS_V4, ... or "database" for a label without a vector

    def describe(self) -> str:
        if self.score is None:
            if self.level is Level.UNKNOWN:
                return "unknown (no CVSS vector)"
            return f"{self.level.label()} (label only, no CVSS vector)"
        return f"{self.level.label()} {self.score:.1f}"


def _from_score(score: float) -> Level:
    if score == 0:
        return Level.NONE
    if score < 4:
        return Level.LOW
    if score < 7:
        return Level.MEDIUM
    if score < 9:
        return Level.HIGH
    return Level.CRITICAL


def score_vector(vector: SeverityVector) -> Severity | None:
    """The base score of one vector, or None when it cannot be scored."""
    try:
        if vector.type == "CVSS_V4":
            v4 = CVSS4(vector.score)
            score = float(v4.base_score)
        elif vector.type == "CVSS_V3":
            score = float(CVSS3(vector.score).base_score)
        elif vector.type == "CVSS_V2":
            score = float(CVSS2(vector.score).base_score)
        else:
            return None
    except (CVSSError, ValueError, KeyError, IndexError):
        return None
    return Severity(level=_from_score(score), score=score, vector=vector.score, kind=vector.type)


def advisory_severity(advisory: Advisory) -> Severity:
    """The highest scored vector of the record and its affected entries.

    Newer CVSS versions are preferred when a record gives several; a record
    with no usable vector falls back to the database's own label, else UNKNOWN.
    """
    vectors = list(advisory.severity) + [v for a in advisory.affected for v in a.severity]
    scored = [s for v in vectors if (s := score_vector(v)) is not None]
    if scored:
        preference = {"CVSS_V4": 3, "CVSS_V3": 2, "CVSS_V2": 1}
        best_kind = max(preference.get(s.kind or "", 0) for s in scored)
        candidates = [s for s in scored if preference.get(s.kind or "", 0) == best_kind]
        return max(candidates, key=lambda s: s.score or 0.0)
    if advisory.database_severity:
        try:
            return Severity(level=Level.parse(advisory.database_severity), kind="database")
        except ValueError:
            pass
    return Severity(level=Level.UNKNOWN)
