"""Whole decisions: aggregation, unavailable facts, and the golden audit-log record."""

from __future__ import annotations

import json
import os
from datetime import timedelta

from assay.policy.engine import evaluate, evaluate_package
from assay.policy.facts import PackageFacts
from assay.policy.loading import load_policy
from assay.policy.model import Outcome
from tests.policy.helpers import NOW, facts, vuln
from tests.support import ASSETS

FULL = ASSETS / "policy" / "full.toml"
GOLDEN = ASSETS / "policy" / "decision.json"
OLD = NOW - timedelta(days=400)


def known(name: str, version: str | None = "1.0", **fields: object) -> PackageFacts:
    """Facts with everything gathered and nothing wrong, then the given changes."""
    base: dict[str, object] = {
        "license_expression": "MIT",
        "vulnerabilities": (),
        "vet_score": 1.0,
        "squat_findings": (),
        "release_time": OLD,
        "latest_release_time": OLD,
        "yanked": False,
        "project_status": "active",
        "hashed": True,
    }
    base.update(fields)
    return facts(name, version, **base)


ENVIRONMENT = [
    known("requests", "2.32.3"),
    known(
        "urllib3",
        "2.2.1",
        vulnerabilities=(
            vuln("PYSEC-2026-10", "high", 7.5, ("2.2.2",), ("GHSA-aaaa-bbbb-cccc",)),
            vuln("PYSEC-2026-11", "unknown", None, ()),
        ),
    ),
    known("numpy", "2.0.0", license_expression="BSD-3-Clause AND GPL-3.0-only", hashed=False),
    known("fresh", "0.1", release_time=NOW - timedelta(days=2), latest_release_time=NOW),
    known("oldssl", "2.9", latest_release_time=NOW - timedelta(days=5 * 365)),
    facts("internal-lib", None, pinned=False, license_expression="LicenseRef-Internal"),
]


def test_the_golden_decision_record() -> None:
    decision = evaluate(load_policy(FULL), "production", ENVIRONMENT, now=NOW)
    record = json.loads(json.dumps(decision.to_record()))
    if os.environ.get("ASSAY_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    assert record == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_the_decision_is_the_strictest_package_outcome() -> None:
    p = load_policy(FULL)
    decision = evaluate(p, "production", ENVIRONMENT, now=NOW)
    by_name = {d.name: d.outcome for d in decision.packages}
    assert by_name == {
        "requests": Outcome.PASS,
        "urllib3": Outcome.WARN,  # high one waived by alias; unknown severity warns
        "numpy": Outcome.BLOCK,  # GPL denied: the licence waiver expired in January
        "fresh": Outcome.BLOCK,  # two days old
        "oldssl": Outcome.BLOCK,  # denied below 3, and stale
        "internal-lib": Outcome.BLOCK,  # unpinned
    }
    assert decision.outcome == Outcome.BLOCK
    assert decision.counts() == {"pass": 1, "warn": 1, "block": 4}
    assert [w.vulnerability for w in decision.waivers_used] == ["GHSA-aaaa-bbbb-cccc"]
    assert [w.package for w in decision.waivers_expired] == ["numpy"]
    assert decision.policy_digest == p.digest
    missing = {(u.package, u.fact) for u in decision.unavailable}
    assert ("internal-lib", "vulnerabilities") in missing
    assert ("internal-lib", "vet_score") in missing
    # cooldown is 0 days for it and its allow-list entry has no specifier: not needed
    assert ("internal-lib", "release_time") not in missing
    assert ("internal-lib", "version") not in missing


def test_stages_differ_on_the_same_facts() -> None:
    p = load_policy(FULL)
    results = {s: evaluate(p, s, ENVIRONMENT, now=NOW).outcome for s in p.stages}
    assert results == {"dev": Outcome.BLOCK, "staging": Outcome.BLOCK, "production": Outcome.BLOCK}
    fresh = [known("fresh", "0.1", release_time=NOW - timedelta(days=2))]
    by_stage = {s: evaluate(p, s, fresh, now=NOW).outcome for s in p.stages}
    assert by_stage == {"dev": Outcome.PASS, "staging": Outcome.BLOCK, "production": Outcome.BLOCK}
    unhashed = [known("requests", "2.0", hashed=False)]
    by_stage = {s: evaluate(p, s, unhashed, now=NOW).outcome for s in p.stages}
    assert by_stage == {"dev": Outcome.PASS, "staging": Outcome.PASS, "production": Outcome.WARN}


def test_evaluate_package_matches_evaluate() -> None:
    p = load_policy(FULL)
    for item in ENVIRONMENT:
        single = evaluate_package(p, "production", item, now=NOW)
        (whole,) = evaluate(p, "production", [item], now=NOW).packages
        assert single == whole


def test_an_empty_environment_passes() -> None:
    decision = evaluate(load_policy(FULL), "production", [], now=NOW)
    assert decision.outcome == Outcome.PASS
    assert decision.to_record()["reasons"] == []


def test_a_stage_is_planned_once_per_policy() -> None:
    p = load_policy(FULL)
    assert p.prepared == {}
    first = evaluate_package(p, "production", ENVIRONMENT[0], now=NOW)
    prepared = p.prepared["production"]
    assert evaluate_package(p, "production", ENVIRONMENT[0], now=NOW) == first
    assert p.prepared["production"] is prepared  # reused, not re-planned
    assert set(p.prepared) == {"production"}
    assert p == load_policy(FULL)  # the cache is not part of the value
