"""Building policies and facts for the policy tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from packaging.utils import canonicalize_name

from assay.policy.engine import evaluate_package
from assay.policy.facts import PackageFacts, VulnerabilityFact
from assay.policy.loading import parse_policy
from assay.policy.model import Outcome, PackageDecision, Policy

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
STAGES = {"sandbox": "off", "staging": "warn", "production": "block"}


def policy(text: str) -> Policy:
    return parse_policy(text, "test-policy.toml")


def rule_policy(rule: str, body: str = "", action: str = "") -> Policy:
    """A policy with one rule: off in sandbox, warn in staging, block in production."""
    act = action or 'action = { sandbox = "off", staging = "warn", production = "block" }'
    return policy(f"[rules.{rule}]\n{act}\n{body}\n")


def facts(name: str = "demo", version: str | None = "1.0", **fields: Any) -> PackageFacts:
    return PackageFacts(name=canonicalize_name(name), version=version, **fields)


def vuln(
    vid: str = "PYSEC-2026-1",
    severity: str = "high",
    score: float | None = None,
    fixed: tuple[str, ...] = ("2.0",),
    aliases: tuple[str, ...] = (),
) -> VulnerabilityFact:
    return VulnerabilityFact(vid, aliases, severity, score, fixed)


def decide(p: Policy, stage: str, f: PackageFacts, now: datetime = NOW) -> PackageDecision:
    return evaluate_package(p, stage, f, now=now)


def outcomes(p: Policy, f: PackageFacts, now: datetime = NOW) -> dict[str, Outcome]:
    """The package outcome at every stage of the policy."""
    return {stage: decide(p, stage, f, now).outcome for stage in p.stages}


PASS = {"sandbox": Outcome.PASS, "staging": Outcome.PASS, "production": Outcome.PASS}
HELD = {"sandbox": Outcome.PASS, "staging": Outcome.WARN, "production": Outcome.BLOCK}
WARNED = {"sandbox": Outcome.PASS, "staging": Outcome.WARN, "production": Outcome.WARN}
