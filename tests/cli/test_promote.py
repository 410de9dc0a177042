"""``assay promote``: history at --from, the gate at --to, the signed promotion entry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.gate_support import invoke, private_home

# pins everywhere; the vulnerabilities rule only blocks in production
POLICY = """\
[rules.pins]
action = "block"

[rules.vulnerabilities]
action = { sandbox = "off", staging = "warn", production = "block" }
severity = "critical"
"""
WAIVED = """
[[waivers]]
package = "pillow"
justification = "accepted for the pilot"
approver = "sec-team"
expires = "2027-01-31"

[[waivers]]
package = "transformers"
justification = "accepted for the pilot"
approver = "sec-team"
expires = "2027-01-31"
"""
NOW = "2026-11-25T12:00:00Z"


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shared_advisory_db: Path) -> Path:
    home = private_home(monkeypatch, tmp_path, shared_advisory_db)
    Path("policy.toml").write_text(POLICY, encoding="utf-8")
    return home


def promote(capsys: pytest.CaptureFixture[str], source: str, *args: str) -> tuple[int, str, str]:
    return invoke(
        capsys, "promote", source, "--policy", "policy.toml", "--offline", "--now", NOW,
        "--format", "json", *args,
    )  # fmt: skip


def entries(home: Path) -> list[dict[str, Any]]:
    lines = (home / "audit-log.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_promotion_is_refused_without_history(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = promote(
        capsys, "uv.lock", "--from", "staging", "--to", "production", "--by", "alice"
    )
    assert code == 1
    assert json.loads(out)["decision"]["stage"] == "production"
    assert "does not stand at 'staging'" in err
    (entry,) = entries(home)
    assert entry["kind"] == "decision"  # a refusal is logged as a decision
    refused = entry["record"]["promotion"]
    assert refused["from_stage"] == "staging"
    assert refused["by"] == "alice"
    assert "does not stand at 'staging'" in refused["refused"]


def test_promotions_walk_the_stages_and_verify(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the first stage needs no history
    code, _, err = promote(
        capsys, "uv.lock", "--from", "sandbox", "--to", "staging", "--by", "alice"
    )
    assert code == 5  # staging warns about the critical vulnerabilities
    assert "export the attestation with: assay log attest 1" in err
    (first,) = entries(home)
    assert first["kind"] == "promotion"
    record = first["record"]
    assert (record["from_stage"], record["to_stage"], record["by"], record["outcome"]) == (
        "sandbox",
        "staging",
        "alice",
        "warn",
    )
    assert record["environment"] == "uv.lock"
    assert record["environment_digest"].startswith("sha256:")
    assert record["policy_digest"].startswith("sha256:")
    assert {r["package"] for r in record["reasons"]} == {"pillow", "transformers"}
    assert record["waivers_used"] == []
    # staging -> production is blocked until the findings are waived
    code, _, err = promote(
        capsys, "uv.lock", "--from", "staging", "--to", "production", "--by", "bob"
    )
    assert code == 1
    assert "the policy blocks uv.lock at 'production'" in err
    Path("policy.toml").write_text(POLICY + WAIVED, encoding="utf-8")
    code, _, err = promote(
        capsys, "uv.lock", "--from", "staging", "--to", "production", "--by", "bob"
    )
    assert code == 0
    logged = entries(home)
    assert [e["kind"] for e in logged] == ["promotion", "decision", "promotion"]
    last = logged[-1]["record"]
    assert (last["to_stage"], last["by"], last["outcome"], last["standing_entry"]) == (
        "production",
        "bob",
        "pass",
        1,
    )
    assert [w["package"] for w in last["waivers_used"]] == ["pillow", "transformers"]
    assert invoke(capsys, "log", "verify")[0] == 0
    code, out, _ = invoke(capsys, "log", "attest", "3")
    assert code == 0
    assert out.strip()


def test_a_passing_gate_at_the_from_stage_counts_as_history(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = invoke(
        capsys, "gate", "uv.lock", "--stage", "staging", "--policy", "policy.toml", "--offline"
    )
    assert code == 5
    code, _, err = promote(
        capsys, "uv.lock", "--from", "staging", "--to", "production", "--by", "c"
    )
    assert code == 1  # it stands at staging, but production blocks
    assert "the policy blocks uv.lock at 'production'" in err
    assert "does not stand" not in err


def test_an_edited_log_is_not_trusted(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert promote(capsys, "uv.lock", "--from", "sandbox", "--to", "staging", "--by", "a")[0] == 5
    log = home / "audit-log.jsonl"
    text = log.read_text(encoding="utf-8")
    assert '"by":"a"' in text
    log.write_text(text.replace('"by":"a"', '"by":"z"'), encoding="utf-8")
    code, _, err = promote(
        capsys, "uv.lock", "--from", "staging", "--to", "production", "--by", "a"
    )
    assert code == 3
    assert "cannot be trusted" in err


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        (("sandbox", "production"), "the only promotion from 'sandbox' is to 'staging'"),
        (("production", "staging"), "'production' is the last stage"),
        (("staging", "qa"), "unknown stage 'qa'"),
    ],
)
def test_stage_order_is_a_usage_error(
    home: Path, capsys: pytest.CaptureFixture[str], stages: tuple[str, str], message: str
) -> None:
    code, out, err = promote(capsys, "uv.lock", "--from", stages[0], "--to", stages[1], "--by", "a")
    assert (code, out) == (2, "")
    assert message in err
    assert not (home / "audit-log.jsonl").exists()
