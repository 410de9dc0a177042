"""The policy benchmark runs and its synthetic data is deterministic (no timing asserted)."""

from __future__ import annotations

import pytest

from assay.policy.engine import evaluate
from benchmarks import policy as bench


def test_the_synthetic_environment_exercises_every_rule() -> None:
    p = bench.full_policy(200)
    facts = bench.synthetic_facts(200)
    decision = evaluate(p, "production", facts, now=bench.NOW)
    assert len(p.rules) == 12
    assert {reason.rule for reason in decision.reasons} == {r.name for r in p.rules} - {
        "allowlist"  # every synthetic package is on the allow list
    }
    assert decision.waivers_used
    assert decision.waivers_expired
    assert decision.unavailable
    again = evaluate(p, "production", bench.synthetic_facts(200), now=bench.NOW)
    assert again.to_record() == decision.to_record()


def test_the_benchmark_prints_its_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--packages", "40", "--rounds", "3"]) == 0
    out = capsys.readouterr().out
    assert "environment: 40 packages" in out
    assert "warm over 3 rounds: median" in out
    assert "x the target" in out
