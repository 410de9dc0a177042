"""Every rule, at every stage: off in sandbox, warn in staging, block in production."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from assay.policy.model import Outcome
from assay.policy.rules import RULES
from tests.policy.helpers import (
    HELD,
    NOW,
    PASS,
    WARNED,
    decide,
    facts,
    outcomes,
    policy,
    rule_policy,
    vuln,
)

# -- vulnerabilities ---------------------------------------------------------


def test_a_vulnerability_at_the_severity_threshold_is_held_per_stage() -> None:
    p = rule_policy("vulnerabilities", 'severity = "high"')
    assert outcomes(p, facts(vulnerabilities=(vuln(severity="high"),))) == HELD
    assert outcomes(p, facts(vulnerabilities=(vuln(severity="critical"),))) == HELD
    assert outcomes(p, facts(vulnerabilities=(vuln(severity="medium"),))) == PASS
    assert outcomes(p, facts(vulnerabilities=())) == PASS


def test_the_reason_names_the_vulnerability_its_severity_and_fix() -> None:
    p = rule_policy("vulnerabilities", 'severity = "high"')
    decision = decide(p, "production", facts(vulnerabilities=(vuln(score=8.1),)))
    (reason,) = decision.reasons
    assert reason.rule == "vulnerabilities"
    assert reason.vulnerability == "PYSEC-2026-1"
    assert reason.message == "PYSEC-2026-1 (high, CVSS 8.1); fixed in 2.0"


def test_a_score_threshold_counts_scores_and_either_threshold_is_enough() -> None:
    p = rule_policy("vulnerabilities", "score = 7.0")
    assert outcomes(p, facts(vulnerabilities=(vuln(severity="medium", score=7.0),))) == HELD
    assert outcomes(p, facts(vulnerabilities=(vuln(severity="high", score=6.9),))) == PASS
    both = rule_policy("vulnerabilities", 'severity = "critical"\nscore = 7.0')
    assert outcomes(both, facts(vulnerabilities=(vuln(severity="high", score=7.5),))) == HELD
    assert outcomes(both, facts(vulnerabilities=(vuln(severity="critical", score=5.0),))) == HELD


def test_unknown_severity_is_handled_by_its_setting() -> None:
    unknown = facts(vulnerabilities=(vuln(severity="unknown"),))
    assert outcomes(rule_policy("vulnerabilities", 'severity = "high"'), unknown) == HELD
    warn = rule_policy("vulnerabilities", 'severity = "high"\nunknown_severity = "warn"')
    assert outcomes(warn, unknown) == WARNED
    ignore = rule_policy("vulnerabilities", 'severity = "high"\nunknown_severity = "pass"')
    assert outcomes(ignore, unknown) == PASS
    # a score threshold and a label but no score: the score is unknown
    score_only = rule_policy("vulnerabilities", 'score = 9.0\nunknown_severity = "warn"')
    assert outcomes(score_only, facts(vulnerabilities=(vuln(severity="low"),))) == WARNED


def test_only_with_fix_makes_unfixed_vulnerabilities_warnings() -> None:
    p = rule_policy("vulnerabilities", 'severity = "high"\nonly_with_fix = true')
    assert outcomes(p, facts(vulnerabilities=(vuln(fixed=()),))) == WARNED
    assert outcomes(p, facts(vulnerabilities=(vuln(fixed=("",)),))) == WARNED
    assert outcomes(p, facts(vulnerabilities=(vuln(fixed=("2.0",)),))) == HELD


def test_listed_ids_count_whatever_their_severity_and_match_aliases() -> None:
    p = rule_policy("vulnerabilities", 'severity = "critical"\nids = ["CVE-2026-7"]')
    low = vuln(severity="low", aliases=("CVE-2026-7",))
    assert outcomes(p, facts(vulnerabilities=(low,))) == HELD
    assert outcomes(p, facts(vulnerabilities=(vuln(severity="low"),))) == PASS


def test_no_threshold_means_every_vulnerability_counts() -> None:
    p = rule_policy("vulnerabilities")
    assert outcomes(p, facts(vulnerabilities=(vuln(severity="none"),))) == HELD


def test_each_vulnerability_is_its_own_reason() -> None:
    p = rule_policy("vulnerabilities")
    two = facts(vulnerabilities=(vuln("A-1"), vuln("A-2")))
    assert [r.vulnerability for r in decide(p, "production", two).reasons] == ["A-1", "A-2"]


# -- vetting ----------------------------------------------------------------


def test_a_vetting_score_at_the_threshold_is_held() -> None:
    p = rule_policy("vetting", "threshold = 7")
    risky = facts(vet_score=7.0, vet_label="high", vet_reasons=("setup.py runs curl",))
    assert outcomes(p, risky) == HELD
    assert outcomes(p, facts(vet_score=6.9)) == PASS
    reason = decide(p, "production", risky).reasons[0]
    assert reason.message == "vetting risk score 7 (high) >= 7: setup.py runs curl"


# -- licenses ---------------------------------------------------------------

LICENSES = 'allow = ["MIT"]\nreview = ["MPL-2.0"]\ndeny = ["GPL-3.0-only"]\nunlisted = "block"'


def test_licenses_allowed_reviewed_denied_and_unlisted() -> None:
    p = rule_policy("licenses", LICENSES)
    assert outcomes(p, facts(license_expression="MIT")) == PASS
    assert outcomes(p, facts(license_expression="MPL-2.0")) == WARNED
    assert outcomes(p, facts(license_expression="GPL-3.0-only")) == HELD
    assert outcomes(p, facts(license_expression="Apache-2.0")) == HELD


def test_an_unknown_license_follows_the_unknown_setting() -> None:
    p = rule_policy("licenses", LICENSES + '\nunknown = "warn"')
    assert outcomes(p, facts(license_expression=None)) == WARNED
    assert outcomes(p, facts(license_expression="Some Custom Licence v2")) == WARNED
    strict = rule_policy("licenses", LICENSES + '\nunknown = "block"')
    assert outcomes(strict, facts(license_expression=None)) == HELD
    reason = decide(strict, "production", facts(license_expression=None)).reasons[0]
    assert reason.message == "license unknown"


# -- cooldown ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(days=7), PASS),  # exactly N days old: released long enough ago
        (timedelta(days=7, seconds=1), PASS),
        (timedelta(days=7) - timedelta(seconds=1), HELD),
        (timedelta(hours=1), HELD),
        (-timedelta(hours=1), HELD),  # an upload time in the future is held too
    ],
)
def test_cooldown_boundary(age: timedelta, expected: dict[str, Outcome]) -> None:
    p = rule_policy("cooldown", "days = 7")
    assert outcomes(p, facts(release_time=NOW - age)) == expected


def test_cooldown_overrides_per_package_and_zero_days_disables() -> None:
    p = rule_policy("cooldown", 'days = 7\noverrides = { "Fast_Lib" = 0, "slow" = 30 }')
    fresh = NOW - timedelta(days=10)
    assert outcomes(p, facts("fast-lib", release_time=NOW)) == PASS
    assert outcomes(p, facts("fast-lib", release_time=None)) == PASS  # not needed at 0 days
    assert outcomes(p, facts("slow", release_time=fresh)) == HELD
    assert outcomes(p, facts("other", release_time=fresh)) == PASS


def test_cooldown_message_and_naive_times_are_utc() -> None:
    p = rule_policy("cooldown", "days = 7")
    naive = (NOW - timedelta(hours=5)).replace(tzinfo=None)
    reason = decide(p, "production", facts(release_time=naive)).reasons[0]
    assert reason.message == "released 5.0 hours ago; held until 7 days old"


# -- deny and allow lists ---------------------------------------------------


def test_the_deny_list_matches_name_and_version_specifier() -> None:
    p = rule_policy("denylist", 'packages = ["evil_pkg", "urllib3<1.26"]')
    assert outcomes(p, facts("Evil.Pkg", "9.9")) == HELD
    assert outcomes(p, facts("urllib3", "1.25.11")) == HELD
    assert outcomes(p, facts("urllib3", "1.26.0")) == PASS
    assert outcomes(p, facts("requests", "2.0")) == PASS
    # a specifier and an unpinned package: the version is an unavailable fact
    unpinned = decide(p, "production", facts("urllib3", None))
    assert [(u.fact, u.rule) for u in unpinned.unavailable] == [("version", "denylist")]
    assert unpinned.outcome == Outcome.WARN


def test_allow_only_mode_holds_everything_not_listed() -> None:
    p = rule_policy("allowlist", 'packages = ["numpy>=1.26", "requests"]')
    assert outcomes(p, facts("numpy", "2.0.1")) == PASS
    assert outcomes(p, facts("numpy", "1.25.0")) == HELD
    assert outcomes(p, facts("requests", "0.1")) == PASS
    assert outcomes(p, facts("pandas", "2.0")) == HELD
    assert decide(p, "production", facts("pandas")).reasons[0].message == "not on the allow list"


# -- pins, hashes, yanked, status, squatting, staleness -----------------------


def test_pins_and_hashes_are_required_per_stage() -> None:
    pins = rule_policy("pins")
    assert outcomes(pins, facts(version=None, pinned=False)) == HELD
    assert outcomes(pins, facts(pinned=False)) == HELD
    assert outcomes(pins, facts()) == PASS
    hashes = rule_policy("hashes")
    assert outcomes(hashes, facts(hashed=False)) == HELD
    assert outcomes(hashes, facts(hashed=True)) == PASS


def test_yanked_releases_are_held_with_the_reason() -> None:
    p = rule_policy("yanked")
    assert outcomes(p, facts(yanked=True, yanked_reason="broken wheel")) == HELD
    assert outcomes(p, facts(yanked=False)) == PASS
    reason = decide(p, "production", facts(yanked=True, yanked_reason="broken wheel")).reasons[0]
    assert reason.message == "release is yanked: broken wheel"


def test_project_status_reason_is_in_the_message() -> None:
    p = rule_policy("project_status")
    found = decide(
        p, "production", facts(project_status="quarantined", project_status_reason="malware")
    )
    assert [r.message for r in found.reasons] == ["project status is quarantined: malware"]


def test_project_status_caps_per_status() -> None:
    p = rule_policy("project_status")
    assert outcomes(p, facts(project_status="quarantined")) == HELD
    assert outcomes(p, facts(project_status="archived")) == WARNED
    assert outcomes(p, facts(project_status="deprecated")) == WARNED
    assert outcomes(p, facts(project_status="active")) == PASS
    custom = rule_policy("project_status", 'statuses = { archived = "block" }')
    assert outcomes(custom, facts(project_status="archived")) == HELD
    assert outcomes(custom, facts(project_status="quarantined")) == PASS


def test_squatting_findings_are_held() -> None:
    p = rule_policy("squatting")
    assert outcomes(p, facts(squat_findings=("imitates requests",))) == HELD
    assert outcomes(p, facts(squat_findings=())) == PASS


def test_staleness_counts_whole_365_day_years() -> None:
    p = rule_policy("staleness", "years = 2")
    assert outcomes(p, facts(latest_release_time=NOW - timedelta(days=730))) == PASS
    assert outcomes(p, facts(latest_release_time=NOW - timedelta(days=731))) == HELD


# -- unavailable facts --------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "fact"),
    [
        ("vulnerabilities", "vulnerabilities"),
        ("vetting", "vet_score"),
        ("cooldown", "release_time"),
        ("yanked", "yanked"),
        ("project_status", "project_status"),
        ("squatting", "squat_findings"),
        ("staleness", "latest_release_time"),
    ],
)
def test_an_unavailable_fact_warns_by_default_and_is_listed(rule: str, fact: str) -> None:
    p = rule_policy(rule)
    assert outcomes(p, facts()) == WARNED
    decision = decide(p, "production", facts())
    assert [(u.fact, u.rule) for u in decision.unavailable] == [(fact, rule)]
    assert decision.reasons[0].message == f"{fact} unavailable"


def test_the_unavailable_setting_per_rule_and_per_policy() -> None:
    blocking = rule_policy("yanked", 'unavailable = "block"')
    assert outcomes(blocking, facts()) == HELD  # never stricter than the stage's action
    passing = rule_policy("yanked", 'unavailable = "pass"')
    assert outcomes(passing, facts()) == PASS
    assert [u.fact for u in decide(passing, "production", facts()).unavailable] == ["yanked"]
    default_block = policy('[policy]\nunavailable = "block"\n[rules.yanked]\naction = "block"\n')
    assert decide(default_block, "production", facts()).outcome == Outcome.BLOCK


def test_an_off_rule_looks_at_nothing() -> None:
    p = rule_policy("yanked", action='action = "off"')
    decision = decide(p, "production", facts())
    assert decision.outcome == Outcome.PASS
    assert decision.unavailable == ()


# --- review of issue 6: every rule x every stage outcome, in one table

Facts = dict[str, Any]
# rule -> (settings, facts that trigger it, facts that pass it, the fact left unknown)
_HIT: dict[str, tuple[str, Facts, Facts, Facts | None]] = {
    "vulnerabilities": ("", {"vulnerabilities": (vuln(),)}, {"vulnerabilities": ()},
                        {"vulnerabilities": None}),
    "vetting": ("", {"vet_score": 9.0}, {"vet_score": 1.0}, {"vet_score": None}),
    "licenses": ('deny = ["GPL-3.0-only"]\nallow = ["MIT"]',
                 {"license_expression": "GPL-3.0-only"}, {"license_expression": "MIT"}, None),
    "cooldown": ("", {"release_time": NOW - timedelta(days=1)},
                 {"release_time": NOW - timedelta(days=30)}, {"release_time": None}),
    "denylist": ('packages = ["demo<2"]', {}, {"version": "2.0"}, {"version": None}),
    "allowlist": ('packages = ["demo>=2"]', {}, {"version": "2.0"}, {"version": None}),
    "pins": ("", {"pinned": False}, {}, None),
    "hashes": ("", {"hashed": False}, {"hashed": True}, None),
    "yanked": ("", {"yanked": True}, {"yanked": False}, {"yanked": None}),
    "project_status": ("", {"project_status": "quarantined"}, {"project_status": "active"},
                       {"project_status": None}),
    "squatting": ("", {"squat_findings": ("looks like requests",)}, {"squat_findings": ()},
                  {"squat_findings": None}),
    "staleness": ("", {"latest_release_time": NOW - timedelta(days=3650)},
                  {"latest_release_time": NOW}, {"latest_release_time": None}),
}  # fmt: skip


def test_the_table_covers_every_rule() -> None:
    assert set(_HIT) == set(RULES)


@pytest.mark.parametrize("rule", sorted(_HIT))
def test_every_rule_at_every_stage_outcome(rule: str) -> None:
    settings, hit, clean, unknown = _HIT[rule]
    p = rule_policy(rule, settings + '\nunavailable = "block"')
    assert outcomes(p, facts(**hit)) == HELD  # off / warn / block
    assert outcomes(p, facts(**clean)) == PASS
    if unknown is not None:  # a missing fact counts, capped by the stage's action
        assert outcomes(p, facts(**unknown)) == HELD
        reasons = decide(p, "production", facts(**unknown)).reasons
        assert [r.message.endswith("unavailable") for r in reasons] == [True]
    warn_everywhere = rule_policy(rule, settings, action='action = "warn"')
    assert outcomes(warn_everywhere, facts(**hit)) == dict.fromkeys(HELD, Outcome.WARN)


@pytest.mark.parametrize(
    ("severity", "score", "counts"),
    [
        ("moderate", None, True),  # GitHub's word for medium
        ("MODERATE", None, True),
        ("unknown", 9.8, True),  # no label, but a critical score
        ("", 5.0, True),
        ("unknown", 3.9, False),  # a low score under a medium threshold
        ("low", None, False),
    ],
)
def test_a_missing_or_other_label_is_read_like_the_audit_does(
    severity: str, score: float | None, counts: bool
) -> None:
    p = rule_policy("vulnerabilities", 'severity = "medium"\nunknown_severity = "pass"')
    found = facts(vulnerabilities=(vuln(severity=severity, score=score),))
    assert outcomes(p, found) == (HELD if counts else PASS)
