"""The policy at serve time: a :class:`~assay.registry.ports.Governor` over the policy engine.

Each file an index lists is turned into :class:`~assay.policy.facts.PackageFacts`
and judged by the same pure engine as ``assay gate``, at the index's stage:

* vulnerabilities from the local advisory database (name and version);
* the vetting verdict of the file (cached per sha256);
* the license from the file's core metadata, once its bytes (or its PEP 658
  ``.metadata`` file) are in the registry's verified store;
* the release age from the index's ``upload-time``; yanked files;
* typosquat findings of the project name against the popular-packages list.

Two facts are only known after the first download: the vetting verdict and,
for upstream files, the license.  On a project page, a file whose bytes were
never fetched is judged without them (*pending*: the rules that need them are
left out, so the page does not hide what nobody has looked at yet).  The file
itself is only served after it was downloaded, verified and vetted, and then
every rule applies, including the policy's "unavailable" setting when vetting
failed.  A file that fails is hidden from pages from then on.

Files uploaded to the registry itself (internal packages) skip the release-age
cooldown and the look-alike name checks; every other rule applies to them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from packaging.utils import NormalizedName, canonicalize_name

from assay.advisories.audit import Auditor
from assay.advisories.ports import AdvisorySource
from assay.advisories.severity import Level
from assay.environments.model import Package
from assay.policy.engine import StageEvaluator
from assay.policy.facts import PackageFacts, VulnerabilityFact
from assay.policy.gathering import vulnerability_fact
from assay.policy.model import Outcome, Policy, Reason
from assay.registry.model import DistributionFile, IndexConfig, Ruling
from assay.registry.ports import Governor
from assay.vetting.cache import VetSummary
from assay.vetting.names import NameIndex

LICENSE_RULE = "licenses"
VETTING_RULE = "vetting"
NOT_VETTED = "the file was fetched but could not be vetted; it is not served unvetted"
_CACHE_LIMIT = 50_000  # remembered (name, version) advisories and name checks
INTERNAL_PREFIX = "internal:"  # files uploaded to this registry (registry/internal.py)
# An internal release is the organisation's own: the cooldown that waits for the
# public to notice a compromised upstream release, and the look-alike name checks
# (internal names never resolve upstream), do not apply to it.
INTERNAL_EXEMPT = frozenset({"cooldown", "squatting"})


class LicenseSource(ABC):
    """Where a file's declared license comes from (its core metadata)."""

    @abstractmethod
    def fetched(self, file: DistributionFile) -> bool:
        """Whether the file's bytes (or metadata) are local, so its license is known."""

    @abstractmethod
    def license_of(self, file: DistributionFile) -> str | None:
        """The SPDX expression the metadata declares (None: none or not SPDX)."""


class VulnerabilityLookup:
    """Advisories affecting one (name, version), from an advisory source, remembered."""

    def __init__(self, source: AdvisorySource) -> None:
        self._auditor = Auditor(source)
        self._known: dict[tuple[str, str], tuple[VulnerabilityFact, ...]] = {}

    def __call__(self, name: str, version: str) -> tuple[VulnerabilityFact, ...]:
        key = (name, version)
        found = self._known.get(key)
        if found is None:
            if len(self._known) >= _CACHE_LIMIT:
                self._known.clear()
            findings = self._auditor.findings_for(Package(name=name, version_raw=version))
            found = tuple(map(vulnerability_fact, findings))
            self._known[key] = found
        return found


@dataclass(frozen=True, slots=True)
class NameCheck:
    """Typosquat findings of a project name at ``level`` and above."""

    index: NameIndex
    level: Level = Level.HIGH

    def __call__(self, name: str) -> tuple[str, ...]:
        return tuple(f.describe() for f in self.index.check(name) if f.severity >= self.level)


class PolicyGovernor(Governor):
    """Rules on files with the policy's stage of each index."""

    def __init__(
        self,
        policy: Policy,
        *,
        vulnerabilities: Callable[[str, str], tuple[VulnerabilityFact, ...]] | None,
        licenses: LicenseSource,
        names: Callable[[str], tuple[str, ...]] | None = None,
        vetting: bool = True,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.policy = policy
        self._stages: dict[str, StageEvaluator] = {}
        self._vulnerabilities = vulnerabilities
        self._licenses = licenses
        self._names = names
        self._name_findings: dict[str, tuple[str, ...]] = {}
        self._vetting = vetting
        self._clock = clock

    def evaluator(self, stage: str) -> StageEvaluator:
        """The planned stage (PolicyError for a stage the policy does not have)."""
        found = self._stages.get(stage)
        if found is None:
            found = self._stages[stage] = StageEvaluator(self.policy, stage)
        return found

    def facts(
        self, file: DistributionFile, vet: VetSummary | None, *, fetched: bool | None = None
    ) -> PackageFacts:
        """Everything known about the file now (``fetched``: whether its bytes are local)."""
        name = canonicalize_name(file.project)
        version = file.version
        vulnerabilities = (
            self._vulnerabilities(name, version)
            if self._vulnerabilities is not None and version is not None
            else None
        )
        if fetched is None:
            fetched = self._licenses.fetched(file)
        return PackageFacts(
            name=name,
            version=version,
            license_expression=self._licenses.license_of(file) if fetched else None,
            vulnerabilities=vulnerabilities,
            vet_score=vet.score if vet is not None else None,
            vet_label=vet.label if vet is not None else None,
            vet_reasons=vet.reasons if vet is not None else (),
            squat_findings=self._squatting(name),
            release_time=file.upload_time,
            yanked=bool(file.yanked),
            yanked_reason=file.yanked if isinstance(file.yanked, str) else None,
            pinned=version is not None,
            hashed=bool(file.sha256),
        )

    def _squatting(self, name: NormalizedName) -> tuple[str, ...] | None:
        if self._names is None:
            return None
        found = self._name_findings.get(name)
        if found is None:
            if len(self._name_findings) >= _CACHE_LIMIT:
                self._name_findings.clear()
            found = self._name_findings[name] = self._names(name)
        return found

    def decide(self, index: IndexConfig, file: DistributionFile, vet: VetSummary | None) -> Ruling:
        fetched = self._licenses.fetched(file)
        pending: set[str] = set()
        if not fetched:
            pending.add(LICENSE_RULE)
            if vet is None:
                pending.add(VETTING_RULE)
        if not self._vetting:
            pending.add(VETTING_RULE)
        if file.url.startswith(INTERNAL_PREFIX):
            pending |= INTERNAL_EXEMPT
        facts = self.facts(file, vet, fetched=fetched)
        decision = self.evaluator(index.stage).package(facts, now=self._clock())
        reasons = _messages(
            [r for r in decision.reasons if r.rule not in pending and r.effective is Outcome.BLOCK]
        )
        if self._vetting and fetched and vet is None and self._vets(index.stage):
            # the bytes are here but their analysis failed: never serve unvetted code
            reasons = (*reasons, f"{VETTING_RULE}: {NOT_VETTED}")
        if not reasons:
            return Ruling(allowed=True)
        return Ruling(allowed=False, reasons=reasons)

    def _vets(self, stage: str) -> bool:
        """Whether the policy's vetting rule blocks at ``stage``."""
        rule = next((r for r in self.policy.rules if r.name == VETTING_RULE), None)
        return rule is not None and rule.action(stage) is Outcome.BLOCK


def _messages(reasons: Sequence[Reason]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f"{reason.rule}: {reason.message}" for reason in reasons))
