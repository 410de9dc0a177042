"""The pure evaluation engine: a policy, a stage and facts in, a decision out.

For each package, every rule that is not ``off`` at the stage is checked:

- a finding counts for the milder of the stage's action and the finding's cap
  (a license to review is at most a warning even where the rule blocks);
- an unavailable fact counts for the milder of the stage's action and the
  rule's ``unavailable`` setting (the policy default is ``warn``), and is
  listed in the decision whatever it counts for;
- a matching, unexpired waiver turns a reason into a pass (the reason stays in
  the decision with the waiver named); a matching expired waiver does not, and
  is reported in ``waivers_expired``.

The package outcome is its strictest effective reason; the decision outcome is
the strictest package outcome.  Nothing here reads files, clocks or networks:
``now`` is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from assay.advisories.matching import parse_version
from assay.policy.facts import PackageFacts
from assay.policy.model import (
    Decision,
    Outcome,
    PackageDecision,
    Policy,
    PolicyError,
    Reason,
    UnavailableFact,
    Waiver,
)
from assay.policy.rules import Hit, Missing, Rule

Plan = tuple[tuple[Rule, Outcome, Outcome], ...]  # rule, stage action, unavailable outcome


def plan(policy: Policy, stage: str) -> Plan:
    """The rules active at ``stage`` with their actions; an unknown stage is an error."""
    if stage not in policy.stages:
        raise PolicyError(
            policy.source, f"unknown stage {stage!r} (the policy has: {', '.join(policy.stages)})"
        )
    steps = []
    for rule in policy.rules:
        action = rule.action(stage)
        if action is None or action == Outcome.PASS:
            continue
        unavailable = rule.unavailable if rule.unavailable is not None else policy.unavailable
        steps.append((rule, action, action.at_most(unavailable)))
    return tuple(steps)


def _waiver_for(
    waivers: tuple[Waiver, ...], facts: PackageFacts, rule: str, hit: Hit | None, now: datetime
) -> Waiver | None:
    """The first unexpired waiver whose scope covers this reason, else the first expired one."""
    fallback = None
    for waiver in waivers:
        if waiver.package is not None:
            if waiver.package != facts.name:
                continue
            if waiver.versions is not None and (
                facts.version is None
                or (parsed := parse_version(facts.version)) is None
                or not waiver.versions.contains(parsed, True)
            ):
                continue
        if waiver.rule is not None and waiver.rule != rule:
            continue
        if waiver.vulnerability is not None:
            if hit is None or hit.vulnerability is None:
                continue
            if (
                waiver.vulnerability != hit.vulnerability
                and waiver.vulnerability not in hit.aliases
            ):
                continue
        if not waiver.expired(now):
            return waiver
        fallback = fallback or waiver
    return fallback


WaiverIndex = tuple[dict[str, tuple[Waiver, ...]], tuple[Waiver, ...]]


def _index(waivers: tuple[Waiver, ...]) -> WaiverIndex:
    """Waivers by package name, and those for any package (vulnerability-only), in file order."""
    by_name: dict[str, list[Waiver]] = {}
    anywhere = []
    for waiver in waivers:
        if waiver.package is None:
            anywhere.append(waiver)
        else:
            by_name.setdefault(waiver.package, []).append(waiver)
    # a package's own waivers keep their file order among the vulnerability-only ones
    # (by position: hashing a waiver hashes its specifier set, which is slow)
    order = {id(waiver): i for i, waiver in enumerate(waivers)}
    merged = {
        name: tuple(sorted((*found, *anywhere), key=lambda waiver: order[id(waiver)]))
        for name, found in by_name.items()
    }
    return merged, tuple(anywhere)


def _prepared(policy: Policy, stage: str) -> tuple[Plan, WaiverIndex]:
    """The plan and waiver index of ``stage``, made once per policy and stage."""
    found = policy.prepared.get(stage)
    if found is None:
        found = policy.prepared[stage] = (plan(policy, stage), _index(policy.waivers))
    return cast("tuple[Plan, WaiverIndex]", found)


_PASS = Outcome.PASS


def _package(
    steps: Plan, waiver_index: WaiverIndex, facts: PackageFacts, now: datetime
) -> PackageDecision:
    waivers = waiver_index[0].get(facts.name, waiver_index[1])
    name, version = facts.name, facts.version
    reasons: list[Reason] = []
    unavailable: list[UnavailableFact] = []
    used: dict[Waiver, None] = {}
    expired: dict[Waiver, None] = {}
    outcome = _PASS
    for rule, action, when_missing in steps:
        result = rule.check(facts, now)
        if not result:  # the common case: no findings (an empty tuple)
            continue
        if isinstance(result, Missing):
            unavailable.append(UnavailableFact(name, version, result.fact, rule.name))
            if when_missing is _PASS:
                continue
            found: list[tuple[Outcome, str, Hit | None]] = [
                (when_missing, f"{result.fact} unavailable", None)
            ]
        else:
            found = [(action.at_most(hit.cap), hit.message, hit) for hit in result]
        for said, message, hit in found:
            if said is _PASS:
                continue
            waiver = _waiver_for(waivers, facts, rule.name, hit, now) if waivers else None
            stale = None
            if waiver is not None:
                if waiver.expired(now):
                    stale, waiver = waiver, None
                    expired[stale] = None
                else:
                    used[waiver] = None
            if waiver is None:
                outcome = outcome.at_least(said)
            reasons.append(
                Reason(
                    rule.name,
                    name,
                    version,
                    said,
                    message,
                    waiver,
                    hit.vulnerability if hit is not None else None,
                    stale,
                )
            )
    return PackageDecision(
        name=name,
        version=version,
        outcome=outcome,
        reasons=tuple(reasons),
        unavailable=tuple(unavailable),
        waivers_used=tuple(used),
        waivers_expired=tuple(expired),
    )


def evaluate_package(
    policy: Policy, stage: str, facts: PackageFacts, *, now: datetime
) -> PackageDecision:
    """The decision on one package version (what the registry calls per file)."""
    return _package(*_prepared(policy, stage), facts, now)


class StageEvaluator:
    """One stage of a policy, planned once: :func:`evaluate_package` for many calls."""

    def __init__(self, policy: Policy, stage: str) -> None:
        self.policy = policy
        self.stage = stage
        self._steps, self._waivers = _prepared(policy, stage)

    def package(self, facts: PackageFacts, *, now: datetime) -> PackageDecision:
        return _package(self._steps, self._waivers, facts, now)


def evaluate(
    policy: Policy, stage: str, facts: Iterable[PackageFacts], *, now: datetime
) -> Decision:
    """The decision on a set of packages at ``stage``."""
    steps, waivers = _prepared(policy, stage)
    packages = tuple(_package(steps, waivers, item, now) for item in facts)
    outcome = Outcome.PASS
    used: dict[Waiver, None] = {}
    expired: dict[Waiver, None] = {}
    reasons: list[Reason] = []
    unavailable: list[UnavailableFact] = []
    for package in packages:
        outcome = outcome.at_least(package.outcome)
        reasons.extend(package.reasons)
        unavailable.extend(package.unavailable)
        used.update(dict.fromkeys(package.waivers_used))
        expired.update(dict.fromkeys(package.waivers_expired))
    return Decision(
        stage=stage,
        outcome=outcome,
        reasons=tuple(reasons),
        packages=packages,
        waivers_used=tuple(used),
        waivers_expired=tuple(w for w in expired if w not in used),
        unavailable=tuple(unavailable),
        policy_digest=policy.digest,
        evaluated_at=now,
    )
