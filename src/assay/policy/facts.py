"""What the policy engine decides on: the facts known about one package version.

Facts are gathered at the edges (the advisory database, the package index,
the vetting cache, the environment itself) and handed to the pure engine.  A
fact that could not be gathered is ``None``, never a guess: the engine treats
"unknown" explicitly (each rule says whether unknown passes, warns or blocks)
and the decision lists which facts were unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from packaging.utils import NormalizedName


@dataclass(frozen=True, slots=True)
class VulnerabilityFact:
    """One advisory that affects the package version (one per alias group)."""

    id: str  # the advisory id the audit shows (e.g. PYSEC-..., GHSA-...)
    aliases: tuple[str, ...]  # every other id of the same vulnerability (CVE-..., GHSA-...)
    severity: str  # label: critical, high, medium, low, none, unknown
    score: float | None  # the CVSS base score when a vector was given
    fixed_versions: tuple[str, ...]  # versions that fix it ("" none known)
    summary: str = ""


@dataclass(frozen=True, slots=True)
class PackageFacts:
    """Everything the policy may look at for one package version.

    ``None`` means "not available" (offline, not cached, the source cannot tell);
    an empty tuple means "looked, found nothing".
    """

    name: NormalizedName
    version: str | None  # None: unpinned (a requirement without ==)
    license_expression: str | None = None  # SPDX expression; None: unknown
    vulnerabilities: tuple[VulnerabilityFact, ...] | None = None
    vet_score: float | None = None  # 0-10 from `assay vet`
    vet_label: str | None = None
    vet_reasons: tuple[str, ...] = ()  # one line per finding that produced the score
    squat_findings: tuple[str, ...] | None = None  # typosquat / slopsquat explanations
    release_time: datetime | None = None  # upload time of this version (timezone-aware)
    latest_release_time: datetime | None = None  # the project's newest upload (staleness)
    yanked: bool | None = None
    yanked_reason: str | None = None
    project_status: str | None = None  # PEP 792: active, archived, quarantined, deprecated
    project_status_reason: str | None = None  # the index's explanation of the status
    pinned: bool = True  # an exact version (== or a lock entry)
    hashed: bool = False  # at least one artifact hash is recorded
    direct: bool | None = None  # requested directly (None: the source cannot tell)
