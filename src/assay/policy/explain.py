"""What a policy does per stage, as plain data for ``assay policy explain``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from assay.policy.model import Policy
from assay.policy.rules import RULES


def explain(policy: Policy, stages: tuple[str, ...], now: datetime) -> dict[str, Any]:
    """Rules with their action and unavailable-fact outcome per stage, and the waivers."""
    rules = []
    present = {rule.name for rule in policy.rules}
    for rule in policy.rules:
        per_stage = {}
        for stage in stages:
            action = rule.action(stage)
            unavailable = rule.unavailable if rule.unavailable is not None else policy.unavailable
            per_stage[stage] = {
                "action": action.value if action is not None else "off",
                "unavailable": (
                    action.at_most(unavailable).value if action is not None and rule.needs else "-"
                ),
            }
        rules.append({"rule": rule.name, "checks": rule.describe(), "stages": per_stage})
    for name in RULES:
        if name not in present:
            off = {"action": "off", "unavailable": "-"}
            rules.append(
                {
                    "rule": name,
                    "checks": "not in the policy file",
                    "stages": {stage: dict(off) for stage in stages},
                }
            )
    waivers = [
        {**waiver.to_record(), "expired": waiver.expired(now), "line": waiver.line}
        for waiver in policy.waivers
    ]
    return {
        "policy": policy.source,
        "policy_digest": policy.digest,
        "stages": list(stages),
        "default_unavailable": policy.unavailable.value,
        "rules": rules,
        "waivers": waivers,
    }
