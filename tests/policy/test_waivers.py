"""Waivers: scope, expiry with an injected clock, and how decisions report them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from assay.policy.engine import evaluate
from assay.policy.model import Outcome
from tests.policy.helpers import decide, facts, policy, vuln

RULES = """
[rules.vulnerabilities]
action = "block"
[rules.yanked]
action = "block"
"""


def waived(*waivers: str) -> str:
    return RULES + "".join(
        f'[[waivers]]\n{body}\njustification = "reviewed"\napprover = "sec-team"\n'
        for body in waivers
    )


URLLIB3 = facts(
    "urllib3",
    "1.26.5",
    vulnerabilities=(vuln("PYSEC-1", aliases=("CVE-2026-1", "GHSA-aaaa")), vuln("PYSEC-2")),
    yanked=False,
)
BEFORE = datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)
AFTER = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


def test_a_vulnerability_waiver_matches_any_alias_and_only_that_vulnerability() -> None:
    p = policy(waived('vulnerability = "GHSA-aaaa"\nexpires = 2026-03-31'))
    decision = decide(p, "production", URLLIB3, BEFORE)
    first, second = decision.reasons
    assert first.waiver is not None
    assert first.effective == Outcome.PASS
    assert first.outcome == Outcome.BLOCK  # what the rule said stays on record
    assert second.waiver is None
    assert decision.outcome == Outcome.BLOCK
    assert decision.waivers_used == (first.waiver,)


def test_a_waiver_applies_through_its_expiry_day_and_not_after() -> None:
    p = policy(waived('package = "urllib3"\nrule = "vulnerabilities"\nexpires = "2026-03-31"'))
    assert decide(p, "production", URLLIB3, BEFORE).outcome == Outcome.PASS
    late = decide(p, "production", URLLIB3, AFTER)
    assert late.outcome == Outcome.BLOCK
    assert late.waivers_used == ()
    assert [w.label for w in late.waivers_expired] == ["urllib3 / * / vulnerabilities"]
    assert all(r.expired_waiver is not None for r in late.reasons)


def test_version_scoped_waivers() -> None:
    p = policy(waived('package = "urllib3"\nversions = "<1.26.5"\nexpires = 2030-01-01'))
    assert decide(p, "production", URLLIB3, BEFORE).outcome == Outcome.BLOCK
    older = facts("urllib3", "1.26.4", vulnerabilities=(vuln(),), yanked=False)
    assert decide(p, "production", older, BEFORE).outcome == Outcome.PASS
    unpinned = facts("urllib3", None, vulnerabilities=(vuln(),), yanked=False)
    assert decide(p, "production", unpinned, BEFORE).outcome == Outcome.BLOCK


def test_a_rule_scoped_waiver_leaves_other_rules_alone() -> None:
    p = policy(waived('package = "urllib3"\nrule = "yanked"\nexpires = 2030-01-01'))
    yanked = facts("urllib3", "1.0", vulnerabilities=(vuln(),), yanked=True)
    decision = decide(p, "production", yanked, BEFORE)
    assert {(r.rule, r.effective) for r in decision.reasons} == {
        ("vulnerabilities", Outcome.BLOCK),
        ("yanked", Outcome.PASS),
    }


def test_a_package_waiver_covers_unavailable_facts_too() -> None:
    p = policy(waived('package = "urllib3"\nexpires = 2030-01-01'))
    unknown = facts("urllib3", "1.0")
    decision = decide(p, "production", unknown, BEFORE)
    assert decision.outcome == Outcome.PASS
    assert {u.fact for u in decision.unavailable} == {"vulnerabilities", "yanked"}


def test_a_vulnerability_waiver_never_covers_a_missing_fact() -> None:
    p = policy(waived('vulnerability = "CVE-2026-1"\nexpires = 2030-01-01'))
    assert decide(p, "production", facts("urllib3", "1.0"), BEFORE).outcome == Outcome.WARN


def test_an_unexpired_waiver_wins_over_an_expired_one() -> None:
    p = policy(
        waived(
            'package = "urllib3"\nexpires = 2020-01-01',
            'package = "urllib3"\nexpires = 2030-01-01',
        )
    )
    decision = evaluate(p, "production", [URLLIB3], now=AFTER)
    assert decision.outcome == Outcome.PASS
    assert [w.expires.year for w in decision.waivers_used] == [2030]
    assert decision.waivers_expired == ()


def test_expired_waivers_are_reported_once_per_decision() -> None:
    p = policy(waived('vulnerability = "PYSEC-2"\nexpires = 2026-01-01'))
    other = facts("requests", "2.0", vulnerabilities=(vuln("PYSEC-2"),), yanked=False)
    decision = evaluate(p, "production", [URLLIB3, other], now=AFTER + timedelta(days=1))
    assert len(decision.waivers_expired) == 1
    assert decision.outcome == Outcome.BLOCK


def test_expiry_uses_the_utc_date_of_a_clock_with_another_offset() -> None:
    p = policy(waived('package = "urllib3"\nexpires = 2026-03-31'))
    # 2026-03-31 20:00 in New York is 2026-04-01 00:00 UTC: the waiver has expired
    new_york = datetime(2026, 3, 31, 20, 0, tzinfo=timezone(timedelta(hours=-4)))
    assert decide(p, "production", URLLIB3, new_york).outcome == Outcome.BLOCK
    # 2026-04-01 03:00 in Tokyo is 2026-03-31 18:00 UTC: it still applies
    tokyo = datetime(2026, 4, 1, 3, 0, tzinfo=timezone(timedelta(hours=9)))
    assert decide(p, "production", URLLIB3, tokyo).outcome == Outcome.PASS
