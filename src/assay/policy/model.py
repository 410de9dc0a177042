"""The policy and its decisions as frozen values.

A :class:`Policy` is what a policy file says, compiled once (specifiers and
license lists parsed at load time) so evaluating it is cheap.  A
:class:`Decision` is what the engine says about a set of packages at one stage;
``Decision.to_record()`` is the JSON-able form the audit log stores.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName

from assay.errors import AssayError

if TYPE_CHECKING:
    from assay.policy.rules import Rule

DEFAULT_STAGES = ("sandbox", "staging", "production")


class PolicyError(AssayError):
    """A policy file is missing, malformed or says something the engine cannot do."""

    exit_code = 3

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line


class Outcome(enum.Enum):
    """What a rule (or a whole decision) says; ordered pass < warn < block."""

    PASS = "pass"  # noqa: S105 - an outcome, not a password
    WARN = "warn"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _RANK[self]

    # identity tests instead of rank lookups: these run for every rule of every package
    def at_most(self, other: Outcome) -> Outcome:
        """The milder of the two outcomes."""
        if self is Outcome.PASS or other is Outcome.BLOCK:
            return self
        return other

    def at_least(self, other: Outcome) -> Outcome:
        """The stricter of the two outcomes."""
        if self is Outcome.BLOCK or other is Outcome.PASS:
            return self
        return other


_RANK = {Outcome.PASS: 0, Outcome.WARN: 1, Outcome.BLOCK: 2}


@dataclass(frozen=True, slots=True)
class Waiver:
    """An approved, expiring exception to the policy.

    It matches a reason when every scope it gives matches: the package (and,
    with ``versions``, the version), the vulnerability (its id or any alias),
    and the rule.  A waiver with only a vulnerability matches that
    vulnerability in any package.  It applies up to and including ``expires``.
    """

    justification: str
    approver: str
    expires: date
    package: NormalizedName | None = None
    versions: SpecifierSet | None = None
    vulnerability: str | None = None
    rule: str | None = None
    line: int | None = field(default=None, compare=False)

    def expired(self, now: datetime) -> bool:
        """True from the UTC day after ``expires`` (a naive ``now`` is taken as UTC)."""
        if now.tzinfo is not None and now.utcoffset():
            now = now.astimezone(UTC)
        return now.date() > self.expires

    @property
    def label(self) -> str:
        """A short, stable description: ``urllib3<2.0 / CVE-2023-1 / vulnerabilities``."""
        package = (self.package or "*") + (str(self.versions) if self.versions else "")
        return " / ".join((package, self.vulnerability or "*", self.rule or "*"))

    def to_record(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "versions": str(self.versions) if self.versions is not None else None,
            "vulnerability": self.vulnerability,
            "rule": self.rule,
            "justification": self.justification,
            "approver": self.approver,
            "expires": self.expires.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Policy:
    """A compiled policy: stages in order, rules in file order, waivers, settings."""

    stages: tuple[str, ...]
    rules: tuple[Rule, ...]
    waivers: tuple[Waiver, ...]
    unavailable: Outcome  # default outcome for a rule whose fact is unavailable
    digest: str  # sha256 of the canonical policy (comments and layout do not count)
    source: str = "<policy>"
    # the engine's per-stage plan and waiver index, made on first use (a cache, not a value)
    prepared: dict[str, object] = field(
        init=False, default_factory=dict, compare=False, hash=False, repr=False
    )

    def rule(self, name: str) -> Rule | None:
        for candidate in self.rules:
            if candidate.name == name:
                return candidate
        return None


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule's verdict on one package.

    ``outcome`` is what the rule said; when ``waiver`` is set the reason is
    waived and counts as a pass (``effective``).
    """

    rule: str
    package: NormalizedName
    version: str | None
    outcome: Outcome
    message: str
    waiver: Waiver | None = None
    vulnerability: str | None = None
    expired_waiver: Waiver | None = None  # a waiver that would have matched, but expired

    @property
    def effective(self) -> Outcome:
        return Outcome.PASS if self.waiver is not None else self.outcome

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "rule": self.rule,
            "package": self.package,
            "version": self.version,
            "outcome": self.outcome.value,
            "effective": self.effective.value,
            "message": self.message,
            "vulnerability": self.vulnerability,
            "waiver": self.waiver.label if self.waiver is not None else None,
            "expired_waiver": (
                self.expired_waiver.label if self.expired_waiver is not None else None
            ),
        }
        return record


@dataclass(frozen=True, slots=True)
class UnavailableFact:
    """A fact a rule needed that could not be gathered."""

    package: NormalizedName
    version: str | None
    fact: str
    rule: str

    def to_record(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "version": self.version,
            "fact": self.fact,
            "rule": self.rule,
        }


@dataclass(frozen=True, slots=True)
class PackageDecision:
    """The decision on one package version at one stage."""

    name: NormalizedName
    version: str | None
    outcome: Outcome
    reasons: tuple[Reason, ...]
    unavailable: tuple[UnavailableFact, ...] = ()
    waivers_used: tuple[Waiver, ...] = ()
    waivers_expired: tuple[Waiver, ...] = ()

    def to_record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "outcome": self.outcome.value,
            "reasons": [reason.to_record() for reason in self.reasons],
            "unavailable": [item.fact + " (" + item.rule + ")" for item in self.unavailable],
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The decision on a set of packages at one stage: the strictest package outcome."""

    stage: str
    outcome: Outcome
    reasons: tuple[Reason, ...]
    packages: tuple[PackageDecision, ...]
    waivers_used: tuple[Waiver, ...]
    waivers_expired: tuple[Waiver, ...]
    unavailable: tuple[UnavailableFact, ...]
    policy_digest: str
    evaluated_at: datetime

    def counts(self) -> dict[str, int]:
        """How many packages ended in each outcome."""
        result = {outcome.value: 0 for outcome in Outcome}
        for package in self.packages:
            result[package.outcome.value] += 1
        return result

    def to_record(self) -> dict[str, Any]:
        """A JSON-able dict (sorted, stable) for the audit log and ``--format json``."""
        return {
            "stage": self.stage,
            "outcome": self.outcome.value,
            "policy_digest": self.policy_digest,
            "evaluated_at": self.evaluated_at.isoformat(),
            "packages": self.counts(),
            "reasons": [reason.to_record() for reason in self.reasons],
            "waivers_used": [waiver.to_record() for waiver in self.waivers_used],
            "waivers_expired": [waiver.to_record() for waiver in self.waivers_expired],
            "unavailable": [item.to_record() for item in self.unavailable],
        }
