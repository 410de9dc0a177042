"""``assay gate`` end to end: the example lock, the shared advisory database, a written policy."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from assay.environments.artifact import dumps_with_digest
from assay.environments.readers import read_environment
from tests.advisories.reports.test_sarif import check_sarif_essentials
from tests.cli.gate_support import (
    GOLDEN,
    closed_port,
    index_page,
    invoke,
    invoke_json,
    private_home,
    simple_index,
    wheel,
)

NOW = "2026-11-25T12:00:00+00:00"
BLOCKING_POLICY = """\
[policy]
stages = ["dev", "production"]

[rules.vulnerabilities]
action = { dev = "warn", production = "block" }
severity = "critical"

[rules.pins]
action = "block"

[rules.cooldown]
action = { dev = "off", production = "warn" }
days = 14
unavailable = "pass"

[[waivers]]
package = "pillow"
vulnerability = "PYSEC-2026-457"
justification = "we never decode untrusted images"
approver = "sec-team"
expires = "2027-01-31"
"""
PASSING_POLICY = '[rules.pins]\naction = "block"\n'
COOLDOWN_POLICY = '[rules.cooldown]\naction = "block"\ndays = 7\n'


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, shared_advisory_db: Path) -> Path:
    return private_home(monkeypatch, tmp_path, shared_advisory_db)


def write_policy(text: str, name: str = "policy.toml") -> str:
    Path(name).write_text(text, encoding="utf-8")
    return name


def gate(capsys: pytest.CaptureFixture[str], policy: str, *args: str) -> tuple[int, dict[str, Any]]:
    return invoke_json(
        capsys, "gate", "uv.lock", "--policy", write_policy(policy), "--offline", *args
    )


def reasons(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(r["package"], r["rule"], r["effective"]) for r in document["decision"]["reasons"]}


def test_blocked_decision_matches_golden(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, document = gate(
        capsys, BLOCKING_POLICY, "--stage", "production", "--now", NOW, "--no-log"
    )
    assert code == 1
    assert document["exit_code"] == 1
    decision = document["decision"]
    assert decision["outcome"] == "block"
    blocked = {
        (r["package"], r["vulnerability"]) for r in decision["reasons"] if r["effective"] == "block"
    }
    assert ("transformers", "PYSEC-2026-2290") in blocked  # critical, no waiver
    waived = [r for r in decision["reasons"] if r["waiver"]]
    assert [(r["package"], r["vulnerability"], r["effective"]) for r in waived] == [
        ("pillow", "PYSEC-2026-457", "pass")
    ]
    assert decision["waivers_used"][0]["approver"] == "sec-team"
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    golden = GOLDEN / "churn-model.production.json"
    if os.environ.get("ASSAY_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"missing {golden}; run with ASSAY_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")


def test_the_same_environment_passes_at_a_laxer_stage(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document = gate(capsys, BLOCKING_POLICY, "--stage", "dev", "--now", NOW, "--no-log")
    assert code == 5  # vulnerabilities only warn at dev
    assert document["decision"]["outcome"] == "warn"
    assert {r[2] for r in reasons(document)} == {"warn", "pass"}


def test_pass_exits_zero(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, document = gate(capsys, PASSING_POLICY, "--stage", "production", "--no-log")
    assert code == 0
    assert document["decision"]["outcome"] == "pass"
    assert document["decision"]["packages"] == {"pass": 59, "warn": 0, "block": 0}


def test_unavailable_facts_warn_and_are_listed_with_their_cause(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document = gate(capsys, COOLDOWN_POLICY, "--stage", "production", "--no-log")
    assert code == 5  # the policy's default for a missing fact is warn
    rows = {row["fact"]: row for row in document["facts_unavailable"]}
    release = rows["release_time"]
    assert release["cause"] == "--offline: the package index was not asked"
    assert release["rules"] == ["cooldown"]
    assert len(release["packages"]) == 59
    assert rows["vet_score"]["cause"].startswith("no vet cache at home/vet-cache.sqlite3")
    assert rows["vet_score"]["rules"] == []  # no active rule needed it
    assert "vulnerabilities" not in rows  # the database answered
    needed = {(u["fact"], u["rule"]) for u in document["decision"]["unavailable"]}
    assert needed == {("release_time", "cooldown")}


def test_a_missing_advisory_database_is_unavailable_not_clean(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSAY_DB", "nowhere.sqlite3")
    policy = '[rules.vulnerabilities]\naction = "block"\n'
    code, document = gate(capsys, policy, "--stage", "production", "--no-log")
    assert code == 5
    (row,) = [r for r in document["facts_unavailable"] if r["fact"] == "vulnerabilities"]
    assert row["cause"].startswith("no advisory database at nowhere.sqlite3")
    assert row["rules"] == ["vulnerabilities"]


def test_table_output_names_reasons_and_missing_facts(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = invoke(
        capsys, "gate", "uv.lock", "--stage", "production", "--policy",
        write_policy(BLOCKING_POLICY), "--offline", "--now", NOW, "--no-log",
    )  # fmt: skip
    assert code == 1
    assert "transformers" in out
    assert "PYSEC-2026-2290 (critical, CVSS 9.6)" in out
    assert "waived (block)" in out
    assert "facts unavailable to the rules:" in out
    assert "--offline: the package index was not asked" in out
    assert "decision: BLOCK (exit 1) | 57 pass, 0 warn, 2 block | 1 waiver used" in out


def test_sarif_output(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(
        capsys, "gate", "uv.lock", "--stage", "production", "--policy",
        write_policy(BLOCKING_POLICY), "--offline", "--now", NOW, "--no-log", "--format", "sarif",
    )  # fmt: skip
    assert code == 1
    document = json.loads(out)
    check_sarif_essentials(document)
    results = document["runs"][0]["results"]
    assert {r["level"] for r in results} == {"error"}
    assert any("suppressions" in r for r in results)  # the waived one
    assert all(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "uv.lock"
        for r in results
    )


def test_the_decision_is_logged_and_verifies(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = invoke(
        capsys, "gate", "uv.lock", "--stage", "production", "--policy",
        write_policy(PASSING_POLICY), "--offline", "--output", "report.txt",
    )  # fmt: skip
    assert code == 0
    assert "decision logged as entry 1" in err
    assert Path("report.txt").read_text(encoding="utf-8").startswith("uv-lock: uv.lock")
    (line,) = (home / "audit-log.jsonl").read_text(encoding="utf-8").splitlines()
    entry = json.loads(line)
    _, digest = dumps_with_digest(read_environment(Path("uv.lock")))
    assert entry["kind"] == "decision"
    record = entry["record"]
    assert (record["stage"], record["outcome"], record["environment_digest"]) == (
        "production",
        "pass",
        digest,
    )
    assert record["environment"] == "uv.lock"
    assert {"fact": "release_time", "cause": "--offline: the package index was not asked",
            "rules": [], "packages": 59} in record["facts_unavailable"]  # fmt: skip
    assert invoke(capsys, "log", "verify")[0] == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--stage", "qa"), 2, "unknown stage 'qa'"),
        (("--stage", "production", "--now", "yesterday"), 2, "--now 'yesterday'"),
        (("--stage", "production", "--now", "9999-12-31T23:00-05:00"), 2, "is out of range"),
        (("--stage", "production", "-o", "missing/report.txt"), 2, "cannot write: no directory"),
        (("--stage", "production", "--source-format", "nope"), 2, "unknown --source-format"),
    ],
)
def test_usage_errors(
    home: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], code: int, message: str
) -> None:
    got, out, err = invoke(
        capsys, "gate", "uv.lock", "--policy", write_policy(PASSING_POLICY), *args
    )
    assert (got, out) == (code, "")
    assert err.startswith("assay: error: ")
    assert message in err
    assert len(err.splitlines()) == 1
    assert not (home / "audit-log.jsonl").exists()  # refused before anything was decided


def test_bad_input_exits_3(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_policy('[rules.cooldown]\naction = "block"\ndays = "soon"\n', "bad.toml")
    code, _, err = invoke(capsys, "gate", "uv.lock", "--stage", "production", "--policy", bad)
    assert code == 3
    assert err.startswith("assay: error: bad.toml:3:")
    good = write_policy(PASSING_POLICY)
    code, _, err = invoke(capsys, "gate", "missing.lock", "--stage", "production", "--policy", good)
    assert code == 3
    assert "missing.lock" in err
    assert not (home / "audit-log.jsonl").exists()  # nothing decided, nothing logged


INDEX_POLICY = """\
[policy]
unavailable = "block"

[rules.cooldown]
action = "block"
days = 7

[rules.yanked]
action = "block"

[rules.project_status]
action = "warn"

[rules.staleness]
action = "warn"
years = 2
"""


def index_pages() -> dict[str, dict[str, Any]]:
    return {
        "fresh-pkg": index_page(
            "fresh-pkg",
            [
                wheel("fresh-pkg", "1.0", "2025-01-01T00:00:00Z"),
                wheel("fresh-pkg", "2.0", "2026-06-08T10:00:00Z"),
            ],
        ),
        "old-pkg": index_page("old-pkg", [wheel("old-pkg", "1.0", "2020-03-01T00:00:00Z")]),
        "pulled-pkg": index_page(
            "pulled-pkg",
            [
                wheel("pulled-pkg", "1.5", "2026-01-01T00:00:00Z", yanked="data loss on upgrade"),
                wheel("pulled-pkg", "1.6", "2026-02-01T00:00:00Z"),
            ],
        ),
        "shelved-pkg": index_page(
            "shelved-pkg",
            [wheel("shelved-pkg", "3.0", "2026-01-01T00:00:00Z")],
            **{"project-status": {"status": "archived", "reason": "no longer maintained"}},
        ),
    }


def write_requirements() -> None:
    Path("requirements.txt").write_text(
        "fresh-pkg==2.0\nold-pkg==1.0\npulled-pkg==1.5\nshelved-pkg==3.0\n", encoding="utf-8"
    )


def test_release_times_yanks_and_status_from_the_index(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_requirements()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with simple_index(index_pages()) as url:
        monkeypatch.setenv("ASSAY_INDEX_URL", url)
        code, document = invoke_json(
            capsys, "gate", "requirements.txt", "--stage", "production", "--policy",
            write_policy(INDEX_POLICY), "--now", "2026-06-10", "--no-log",
        )  # fmt: skip
    assert code == 1
    found = {(r["package"], r["rule"]): r for r in document["decision"]["reasons"]}
    assert set(found) == {
        ("fresh-pkg", "cooldown"),
        ("old-pkg", "staleness"),
        ("pulled-pkg", "yanked"),
        ("shelved-pkg", "project_status"),
    }
    assert found["fresh-pkg", "cooldown"]["effective"] == "block"
    assert "data loss on upgrade" in found["pulled-pkg", "yanked"]["message"]
    assert found["shelved-pkg", "project_status"]["effective"] == "warn"
    assert found["old-pkg", "staleness"]["effective"] == "warn"
    index_rows = [
        r for r in document["facts_unavailable"] if r["fact"] in ("release_time", "yanked")
    ]
    assert index_rows == []  # everything came from the index


def test_an_unreachable_index_makes_its_facts_unavailable(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_requirements()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("ASSAY_INDEX_URL", f"http://127.0.0.1:{closed_port()}/simple/")
    code, document = invoke_json(
        capsys, "gate", "requirements.txt", "--stage", "production", "--policy",
        write_policy(INDEX_POLICY), "--no-log",
    )  # fmt: skip
    assert code == 1  # this policy blocks on a missing fact
    (row,) = [r for r in document["facts_unavailable"] if r["fact"] == "release_time"]
    assert row["cause"].startswith("cannot reach the package index at http://127.0.0.1:")
    assert row["rules"] == ["cooldown"]
    assert len(row["packages"]) == 4
    assert all(r["message"].endswith("unavailable") for r in document["decision"]["reasons"])


def test_squatting_from_the_popular_list(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {"project": "requests", "download_count": 10**9},
        {"project": "numpy", "download_count": 10**9},
    ]
    Path("popular.json").write_text(json.dumps({"rows": rows}), encoding="utf-8")
    Path("requirements.txt").write_text("reqeusts==1.0\nnumpy==2.0\n", encoding="utf-8")
    code, document = invoke_json(
        capsys, "gate", "requirements.txt", "--stage", "production", "--offline", "--no-log",
        "--policy", write_policy('[rules.squatting]\naction = "block"\n'),
        "--popular", "popular.json",
    )  # fmt: skip
    assert code == 1
    assert {(r["package"], r["rule"]) for r in document["decision"]["reasons"]} == {
        ("reqeusts", "squatting")
    }
    assert not [r for r in document["facts_unavailable"] if r["fact"] == "squat_findings"]


def test_now_with_an_offset_is_evaluated_in_utc() -> None:
    from assay.cli.gate import parse_now  # noqa: PLC0415

    moment = parse_now("2026-03-31T20:00:00-04:00")
    assert moment.isoformat() == "2026-04-01T00:00:00+00:00"
    assert parse_now("2026-03-31").isoformat() == "2026-03-31T00:00:00+00:00"
