"""Auditing an environment against an advisory source (pure core).

For every PyPI package with a pinned version the source is asked for the
advisories naming its PEP 503 name; those whose OSV ranges cover the version
(:func:`~assay.advisories.matching.is_affected`) are kept.

Alias grouping
    Records that share any identifier (their ``id`` or an alias, followed
    transitively) become ONE :class:`Finding`.  Its ``ids`` list every
    identifier of the group, primary first.  The primary id is chosen among the
    records' own ids (not among aliases) by prefix rank ``PYSEC`` < ``GHSA`` <
    any other database prefix < ``CVE``, then by natural order, so the choice
    is stable whatever order the source returns records in.

Severity
    The highest :func:`~assay.advisories.severity.advisory_severity` of the
    group's records (level first, then score); ``UNKNOWN`` ("no CVSS vector")
    when no record has a vector or a label.

Fix
    ``Finding.fixed_versions`` is the union of the records' ``fixed`` events.
    ``PackageResult.fix`` is the smallest upgrade: the lowest version above the
    current one, among every ``fixed`` version the source gives for the
    package, that none of the package's findings affects and that no other
    known advisory of the package affects either; when every such candidate is
    hit by some other advisory, the lowest candidate that clears the findings.
    ``None`` when the database knows no version that clears them all.

Packages that cannot be audited (unpinned requirements, conda packages, which
are not in the PyPI ecosystem) are listed in ``AuditReport.not_audited`` with
the reason, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from assay.advisories.matching import fixed_versions, is_affected, parse_version
from assay.advisories.model import Advisory
from assay.advisories.ports import AdvisorySource
from assay.advisories.severity import Level, Severity, advisory_severity
from assay.environments.model import Ecosystem, Environment, Package, Source

NOT_AUDITED_UNPINNED = "unpinned"
NOT_AUDITED_CONDA = "conda"

_PREFIX_RANK = {"PYSEC": 0, "GHSA": 1, "CVE": 3}
_SUMMARY_LIMIT = 200


def id_sort_key(identifier: str) -> tuple[int, str, tuple[tuple[int, str], ...]]:
    """Orders ids PYSEC, GHSA, other databases, CVE; numbers inside compare as numbers."""
    prefix = identifier.split("-", 1)[0].upper()
    natural = tuple(
        (int(part), "") if part.isdigit() else (-1, part)
        for part in re.findall(r"\d+|\D+", identifier)
    )
    return (_PREFIX_RANK.get(prefix, 2), prefix, natural)


@dataclass(frozen=True, slots=True)
class Finding:
    """One vulnerability (an alias group of records) affecting one package version."""

    package: Package
    ids: tuple[str, ...]  # every id of the group, primary first
    aliases: tuple[str, ...]  # the ids that are not the id of any record in the group
    summary: str
    severity: Severity
    fixed_versions: tuple[str, ...]  # union of the records' fixed versions, lowest first
    records: tuple[Advisory, ...]  # the matching records, primary first

    @property
    def id(self) -> str:
        """The primary id (see the module doc for the rule)."""
        return self.ids[0]

    @property
    def upgrades(self) -> tuple[str, ...]:
        """The fixed versions above the installed one that clear every record of this finding.

        Records grouped by alias can disagree on the fix; a version that one of
        them still calls affected is no upgrade for the finding.
        """
        current = self.package.version
        name = self.package.canonical_name
        return tuple(
            v
            for v in self.fixed_versions
            if (current is None or ((p := parse_version(v)) is not None and p > current))
            and not any(is_affected(record, name, v) for record in self.records)
        )


@dataclass(frozen=True, slots=True)
class PackageResult:
    """A package with at least one finding, and the smallest upgrade that clears them."""

    package: Package
    findings: tuple[Finding, ...]
    fix: str | None


@dataclass(frozen=True, slots=True)
class NotAudited:
    """A package the audit could not check, and why (``unpinned`` or ``conda``)."""

    package: Package
    reason: str

    def describe(self) -> str:
        if self.reason == NOT_AUDITED_CONDA:
            return "conda package (not in the PyPI advisory ecosystem)"
        if self.package.specifier:
            return f"unpinned ({self.package.specifier})"
        return "unpinned (no version)"


@dataclass(frozen=True, slots=True)
class SuppressedFinding:
    """A finding an ignore entry or a VEX statement suppressed.

    ``kind`` is ``ignore`` (``--ignore``), ``ignore-file`` or ``vex``;
    ``reason`` is the entry's reason or the VEX justification / impact
    statement; ``origin`` names where the rule came from (``file:line``,
    ``--ignore`` or the VEX file).
    """

    finding: Finding
    kind: str
    reason: str
    origin: str
    matched_id: str
    status: str | None = None  # the VEX status / CycloneDX analysis state, for VEX
    justification: str | None = None  # the VEX justification as written, for VEX


@dataclass(frozen=True, slots=True)
class ExpiredIgnore:
    """An ignore-file entry whose expiry date has passed; it no longer applies."""

    id: str
    reason: str
    expires: str  # ISO date
    origin: str  # file:line
    matched: tuple[str, ...] = ()  # "package version id" of findings it would have suppressed


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The audit of one environment."""

    source: Source
    packages: tuple[Package, ...]  # every package of the environment, audited or not
    results: tuple[PackageResult, ...]
    not_audited: tuple[NotAudited, ...] = ()
    suppressed: tuple[SuppressedFinding, ...] = ()
    expired_ignores: tuple[ExpiredIgnore, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every unsuppressed finding, by package then primary id."""
        return tuple(f for r in self.results for f in r.findings)

    @property
    def package_count(self) -> int:
        return len(self.packages)

    @property
    def audited_count(self) -> int:
        return self.package_count - len(self.not_audited)

    def failing(self, threshold: Level | None) -> tuple[Finding, ...]:
        """The findings at or above ``threshold`` (every finding when None).

        A finding whose severity is unknown (no vector, no label) fails at every
        threshold: not knowing how bad it is is no reason to let it through.
        """
        if threshold is None:
            return self.findings
        return tuple(
            f
            for f in self.findings
            if f.severity.level >= threshold or f.severity.level is Level.UNKNOWN
        )


def _group(advisories: Sequence[Advisory]) -> list[list[Advisory]]:
    """Alias groups: records linked by any shared id, transitively (union-find)."""
    parent = list(range(len(advisories)))

    def find(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    owner: dict[str, int] = {}
    for index, advisory in enumerate(advisories):
        for identifier in advisory.ids:
            if identifier in owner:
                parent[find(index)] = find(owner[identifier])
            else:
                owner[identifier] = index
    groups: dict[int, list[Advisory]] = {}
    for index, advisory in enumerate(advisories):
        groups.setdefault(find(index), []).append(advisory)
    return list(groups.values())


def _summary(records: Sequence[Advisory]) -> str:
    for record in records:
        if record.summary and record.summary.strip():
            return " ".join(record.summary.split())
    for record in records:
        if record.details and record.details.strip():
            text = " ".join(record.details.split())
            if len(text) > _SUMMARY_LIMIT:
                return text[: _SUMMARY_LIMIT - 3].rstrip() + "..."
            return text
    return ""


def _max_severity(records: Iterable[Advisory]) -> Severity:
    severities = [advisory_severity(r) for r in records]
    return max(severities, key=lambda s: (s.level, s.score if s.score is not None else -1.0))


def _version_sort(versions: Iterable[str]) -> tuple[str, ...]:
    unique = set(versions)
    parsed = sorted((p, v) for v in unique if (p := parse_version(v)) is not None)
    others = sorted(v for v in unique if parse_version(v) is None)
    return tuple(v for _, v in parsed) + tuple(others)


def make_finding(package: Package, records: Sequence[Advisory]) -> Finding:
    """One finding from an alias group of records that affect ``package``."""
    ordered = sorted(records, key=lambda r: id_sort_key(r.id))
    record_ids = [r.id for r in ordered]
    others = {i for r in ordered for i in r.ids} - set(record_ids)
    aliases = tuple(sorted(others, key=id_sort_key))
    name = package.canonical_name
    return Finding(
        package=package,
        ids=(*record_ids, *aliases),
        aliases=aliases,
        summary=_summary(ordered),
        severity=_max_severity(ordered),
        fixed_versions=_version_sort(v for r in ordered for v in fixed_versions(r, name)),
        records=tuple(ordered),
    )


def smallest_fix(
    package: Package, findings: Sequence[Finding], known: Sequence[Advisory] = ()
) -> str | None:
    """The smallest upgrade that clears ``findings`` (see the module doc), or None."""
    current = package.version
    if current is None or not findings:
        return None
    name = package.canonical_name
    records = {r.id: r for f in findings for r in f.records}
    others = [a for a in known if a.id not in records]
    fixes = [v for f in findings for v in f.fixed_versions]
    fixes += [v for a in others for v in fixed_versions(a, name)]
    candidates = [
        v for v in _version_sort(fixes) if (p := parse_version(v)) is not None and p > current
    ]
    clearing = [v for v in candidates if not any(is_affected(r, name, v) for r in records.values())]
    for version in clearing:
        if not any(is_affected(a, name, version) for a in others):
            return version
    return clearing[0] if clearing else None


def package_result(
    package: Package, findings: Sequence[Finding], known: Sequence[Advisory] = ()
) -> PackageResult:
    ordered = tuple(sorted(findings, key=lambda f: id_sort_key(f.id)))
    return PackageResult(
        package=package, findings=ordered, fix=smallest_fix(package, ordered, known)
    )


class Suppressor(Protocol):
    """Decides which findings an ignore list or VEX document suppresses."""

    def suppress(self, finding: Finding) -> SuppressedFinding | None:
        """The suppression that applies to ``finding``, if any."""

    def expired(self, findings: Sequence[Finding]) -> tuple[ExpiredIgnore, ...]:
        """Expired ignore entries, with the findings they would have matched."""


class Auditor:
    """Audits environments against one advisory source."""

    def __init__(self, source: AdvisorySource) -> None:
        self._source = source
        self._known: dict[str, tuple[Advisory, ...]] = {}

    def known(self, name: str) -> tuple[Advisory, ...]:
        """Every advisory the source has for ``name`` (cached per auditor)."""
        if name not in self._known:
            self._known[name] = tuple(self._source.query(name))
        return self._known[name]

    def findings_for(self, package: Package) -> tuple[Finding, ...]:
        """The findings of one pinned PyPI package."""
        name, version = package.canonical_name, package.version_raw
        if version is None:
            return ()
        matching = [a for a in self.known(name) if is_affected(a, name, version)]
        unique = list({a.id: a for a in matching}.values())
        return tuple(make_finding(package, group) for group in _group(unique))

    def audit(self, env: Environment, suppressor: Suppressor | None = None) -> AuditReport:
        """Audit ``env``; ``suppressor`` moves ignored / VEX-covered findings aside."""
        results: list[PackageResult] = []
        not_audited: list[NotAudited] = []
        suppressed: list[SuppressedFinding] = []
        every: list[Finding] = []
        seen: set[tuple[str, str]] = set()
        for package in env.packages:
            if package.ecosystem is Ecosystem.CONDA:
                not_audited.append(NotAudited(package, NOT_AUDITED_CONDA))
                continue
            if package.version_raw is None:
                not_audited.append(NotAudited(package, NOT_AUDITED_UNPINNED))
                continue
            key = (package.canonical_name, package.version_raw)
            if key in seen:  # the same pin on several platforms of one lock
                continue
            seen.add(key)
            kept: list[Finding] = []
            for finding in self.findings_for(package):
                every.append(finding)
                hit = suppressor.suppress(finding) if suppressor else None
                if hit is None:
                    kept.append(finding)
                else:
                    suppressed.append(hit)
            if kept:
                results.append(package_result(package, kept, self.known(package.canonical_name)))
        return AuditReport(
            source=env.source,
            packages=env.packages,
            results=tuple(results),
            not_audited=tuple(not_audited),
            suppressed=tuple(suppressed),
            expired_ignores=suppressor.expired(every) if suppressor else (),
        )
