"""Slopsquat signals: names that look plausible but are not established upstream.

A port, :class:`ProjectInfoSource`, answers ``project(name)`` with what the
upstream index knows (:class:`ProjectInfo`), ``None`` when the index has no such
project, or raises :class:`UpstreamUnavailableError` when it cannot be asked
(offline, unreachable, no index configured).  :func:`upstream_findings` turns
that into findings; when the index cannot be asked the result is an explicit
``upstream-unavailable`` finding (severity *unknown*), never an empty list.
The adapter over the PEP 691 JSON simple API is
:mod:`assay.vetting.upstream_projects`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from assay.advisories.severity import Level
from assay.errors import AssayError
from assay.vetting.names import NameFinding, NameIndex, canonicalize, valid_name

MISSING = "upstream-missing"
YOUNG = "upstream-new-project"
FEW_RELEASES = "upstream-few-releases"
PLAUSIBLE_UNKNOWN = "slopsquat-plausible-name"
UNAVAILABLE = "upstream-unavailable"

RULES: dict[str, tuple[Level, str]] = {
    MISSING: (Level.CRITICAL, "no such project on the upstream index: nothing to install"),
    YOUNG: (Level.MEDIUM, "the first release is very recent"),
    FEW_RELEASES: (Level.LOW, "very few releases"),
    PLAUSIBLE_UNKNOWN: (
        Level.HIGH,
        "made of words popular packages use, yet not established (a name an LLM may invent)",
    ),
    UNAVAILABLE: (Level.UNKNOWN, "upstream metadata unavailable: slopsquat checks not run"),
}


class UpstreamUnavailableError(AssayError):
    """The upstream index could not be asked (offline, unreachable, not configured)."""

    exit_code = 3


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    """What the upstream index says about one project."""

    name: str
    releases: int  # versions listed (files grouped by version when the index lists none)
    files: int
    first_upload: datetime | None  # earliest file upload-time (PEP 700), if the index gives one
    latest_upload: datetime | None


class ProjectInfoSource(ABC):
    """Port: project metadata from an upstream index."""

    @abstractmethod
    def project(self, name: str) -> ProjectInfo | None:
        """The project's metadata, or None when the index has no such project.

        Raises :class:`UpstreamUnavailableError` when the index cannot be asked.
        """


@dataclass(frozen=True, slots=True)
class Thresholds:
    young_days: int = 30  # a first release younger than this is "new"
    min_releases: int = 3  # fewer releases than this is "few"


def upstream_findings(
    name: str,
    info: ProjectInfo | None,
    index: NameIndex,
    *,
    now: datetime | None = None,
    thresholds: Thresholds = Thresholds(),
) -> list[NameFinding]:
    """The slopsquat findings for ``name`` given what the index said (None: not there)."""
    findings: list[NameFinding] = []
    popular = canonicalize(name) in index.rank
    if info is None:
        findings.append(_finding(name, MISSING, None))
        if index.plausible(name) and not popular:
            findings.append(_finding(name, PLAUSIBLE_UNKNOWN, None))
        return findings
    moment = now or datetime.now(UTC)
    young = False
    if info.first_upload is not None:
        age = moment - info.first_upload
        if age < timedelta(days=thresholds.young_days):
            young = True
            findings.append(
                _finding(name, YOUNG, None, f"first release {max(age.days, 0)} days ago")
            )
    if info.releases < thresholds.min_releases:
        findings.append(_finding(name, FEW_RELEASES, None, f"{info.releases} release(s)"))
    if young and not popular and index.plausible(name):
        findings.append(_finding(name, PLAUSIBLE_UNKNOWN, None))
    return findings


def vet_upstream(
    name: str,
    source: ProjectInfoSource | None,
    index: NameIndex,
    *,
    now: datetime | None = None,
    thresholds: Thresholds = Thresholds(),
) -> list[NameFinding]:
    """Ask ``source`` about ``name``; without a source or an answer, say so in a finding."""
    if not valid_name(name):
        return [_finding(name, MISSING, None, "not a valid project name: no index can serve it")]
    if source is None:
        return [_finding(name, UNAVAILABLE, None, "offline")]
    try:
        info = source.project(name)
    except UpstreamUnavailableError as exc:
        return [_finding(name, UNAVAILABLE, None, exc.message)]
    return upstream_findings(name, info, index, now=now, thresholds=thresholds)


def _finding(name: str, rule: str, target: str | None, detail: str = "") -> NameFinding:
    severity, message = RULES[rule]
    text = f"{message} ({detail})" if detail else message
    return NameFinding(name=name, rule=rule, severity=severity, target=target, message=text)
