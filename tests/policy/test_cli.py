"""``assay policy init | check | explain`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.cli.app import run
from assay.policy.starter import STARTER_POLICY
from tests.support import ASSETS

FULL = ASSETS / "policy" / "full.toml"


def call(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["policy", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_init_writes_a_policy_that_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "assay-policy.toml"
    code, out, _ = call(capsys, "init", "--output", str(target))
    assert code == 0
    assert "wrote" in out
    assert target.read_text(encoding="utf-8") == STARTER_POLICY
    code, out, _ = call(capsys, "check", str(target))
    assert code == 0
    assert "ok: 11 rules, stages sandbox, staging, production, 0 waivers" in out


def test_init_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "assay-policy.toml"
    target.write_text("# mine\n", encoding="utf-8")
    code, _, err = call(capsys, "init", "-o", str(target))
    assert code == 2
    assert err == f"assay: error: {target} already exists (use --force to overwrite it)\n"
    assert target.read_text(encoding="utf-8") == "# mine\n"
    assert call(capsys, "init", "-o", str(target), "--force")[0] == 0
    assert target.read_text(encoding="utf-8") == STARTER_POLICY


def test_init_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert call(capsys, "init", "-o", "-")[1] == STARTER_POLICY


def test_check_names_the_bad_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "p.toml"
    bad.write_text("[rules.pins]\naction = 'block'\n\n[rules.typo]\naction = 'warn'\n", "utf-8")
    code, out, err = call(capsys, "check", str(bad))
    assert code == 3
    assert out == ""
    assert err.startswith(f"assay: error: {bad}:4: unknown rule 'typo'")
    assert call(capsys, "check", str(tmp_path / "missing.toml"))[0] == 3


def test_check_uses_the_configured_policy_and_reports_expired_waivers(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSAY_POLICY", str(FULL))
    code, out, _ = call(capsys, "check")
    assert code == 0
    assert "12 rules, stages dev, staging, production, 2 waivers" in out
    assert "expired waiver (line 64): numpy / * / licenses, 2026-01-31" in out


def test_explain_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = call(capsys, "explain", "--policy", str(FULL))
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "warn" in lines["vulnerabilities"]
    assert "block" in lines["vulnerabilities"]
    assert "releases younger than 7 days are held" in lines["cooldown"]
    code, out, _ = call(
        capsys, "explain", "--policy", str(FULL), "--stage", "dev", "--format", "json"
    )
    document = json.loads(out)
    assert document["stages"] == ["dev"]
    rules = {rule["rule"]: rule["stages"]["dev"] for rule in document["rules"]}
    assert rules["licenses"] == {"action": "off", "unavailable": "-"}
    assert rules["vulnerabilities"] == {"action": "warn", "unavailable": "warn"}
    assert rules["pins"] == {"action": "off", "unavailable": "-"}
    assert rules["yanked"] == {"action": "block", "unavailable": "warn"}
    assert [(w["package"], w["line"]) for w in document["waivers"]] == [(None, 58), ("numpy", 64)]
    assert document["waivers"][1]["expired"] is True


def test_explain_an_unknown_stage_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = call(capsys, "explain", "--policy", str(FULL), "--stage", "prod")
    assert code == 2
    assert "unknown stage 'prod'; the policy has: dev, staging, production" in err
