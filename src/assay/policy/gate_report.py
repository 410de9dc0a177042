"""``assay gate`` reports: the JSON document and SARIF 2.1.0 (pure, deterministic).

Both are functions of the decision, the gathered facts and a :class:`GateContext`;
the only time in them is the decision's ``evaluated_at`` (the injected clock).
The audit-log entry a gate appends is not part of the report (it is printed on
stderr), so the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assay.advisories.reports.sarif import sarif_log
from assay.policy.gathering import GatheredFacts
from assay.policy.model import Decision, Outcome, Policy, Reason

SCHEMA = "assay.gate/1"
EXIT_CODES = {Outcome.PASS: 0, Outcome.WARN: 5, Outcome.BLOCK: 1}
_SARIF_LEVELS = {Outcome.BLOCK: "error", Outcome.WARN: "warning", Outcome.PASS: "note"}


@dataclass(frozen=True, slots=True)
class GateContext:
    """What the report says about its inputs."""

    source: str  # the SOURCE as the user named it
    environment_digest: str
    tool_version: str
    uri: str = ""  # for SARIF: the source relative to the working directory
    lines: Mapping[str, int] = field(default_factory=dict)  # canonical name -> line


@dataclass(frozen=True, slots=True)
class UnavailableRow:
    """One fact that could not be gathered, why, which rules needed it, and for whom."""

    fact: str
    cause: str
    rules: tuple[str, ...]  # the active rules at the stage that needed it ("" none)
    packages: tuple[str, ...]

    def to_record(self) -> dict[str, Any]:
        return {
            "fact": self.fact,
            "cause": self.cause,
            "rules": list(self.rules),
            "packages": list(self.packages),
        }


def unavailable_rows(decision: Decision, gathered: GatheredFacts) -> tuple[UnavailableRow, ...]:
    """Every unavailable fact with its cause; facts only the engine missed come last."""
    rules: dict[str, set[str]] = {}
    for item in decision.unavailable:
        rules.setdefault(item.fact, set()).add(item.rule)
    rows = [
        UnavailableRow(u.fact, u.cause, tuple(sorted(rules.get(u.fact, ()))), u.packages)
        for u in gathered.unavailable
    ]
    known = {u.fact for u in gathered.unavailable}
    extra: dict[str, list[str]] = {}
    for item in decision.unavailable:
        if item.fact not in known:
            label = f"{item.package}=={item.version}" if item.version else item.package
            extra.setdefault(item.fact, [])
            if label not in extra[item.fact]:
                extra[item.fact].append(label)
    rows += [
        UnavailableRow(fact, "the source does not say", tuple(sorted(rules[fact])), tuple(labels))
        for fact, labels in extra.items()
    ]
    return tuple(rows)


def is_missing_fact(reason: Reason, decision: Decision) -> bool:
    """True for the reason the engine gives when a rule's fact was unavailable."""
    return reason.vulnerability is None and any(
        u.package == reason.package
        and u.version == reason.version
        and u.rule == reason.rule
        and reason.message == f"{u.fact} unavailable"
        for u in decision.unavailable
    )


def document(
    decision: Decision, gathered: GatheredFacts, policy: Policy, context: GateContext
) -> dict[str, Any]:
    """The ``--format json`` document."""
    return {
        "schema": SCHEMA,
        "environment": {
            "source": context.source,
            "digest": context.environment_digest,
            "packages": len(gathered.packages),
        },
        "policy": {"source": policy.source, "digest": policy.digest},
        "exit_code": EXIT_CODES[decision.outcome],
        "decision": decision.to_record(),
        "facts_unavailable": [row.to_record() for row in unavailable_rows(decision, gathered)],
    }


def render_json(
    decision: Decision, gathered: GatheredFacts, policy: Policy, context: GateContext
) -> str:
    return (
        json.dumps(document(decision, gathered, policy, context), indent=2, sort_keys=True) + "\n"
    )


def _sarif_result(
    reason: Reason, context: GateContext, rule_index: dict[str, int]
) -> dict[str, Any]:
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": context.uri or context.source, "uriBaseId": "%SRCROOT%"}
    }
    line = context.lines.get(reason.package)
    if line is not None:
        physical["region"] = {"startLine": line}
    key = "\0".join(
        (context.uri or context.source, reason.rule, reason.package, reason.vulnerability or "")
    )
    version = f" {reason.version}" if reason.version else ""
    result: dict[str, Any] = {
        "ruleId": reason.rule,
        "ruleIndex": rule_index[reason.rule],
        "level": _SARIF_LEVELS[reason.outcome],
        "message": {"text": f"{reason.package}{version}: {reason.message}"},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {"assayGate/v1": hashlib.sha256(key.encode()).hexdigest()},
        "properties": {
            "package": reason.package,
            "version": reason.version,
            "outcome": reason.outcome.value,
            "effective": reason.effective.value,
            "vulnerability": reason.vulnerability,
        },
    }
    if reason.waiver is not None:
        waiver = reason.waiver
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"waiver {waiver.label}: {waiver.justification} "
                f"(approved by {waiver.approver}, expires {waiver.expires.isoformat()})",
            }
        ]
    return result


def sarif_document(decision: Decision, policy: Policy, context: GateContext) -> dict[str, Any]:
    """SARIF 2.1.0: one result per reason (waived reasons carry a suppression)."""
    used = sorted({r.rule for r in decision.reasons})
    by_name = {rule.name: rule for rule in policy.rules}
    rules: list[dict[str, Any]] = []
    for name in used:
        rule = by_name.get(name)
        text = rule.describe() if rule is not None else name
        action = rule.action(decision.stage) if rule is not None else None
        level = _SARIF_LEVELS[action] if action is not None else "note"
        rules.append(
            {
                "id": name,
                "name": name,
                "shortDescription": {"text": f"policy rule {name}"},
                "fullDescription": {"text": text},
                "defaultConfiguration": {"level": level},
                "properties": {"stage": decision.stage},
            }
        )
    index = {name: position for position, name in enumerate(used)}
    reasons: Sequence[Reason] = decision.reasons
    return sarif_log(
        context.tool_version,
        rules,
        [_sarif_result(r, context, index) for r in reasons],
        {
            "stage": decision.stage,
            "outcome": decision.outcome.value,
            "policyDigest": decision.policy_digest,
            "environmentDigest": context.environment_digest,
        },
    )


def render_sarif(decision: Decision, policy: Policy, context: GateContext) -> str:
    return json.dumps(sarif_document(decision, policy, context), indent=2, sort_keys=True) + "\n"
