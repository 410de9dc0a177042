"""``assay audit`` end to end on the example project, against the shared PyPA database."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from assay.cli.app import run
from tests.advisories.reports.test_sarif import check_sarif_essentials

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "churn-model"
ASSETS = REPO / "tests" / "assets" / "audit"

# what PyPA's database says about the example's pins, package -> number of findings
EXPECTED = {
    "aiohttp": 26,
    "flask": 1,
    "pillow": 3,
    "requests": 1,
    "scikit-learn": 1,
    "transformers": 15,
    "urllib3": 2,
    "werkzeug": 2,
}
CRITICAL = ("CVE-2023-50447", "PYSEC-2026-2290")  # pillow 10.0.0 and transformers 4.36.0


def audit(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> tuple[int, str, str]:
    code = run(["audit", "--db", str(db), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def audit_json(
    capsys: pytest.CaptureFixture[str], db: Path, *args: str
) -> tuple[int, dict[str, Any]]:
    code, out, _ = audit(capsys, db, "--format", "json", *args)
    return code, json.loads(out)


def test_known_findings_of_the_example_lock(
    shared_advisory_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document = audit_json(capsys, shared_advisory_db, str(EXAMPLE / "uv.lock"))
    assert code == 1
    (report,) = document["reports"]
    findings = report["findings"]
    assert Counter(f["canonical_name"] for f in findings) == EXPECTED
    (requests,) = [f for f in findings if f["canonical_name"] == "requests"]
    assert requests["version"] == "2.31.0"
    assert requests["ids"] == ["PYSEC-2026-2275", "GHSA-gc5v-m9x4-r6x2", "CVE-2026-25645"]
    assert requests["severity"]["text"] == "medium 5.5"
    assert requests["fixed_versions"] == ["2.33.0"]
    # PYSEC-2023-74 (CVE-2023-32681) is fixed in 2.31.0 exactly: not a finding
    assert all("CVE-2023-32681" not in f["ids"] for f in findings)
    fixes = {p["package"]: p["fix"] for p in report["packages"]}
    assert fixes["requests"] == "2.33.0"
    assert fixes["werkzeug"] == "3.1.6"
    assert report["summary"]["packages"] == 59
    assert report["summary"]["not_audited"] == 0


def test_requirements_export_gives_the_same_findings(
    shared_advisory_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, lock = audit_json(capsys, shared_advisory_db, str(EXAMPLE / "uv.lock"))
    _, reqs = audit_json(capsys, shared_advisory_db, str(EXAMPLE / "requirements.txt"))

    def triples(document: dict[str, Any]) -> set[tuple[str, str, str]]:
        return {
            (f["canonical_name"], f["version"], f["id"]) for f in document["reports"][0]["findings"]
        }

    assert triples(lock) == triples(reqs)
    assert len(triples(lock)) == sum(EXPECTED.values())


def test_table_output(shared_advisory_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = audit(capsys, shared_advisory_db, str(EXAMPLE / "uv.lock"))
    assert code == 1
    assert err == ""
    assert "59 of 59 packages audited" in out
    assert "PYSEC-2026-2275" in out
    assert "GHSA-gc5v-m9x4-r6x2" in out
    assert "requests 2.31.0 -> 2.33.0 (1 finding)" in out
    assert "aiohttp 3.8.5 -> 3.14.1 (26 findings)" in out


UNKNOWN_SEVERITY = "PYSEC-2023-175"


def test_fail_on_thresholds(shared_advisory_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = str(EXAMPLE / "uv.lock")
    assert audit(capsys, shared_advisory_db, lock, "--fail-on", "critical")[0] == 1
    ignores = [arg for i in CRITICAL for arg in ("--ignore", i)]
    code, out, _ = audit(capsys, shared_advisory_db, lock, "--fail-on", "critical", *ignores)
    assert code == 1  # PYSEC-2023-175 has no vector and no label: unknown fails every threshold
    ignores += ["--ignore", UNKNOWN_SEVERITY]
    code, out, _ = audit(capsys, shared_advisory_db, lock, "--fail-on", "critical", *ignores)
    assert code == 0
    assert "0 at or above --fail-on critical" in out
    assert "suppressed (3)" in out
    assert audit(capsys, shared_advisory_db, lock, "--fail-on", "high", *ignores)[0] == 1


def test_ignore_file_and_vex_on_the_command_line(
    shared_advisory_db: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ignore = tmp_path / "ignore.toml"
    ignore.write_text(
        '[[ignore]]\nid = "GHSA-gc5v-m9x4-r6x2"\nreason = "zip import unused"\n'
        "expires = 2999-12-31\n\n"
        '[[ignore]]\nid = "CVE-2024-5206"\nreason = "old"\nexpires = 2020-01-01\n',
        encoding="utf-8",
    )
    vex = tmp_path / "vex.json"
    vex.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "https://example.com/vex/1",
                "author": "team",
                "timestamp": "2026-03-01T00:00:00Z",
                "version": 1,
                "statements": [
                    {
                        "vulnerability": {"name": "CVE-2023-45803"},
                        "products": [{"@id": "pkg:pypi/urllib3@2.0.6"}],
                        "status": "not_affected",
                        "justification": "vulnerable_code_not_in_execute_path",
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    code, out, err = audit(
        capsys,
        shared_advisory_db,
        str(EXAMPLE / "uv.lock"),
        "--format",
        "json",
        "--ignore-file",
        str(ignore),
        "--vex",
        str(vex),
    )
    assert code == 1
    report = json.loads(out)["reports"][0]
    suppressed = {s["id"]: s["suppression"] for s in report["suppressed"]}
    assert suppressed["PYSEC-2026-2275"]["kind"] == "ignore-file"
    assert suppressed["PYSEC-2026-2275"]["origin"] == f"{ignore}:1"
    assert suppressed["PYSEC-2023-212"]["reason"] == (
        "not_affected: vulnerable_code_not_in_execute_path"
    )
    assert "PYSEC-2024-110" in {f["id"] for f in report["findings"]}  # expired entry
    assert report["expired_ignores"][0]["matched"] == ["scikit-learn 1.3.0 PYSEC-2024-110"]
    assert f"ignore entry CVE-2024-5206 ({ignore}:6) expired on 2020-01-01" in err


def test_sarif_to_a_file(
    shared_advisory_db: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)
    target = tmp_path / "audit.sarif"
    code, out, err = audit(
        capsys,
        shared_advisory_db,
        "examples/churn-model/uv.lock",
        "--format",
        "sarif",
        "-o",
        str(target),
    )
    assert code == 1
    assert out == ""
    assert err.startswith("assay: 51 findings in 8 packages")
    document = json.loads(target.read_text(encoding="utf-8"))
    check_sarif_essentials(document)
    results = document["runs"][0]["results"]
    assert len(results) == 51
    (requests,) = [r for r in results if r["properties"]["package"] == "requests"]
    location = requests["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "examples/churn-model/uv.lock"
    line = location["region"]["startLine"]
    lock_lines = (REPO / "examples/churn-model/uv.lock").read_text().splitlines()
    assert lock_lines[line - 1] == 'name = "requests"'


def test_cyclonedx_and_markdown_formats(
    shared_advisory_db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    code, out, _ = audit(
        capsys, shared_advisory_db, str(EXAMPLE / "uv.lock"), "--format", "cyclonedx"
    )
    assert code == 1
    bom = json.loads(out)
    assert bom["specVersion"] == "1.6"
    assert bom["metadata"]["timestamp"] == "2026-01-01T00:00:00+00:00"
    assert len(bom["components"]) == 59
    assert len(bom["vulnerabilities"]) == 51
    code, out, _ = audit(
        capsys, shared_advisory_db, str(EXAMPLE / "uv.lock"), "--format", "markdown"
    )
    assert out.startswith("# assay audit\n")
    assert "| requests | 2.31.0 | PYSEC-2026-2275 |" in out


def test_several_sources_and_unpinned_requirements(
    shared_advisory_db: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("requests==2.30.0\nnumpy>=1.24\n", encoding="utf-8")
    code, document = audit_json(
        capsys, shared_advisory_db, str(requirements), str(EXAMPLE / "uv.lock")
    )
    assert code == 1
    first, second = document["reports"]
    assert [(n["package"], n["reason"]) for n in first["not_audited"]] == [("numpy", "unpinned")]
    assert {f["id"] for f in first["findings"]} == {"PYSEC-2023-74", "PYSEC-2026-2275"}
    assert second["summary"]["findings"] == 51
    assert document["summary"]["not_audited"] == 1
    code, out, _ = audit(capsys, shared_advisory_db, str(requirements))
    assert "not audited (1): numpy" in out
    assert "numpy: unpinned (>=1.24)" in out


def test_a_clean_environment_exits_0(
    shared_advisory_db: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("requests==2.33.0\n", encoding="utf-8")
    code, out, _ = audit(capsys, shared_advisory_db, str(requirements))
    assert code == 0
    assert "no unsuppressed findings" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-on", "severe"], "Invalid value for '--fail-on'"),
        (["--format", "html"], "Invalid value for '--format'"),
        (["--source-format", "nope"], "unknown --source-format 'nope'"),
    ],
)
def test_usage_errors_exit_2(
    shared_advisory_db: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    code, _, err = audit(capsys, shared_advisory_db, str(EXAMPLE / "uv.lock"), *args)
    assert code == 2
    assert err.startswith("assay: error: ")
    assert message in err
    assert err.count("\n") == 1


def test_unreadable_inputs_exit_3(
    shared_advisory_db: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lock = str(EXAMPLE / "uv.lock")
    cases = [
        ([str(tmp_path / "missing.lock")], "missing.lock"),
        ([lock, "--ignore-file", str(tmp_path / "none.toml")], "none.toml: no such file"),
        (
            [lock, "--ignore-file", str(ASSETS / "ignore" / "missing-reason.toml")],
            "missing-reason.toml:6: ignore entry 2: missing required key 'reason'",
        ),
        (
            [lock, "--vex", str(ASSETS / "vex" / "bad-status.json")],
            "statements[0]: not_affected needs a justification",
        ),
    ]
    for args, message in cases:
        code, _, err = audit(capsys, shared_advisory_db, *args)
        assert (code, err.count("\n")) == (3, 1), err
        assert message in err


def test_missing_or_corrupt_database_exits_4(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lock = str(EXAMPLE / "uv.lock")
    code, _, err = audit(capsys, tmp_path / "absent.sqlite3", lock)
    assert code == 4
    assert "no advisory database at" in err
    assert "assay db import" in err
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"SQLite format 3\x00" + b"\xff" * 2000)
    code, _, err = audit(capsys, corrupt, lock)
    assert code == 4
    assert err.startswith("assay: error: ")
    assert err.count("\n") == 1
