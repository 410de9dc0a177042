"""The policy file: strict loading with line-numbered errors, the starter policy, digests."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.policy.engine import evaluate
from assay.policy.loading import load_policy, parse_policy
from assay.policy.model import Outcome, PolicyError
from assay.policy.rules import RULES
from assay.policy.starter import STARTER_POLICY
from tests.policy.helpers import NOW, facts, policy


def error(text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.toml")
    assert caught.value.exit_code == 3
    return caught.value.message


def test_the_starter_policy_loads_and_uses_every_rule_but_the_allow_list() -> None:
    p = parse_policy(STARTER_POLICY, "starter")
    assert p.stages == ("sandbox", "staging", "production")
    assert {r.name for r in p.rules} == set(RULES) - {"allowlist"}
    assert p.waivers == ()


def test_the_starter_policy_decides_a_clean_package() -> None:
    p = parse_policy(STARTER_POLICY, "starter")
    clean = facts(
        license_expression="MIT",
        vulnerabilities=(),
        vet_score=0.0,
        squat_findings=(),
        release_time=NOW.replace(year=2025),
        latest_release_time=NOW.replace(year=2025),
        yanked=False,
        project_status="active",
        hashed=True,
    )
    assert evaluate(p, "production", [clean], now=NOW).outcome == Outcome.PASS
    assert evaluate(p, "production", [facts()], now=NOW).outcome == Outcome.BLOCK


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[rules.vulnerabilities\naction = 1", "p.toml:1: invalid TOML"),
        ("\n\n[polcy]\n", "p.toml:3: unknown key 'polcy' in the policy"),
        (
            '[rules.vulnerabilities]\naction = "block"\nseverity = "high"\nsevrity = "low"\n',
            "p.toml:4: unknown key 'sevrity' in rules.vulnerabilities",
        ),
        ("\n[rules.malware]\naction = 'block'\n", "p.toml:2: unknown rule 'malware'"),
        ("\n\n[rules.pins]\n", "p.toml:3: rules.pins needs an action"),
        (
            "[rules.pins]\n\naction = 'deny'\n",
            "p.toml:3: rules.pins.action is 'deny'; expected one of off, warn, block",
        ),
        (
            "[rules.pins]\naction = { sandbox = 'off', staging = 'warn' }\n",
            "p.toml:2: rules.pins.action gives no action for stage 'production'",
        ),
        (
            "[rules.pins]\naction = { default = 'warn', prod = 'block' }\n",
            "p.toml:2: unknown key 'prod' in rules.pins.action",
        ),
        (
            "[rules.vulnerabilities]\naction = 'block'\n\nseverity = 'severe'\n",
            "p.toml:4: rules.vulnerabilities.severity is 'severe'; expected one of none, low,",
        ),
        (
            "[rules.vulnerabilities]\naction = 'block'\nscore = 11\n",
            "p.toml:3: rules.vulnerabilities.score is 11; expected 0 to 10",
        ),
        (
            "[rules.vulnerabilities]\naction = 'block'\nonly_with_fix = 'yes'\n",
            "p.toml:3: rules.vulnerabilities.only_with_fix must be true or false, found a string",
        ),
        (
            "[rules.cooldown]\naction = 'block'\ndays = true\n",
            "p.toml:3: rules.cooldown.days must be an integer, found true or false",
        ),
        (
            "[rules.licenses]\naction = 'block'\nallow = [\n  'MIT',\n  'Bogus-1.0',\n]\n",
            "p.toml:3: 'Bogus-1.0' is not a known SPDX license id",
        ),
        (
            "[rules.licenses]\naction = 'block'\nallow = ['MIT']\ndeny = ['mit']\n",
            "p.toml:4: mit is in both allow and deny",
        ),
        (
            "[rules.denylist]\naction = 'block'\npackages = ['ok', 'bad name<<1']\n",
            "p.toml:3: 'bad name<<1' is not a name with a version specifier",
        ),
        (
            "[rules.denylist]\naction = 'block'\npackages = ['x[extra]']\n",
            "p.toml:3: 'x[extra]': only a name and a version specifier are allowed",
        ),
        ("[policy]\nstages = ['dev', 'Prod']\n", "p.toml:2: stage name 'Prod' is not valid"),
        ("[policy]\nstages = []\n", "p.toml:2: stages must be unique and not empty"),
        (
            "[policy]\nunavailable = 'ignore'\n",
            "p.toml:2: policy.unavailable is 'ignore'; expected one of pass, warn, block",
        ),
        ("rules = 3\n", "p.toml:1: rules must be a table, found an integer"),
    ],
)
def test_bad_policies_name_the_line(text: str, expected: str) -> None:
    assert error(text).startswith(expected)


WAIVER = "[[waivers]]\npackage = 'a'\njustification = 'j'\napprover = 'x'\nexpires = 2026-01-01\n"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("expires = 2026-13-01", "invalid TOML"),
        ("versions = '>>1'", "p.toml:11: '>>1' is not a version specifier"),
        ("rule = 'licences'", "p.toml:11: unknown rule 'licences'"),
        ("owner = 'me'", "p.toml:11: unknown key 'owner' in waivers[1]"),
    ],
)
def test_bad_waivers_name_the_line(extra: str, expected: str) -> None:
    second = WAIVER if "expires" not in extra else WAIVER.replace("expires = 2026-01-01\n", "")
    assert expected in error(WAIVER + second + extra + "\n")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "package = 'a'\napprover = 'x'\nexpires = 2026-01-01",
            "p.toml:1: waiver needs 'justification'",
        ),
        (
            "justification = 'j'\napprover = 'x'\nexpires = 2026-01-01",
            "a package or a vulnerability",
        ),
        (
            "package = 'a'\njustification = ' '\napprover = 'x'\nexpires = 2026-01-01",
            "p.toml:3: waiver justification is empty",
        ),
        (
            "package = 'a'\njustification = 'j'\napprover = 'x'\nexpires = '31/12/2026'",
            "p.toml:5: expires '31/12/2026' is not a date",
        ),
        (
            "package = 'a'\njustification = 'j'\napprover = 'x'\nexpires = 2026-01-01T10:00:00Z",
            "p.toml:5: expires must be a date",
        ),
        (
            (
                "vulnerability = 'CVE-1'\nversions = '<2'\njustification = 'j'\n"
                "approver = 'x'\nexpires = 2026-01-01"
            ),
            "p.toml:3: waiver versions need a package",
        ),
    ],
)
def test_waiver_fields_are_required_and_checked(body: str, expected: str) -> None:
    assert expected in error("[[waivers]]\n" + body + "\n")


def test_custom_stages_and_unknown_stage_at_evaluation() -> None:
    p = policy(
        "[policy]\nstages = ['dev', 'prod']\n"
        "[rules.pins]\naction = { dev = 'off', prod = 'block' }\n"
    )
    assert p.stages == ("dev", "prod")
    assert evaluate(p, "prod", [facts(pinned=False)], now=NOW).outcome == Outcome.BLOCK
    with pytest.raises(PolicyError, match="unknown stage 'production'"):
        evaluate(p, "production", [], now=NOW)


def test_the_digest_ignores_comments_and_layout_but_not_content() -> None:
    a = policy("[rules.pins]\naction = 'block'\n")
    b = policy('# a comment\n[rules.pins]\n\naction    = "block"  # trailing\n')
    c = policy("[rules.pins]\naction = 'warn'\n")
    assert a.digest == b.digest != c.digest
    assert a.digest.startswith("sha256:")
    assert len(a.digest) == 71


def test_dotted_and_quoted_keys_still_find_lines() -> None:
    text = "[rules]\npins.action = 'block'\n\n\"hashes\".action = 'never'\n"
    assert error(text).startswith("p.toml:4: rules.hashes.action is 'never'")


def test_load_policy_reads_files_and_names_missing_ones(tmp_path: Path) -> None:
    path = tmp_path / "assay-policy.toml"
    path.write_text(STARTER_POLICY, encoding="utf-8")
    assert load_policy(path).digest == parse_policy(STARTER_POLICY, "x").digest
    with pytest.raises(PolicyError, match=r"nope\.toml: no such file"):
        load_policy(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"[rules.pins]\naction = '\xff'\n")
    with pytest.raises(PolicyError, match=r"bad\.toml:2: not valid UTF-8"):
        load_policy(bad)


# --- review of issue 6: values that used to load and then never matched or misbehaved


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[policy]\nstages = ["prod\\n"]\n', "p.toml:2: stage name 'prod\\n' is not valid"),
        (
            '[policy]\nstages = ["default", "prod"]\n',
            "p.toml:2: 'default' is reserved, not a stage name",
        ),
        ('[rules.vulnerabilities]\naction = "block"\nids = [" "]\n', "p.toml:3: rules.vuln"),
        (
            '[rules.cooldown]\naction = "block"\noverrides = { "bad name!" = 1 }\n',
            "p.toml:3: 'bad name!' is not a package name",
        ),
    ],
)
def test_stage_names_ids_and_override_names_are_checked(text: str, expected: str) -> None:
    assert error(text).startswith(expected)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("package = ''", "p.toml:2: waiver package is empty"),
        ("vulnerability = '  '", "p.toml:2: waiver vulnerability is empty"),
        ("package = 'a'\nrule = ''", "p.toml:3: waiver rule is empty"),
        ("package = 'a'\nversions = ''", "p.toml:3: waiver versions is empty"),
        ("package = 'not a name'", "p.toml:2: 'not a name' is not a package name"),
        ("package = 'a'\nexpires = '20261231'", "expires '20261231' is not a date (YYYY-MM-DD)"),
        ("package = 'a'\nexpires = '2026-W01-1'", "expires '2026-W01-1' is not a date"),
    ],
)
def test_waiver_scopes_are_never_empty_and_dates_are_plain(line: str, expected: str) -> None:
    expires = "" if "expires" in line else "expires = 2026-01-01\n"
    text = f"[[waivers]]\n{line}\njustification = 'j'\napprover = 'x'\n{expires}"
    assert expected in error(text)


def test_a_string_expiry_in_the_documented_form_still_loads() -> None:
    p = policy("[[waivers]]\npackage = 'A.B'\njustification = 'j'\napprover = 'x'\n"
               "expires = '2026-12-31'\n")  # fmt: skip
    assert (p.waivers[0].package, p.waivers[0].expires.isoformat()) == ("a-b", "2026-12-31")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the policy is empty"),
        (b"# only a comment\n\n", "the policy is empty"),
        (b"[rules.pins]\naction = 'block'\n[rules.pins]\n", ":3: invalid TOML: Cannot declare"),
        (
            b"[rules.vulnerabilities]\naction = { default = 'warn', x = { y = { z = 1 } } }\n",
            ":2: unknown key 'x' in rules.vulnerabilities.action",
        ),
        (b"[rules.pins]\naction = 'block'\n" + b"#" * (4 * 1024 * 1024), "byte limit"),
        (bytes(range(256)) * 4, "not valid UTF-8"),
    ],
)
def test_malformed_policy_files(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "p.toml"
    path.write_bytes(content)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert caught.value.exit_code == 3
    assert str(path) in caught.value.message
    assert expected in caught.value.message


def test_a_directory_is_not_a_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="is a directory"):
        load_policy(tmp_path)
