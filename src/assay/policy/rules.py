"""The rules a policy can contain, each a frozen value with a pure ``check``.

``check(facts, now)`` returns the findings (:class:`Hit`) for one package, or
:class:`Missing` when a fact it needs is unavailable.  A hit carries a *cap*:
the most it may count for (a license that needs review is at most a warning);
the stage's action (block / warn / off) is the other bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from packaging.utils import NormalizedName

from assay.policy.facts import PackageFacts, VulnerabilityFact
from assay.policy.model import Outcome
from assay.policy.spdx import LicenseLists
from assay.policy.specs import PackageSpec

SEVERITIES = ("none", "low", "medium", "high", "critical")
_SEVERITY_RANK = {label: rank for rank, label in enumerate(SEVERITIES)}
_CVSS_BANDS = ((9.0, "critical"), (7.0, "high"), (4.0, "medium"), (0.1, "low"))  # CVSS ratings
PROJECT_STATUSES = ("active", "archived", "quarantined", "deprecated")


@dataclass(frozen=True, slots=True)
class Hit:
    message: str
    cap: Outcome = Outcome.BLOCK
    vulnerability: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Missing:
    fact: str


Result = tuple[Hit, ...] | Missing
NO_HITS: tuple[Hit, ...] = ()


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Rule:
    """Common to every rule: its action per stage and its unavailable-fact outcome."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    needs: ClassVar[tuple[str, ...]] = ()  # facts that may be unavailable (None)
    actions: tuple[tuple[str, Outcome | None], ...]  # (stage, block/warn, or None: off)
    unavailable: Outcome | None = None  # None: the policy's default

    def action(self, stage: str) -> Outcome | None:
        for name, action in self.actions:
            if name == stage:
                return action
        return None

    def check(self, facts: PackageFacts, now: datetime) -> Result:
        raise NotImplementedError

    def describe(self) -> str:
        """What the rule checks, in one line, with its settings."""
        return self.summary


def _label(vuln: VulnerabilityFact) -> str:
    """The severity label; GitHub's "moderate" is medium, and a score gives a missing label."""
    label = vuln.severity.lower()
    if label == "moderate":
        return "medium"
    if label in _SEVERITY_RANK or vuln.score is None:
        return label
    return next((name for low, name in _CVSS_BANDS if vuln.score >= low), "none")


@dataclass(frozen=True, slots=True)
class VulnerabilitiesRule(Rule):
    name: ClassVar[str] = "vulnerabilities"
    needs: ClassVar[tuple[str, ...]] = ("vulnerabilities",)
    summary: ClassVar[str] = "known vulnerabilities"
    severity: str | None = None  # the lowest label that counts
    score: float | None = None  # the lowest CVSS base score that counts
    only_with_fix: bool = False  # a vulnerability with no known fix is at most a warning
    ids: frozenset[str] = frozenset()  # always count, whatever their severity
    unknown_severity: Outcome = Outcome.BLOCK  # cap for a vulnerability of unknown severity

    def _counts(self, vuln: VulnerabilityFact) -> tuple[bool, Outcome, str]:
        if self.ids and ({vuln.id, *vuln.aliases} & self.ids):
            return True, Outcome.BLOCK, "listed id"
        if self.severity is None and self.score is None:
            return True, Outcome.BLOCK, vuln.severity
        label = _label(vuln)
        if label not in _SEVERITY_RANK and vuln.score is None:
            return self.unknown_severity != Outcome.PASS, self.unknown_severity, "unknown severity"
        over = False
        if self.severity is not None and label in _SEVERITY_RANK:
            over = _SEVERITY_RANK[label] >= _SEVERITY_RANK[self.severity]
        if self.score is not None and vuln.score is not None:
            over = over or vuln.score >= self.score
        elif self.score is not None and self.severity is None and label in _SEVERITY_RANK:
            # a label but no score against a score-only threshold: unknown score
            return self.unknown_severity != Outcome.PASS, self.unknown_severity, "no CVSS score"
        return over, Outcome.BLOCK, label

    def check(self, facts: PackageFacts, now: datetime) -> Result:
        if facts.vulnerabilities is None:
            return Missing("vulnerabilities")
        hits = []
        for vuln in facts.vulnerabilities:
            counts, cap, why = self._counts(vuln)
            if not counts:
                continue
            fixes = [v for v in vuln.fixed_versions if v]
            score = f", CVSS {vuln.score:g}" if vuln.score is not None else ""
            fixed = f"fixed in {', '.join(fixes)}" if fixes else "no fix known"
            if self.only_with_fix and not fixes and why != "listed id":
                cap = cap.at_most(Outcome.WARN)
            hits.append(
                Hit(
                    f"{vuln.id} ({why}{score}); {fixed}",
                    cap,
                    vulnerability=vuln.id,
                    aliases=vuln.aliases,
                )
            )
        return tuple(hits)

    def describe(self) -> str:
        parts = []
        if self.severity is not None:
            parts.append(f"severity >= {self.severity}")
        if self.score is not None:
            parts.append(f"CVSS >= {self.score:g}")
        text = "vulnerabilities with " + " or ".join(parts) if parts else "any vulnerability"
        if self.only_with_fix:
            text += " (without a known fix: at most warn)"
        if self.ids:
            text += f"; always: {', '.join(sorted(self.ids))}"
        return text + f"; unknown severity: {self.unknown_severity.value}"


@dataclass(frozen=True, slots=True)
class VettingRule(Rule):
    name: ClassVar[str] = "vetting"
    needs: ClassVar[tuple[str, ...]] = ("vet_score",)
    threshold: float = 7.0

    def check(self, facts: PackageFacts, now: datetime) -> Result:
        if facts.vet_score is None:
            return Missing("vet_score")
        if facts.vet_score < self.threshold:
            return NO_HITS
        label = f" ({facts.vet_label})" if facts.vet_label else ""
        first = f": {facts.vet_reasons[0]}" if facts.vet_reasons else ""
        return (Hit(f"vetting risk score {facts.vet_score:g}{label} >= {self.threshold:g}{first}"),)

    def describe(self) -> str:
        return f"vetting risk score (assay vet) >= {self.threshold:g}"


_NO_LISTS = LicenseLists(frozenset(), frozenset(), frozenset(), Outcome.WARN, Outcome.WARN)


@dataclass(frozen=True, slots=True)
class LicensesRule(Rule):
    name: ClassVar[str] = "licenses"
    lists: LicenseLists = _NO_LISTS

    def check(self, facts: PackageFacts, now: datetime) -> Result:
        outcome, message = self.lists.grade(facts.license_expression)
        if outcome == Outcome.PASS:
            return NO_HITS
        return (Hit(message, outcome),)

    def describe(self) -> str:
        lists = self.lists
        return (
            f"licenses: {len(lists.allow)} allowed, {len(lists.review)} to review, "
            f"{len(lists.deny)} denied; unlisted: {lists.unlisted.value}, "
            f"unknown: {lists.unknown.value}"
        )


@dataclass(frozen=True, slots=True)
class CooldownRule(Rule):
    name: ClassVar[str] = "cooldown"
    needs: ClassVar[tuple[str, ...]] = ("release_time",)
    days: int = 7
    overrides: tuple[tuple[NormalizedName, int], ...] = ()

    def days_for(self, name: str) -> int:
        for package, days in self.overrides:
            if package == name:
                return days
        return self.days

    def check(self, facts: PackageFacts, now: datetime) -> Result:
        days = self.days_for(facts.name)
        if days <= 0:
            return NO_HITS
        if facts.release_time is None:
            return Missing("release_time")
        age = _utc(now) - _utc(facts.release_time)
        if age >= timedelta(days=days):
            return NO_HITS
        hours = age.total_seconds() / 3600
        shown = f"{hours / 24:.1f} days" if hours >= 24 else f"{max(hours, 0):.1f} hours"
        return (Hit(f"released {shown} ago; held until {days} days old"),)

    def describe(self) -> str:
        extra = f" ({len(self.overrides)} per-package overrides)" if self.overrides else ""
        return f"releases younger than {self.days} days are held{extra}"


@dataclass(frozen=True, slots=True)
class _ListRule(Rule):
    """A rule over name / version-specifier entries, indexed by name once."""

    needs: ClassVar[tuple[str, ...]] = ("version",)
    packages: tuple[PackageSpec, ...] = ()
    index: dict[str, tuple[PackageSpec, ...]] = field(
        init=False, compare=False, hash=False, repr=False
    )

    def __post_init__(self) -> None:
        index: dict[str, tuple[PackageSpec, ...]] = {}
        for spec in self.packages:
            index[spec.name] = (*index.get(spec.name, ()), spec)
        object.__setattr__(self, "index", index)


@dataclass(frozen=True, slots=True)
class DenylistRule(_ListRule):
    name: ClassVar[str] = "denylist"

    def check(self, facts: PackageFacts, now: datetime) -> Result:
        for spec in self.index.get(facts.name, ()):
            matched = spec.matches(facts.version)
            if matched is None:
                return Missing("version")
            if matched:
                return (Hit(f"{spec} is on the deny list"),)
        return NO_HITS

    def describe(self) -> str:
        return f"packages on the deny list ({len(self.packages)} entries)"


@dataclass(frozen=True, slots=True)
class AllowlistRule(_ListRule):
    name: ClassVar[str] = "allowlist"

    def check(self, facts: PackageFacts, now: datetime) -> Result:
        unknown = False
        for spec in self.index.get(facts.name, ()):
            matched = spec.matches(facts.version)
            if matched:
                return NO_HITS
            unknown = unknown or matched is None
        if unknown:
            return Missing("version")
        return (Hit("not on the allow list"),)

    def describe(self) -> str:
        return f"only packages on the allow list ({len(self.packages)} entries)"


@dataclass(frozen=True, slots=True)
class PinsRule(Rule):
    name: ClassVar[str] = "pins"
    summary: ClassVar[str] = "an exact version (== or a lock entry) is required"

    def check(self, facts: PackageFacts, now: datetime) -> Result:
        if facts.pinned and facts.version is not None:
            return NO_HITS
        return (Hit("not pinned to an exact version"),)


@dataclass(frozen=True, slots=True)
class HashesRule(Rule):
    name: ClassVar[str] = "hashes"
    summary: ClassVar[str] = "at least one artifact hash is required"

    def check(self, facts: PackageFacts, now: datetime) -> Result:
        return NO_HITS if facts.hashed else (Hit("no artifact hash recorded"),)


@dataclass(frozen=True, slots=True)
class YankedRule(Rule):
    name: ClassVar[str] = "yanked"
    needs: ClassVar[tuple[str, ...]] = ("yanked",)
    summary: ClassVar[str] = "the release is yanked on the index"

    def check(self, facts: PackageFacts, now: datetime) -> Result:
        if facts.yanked is None:
            return Missing("yanked")
        if not facts.yanked:
            return NO_HITS
        why = f": {facts.yanked_reason}" if facts.yanked_reason else ""
        return (Hit(f"release is yanked{why}"),)


@dataclass(frozen=True, slots=True)
class ProjectStatusRule(Rule):
    name: ClassVar[str] = "project_status"
    needs: ClassVar[tuple[str, ...]] = ("project_status",)
    statuses: tuple[tuple[str, Outcome], ...] = (
        ("quarantined", Outcome.BLOCK),
        ("archived", Outcome.WARN),
        ("deprecated", Outcome.WARN),
    )

    def check(self, facts: PackageFacts, now: datetime) -> Result:
        if facts.project_status is None:
            return Missing("project_status")
        status = facts.project_status.lower()
        for name, cap in self.statuses:
            if name == status and cap != Outcome.PASS:
                why = f": {facts.project_status_reason}" if facts.project_status_reason else ""
                return (Hit(f"project status is {status}{why}", cap),)
        return NO_HITS

    def describe(self) -> str:
        shown = ", ".join(f"{name}: {cap.value}" for name, cap in self.statuses)
        return f"index-declared project status ({shown})"


@dataclass(frozen=True, slots=True)
class SquattingRule(Rule):
    name: ClassVar[str] = "squatting"
    needs: ClassVar[tuple[str, ...]] = ("squat_findings",)
    summary: ClassVar[str] = "typosquat / slopsquat findings on the name"

    def check(self, facts: PackageFacts, now: datetime) -> Result:
        if facts.squat_findings is None:
            return Missing("squat_findings")
        if not facts.squat_findings:
            return NO_HITS
        return (Hit("name check: " + "; ".join(facts.squat_findings)),)


@dataclass(frozen=True, slots=True)
class StalenessRule(Rule):
    name: ClassVar[str] = "staleness"
    needs: ClassVar[tuple[str, ...]] = ("latest_release_time",)
    years: float = 3.0  # a year counts as 365 days
    limit: timedelta = field(init=False, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "limit", timedelta(days=365 * self.years))

    def check(self, facts: PackageFacts, now: datetime) -> Result:
        if facts.latest_release_time is None:
            return Missing("latest_release_time")
        age = _utc(now) - _utc(facts.latest_release_time)
        if age <= self.limit:
            return NO_HITS
        return (Hit(f"no release for {age.days / 365:.1f} years (limit {self.years:g})"),)

    def describe(self) -> str:
        return f"projects with no release in more than {self.years:g} years"


RULES: dict[str, type[Rule]] = {
    rule.name: rule
    for rule in (
        VulnerabilitiesRule,
        VettingRule,
        LicensesRule,
        CooldownRule,
        DenylistRule,
        AllowlistRule,
        PinsRule,
        HashesRule,
        YankedRule,
        ProjectStatusRule,
        SquattingRule,
        StalenessRule,
    )
}
