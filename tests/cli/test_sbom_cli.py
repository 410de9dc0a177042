"""``assay sbom`` and ``assay sbom check`` end to end, through the real entry point."""

from __future__ import annotations

import json

import pytest

from assay.cli.app import run
from tests.support import ASSETS, REPO

LOCK = REPO / "examples" / "churn-model" / "uv.lock"
GOLDEN = ASSETS / "sbom" / "golden"


def test_default_command_takes_the_source(capsys):
    assert run(["sbom", str(LOCK), "--reproducible"]) == 0
    assert capsys.readouterr().out == (GOLDEN / "churn-model.cdx.json").read_text()


def test_generate_is_the_same_command(capsys):
    assert run(["sbom", "generate", str(LOCK), "--reproducible", "--format", "spdx-json"]) == 0
    assert capsys.readouterr().out == (GOLDEN / "churn-model.spdx.json").read_text()


def test_options_before_the_source(capsys):
    assert run(["sbom", "--format", "cyclonedx-xml", "--reproducible", str(LOCK)]) == 0
    assert capsys.readouterr().out == (GOLDEN / "churn-model.cdx.xml").read_text()


def test_output_file_author_and_spec_version(tmp_path, capsys):
    target = tmp_path / "bom.json"
    code = run(["sbom", str(LOCK), "-o", str(target), "--spec-version", "1.7", "--author", "Jane"])
    assert code == 0
    bom = json.loads(target.read_text())
    assert bom["specVersion"] == "1.7"
    assert bom["metadata"]["authors"] == [{"name": "Jane"}]
    assert "timestamp" in bom["metadata"]
    assert "wrote CycloneDX 1.7 JSON SBOM of 59 packages" in capsys.readouterr().err


def test_author_from_environment_and_source_date_epoch(monkeypatch, capsys):
    monkeypatch.setenv("ASSAY_SBOM_AUTHOR", "Env Author")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert run(["sbom", str(LOCK), "--reproducible"]) == 0
    first = capsys.readouterr().out
    assert run(["sbom", str(LOCK), "--reproducible"]) == 0
    assert capsys.readouterr().out == first
    metadata = json.loads(first)["metadata"]
    assert metadata["timestamp"].startswith("2023-11-14T22:13:20")
    assert metadata["authors"] == [{"name": "Env Author"}]


def test_help_lists_both_commands(capsys):
    assert run(["sbom", "--help"]) == 0
    out = capsys.readouterr().out
    assert "check" in out
    assert "generate" in out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["sbom", "missing.lock"], 3, "missing.lock: no such file or directory"),
        (["sbom", str(LOCK), "--format", "swid"], 2, "Invalid value for '--format'"),
        (["sbom", str(LOCK), "--format", "spdx-json", "--spec-version", "1.5"], 2, "CycloneDX"),
        (["sbom", str(LOCK), "--source-format", "nope"], 2, "unknown --source-format 'nope'"),
        (["sbom", str(LOCK), "--spec-version", "1.4"], 2, "Invalid value for '--spec-version'"),
        (["sbom"], 0, ""),
    ],
)  # fmt: skip
def test_usage_and_input_errors(argv, code, message, capsys):
    assert run(argv) == code
    err = capsys.readouterr().err
    assert message in err
    if code:
        assert err.startswith("assay: error: ")
        assert err.count("\n") == 1


def test_unreadable_output_path_is_an_error(tmp_path, capsys):
    assert run(["sbom", str(LOCK), "-o", str(tmp_path / "no" / "dir" / "bom.json")]) != 0
    assert "cannot write" in capsys.readouterr().err


def test_check_passes_and_fails(tmp_path, capsys):
    good = tmp_path / "good.json"
    assert run(["sbom", str(ASSETS / "installed" / "venv"), "-o", str(good), "--author", "J"]) == 0
    capsys.readouterr()
    # the fixture venv has an egg-info package without author: NTIA supplier is incomplete
    assert run(["sbom", "check", str(good)]) == 1
    out = capsys.readouterr().out
    assert "NTIA minimum elements:" in out
    assert "missing: supplier" in out
    assert run(["sbom", "check", "--json", str(good)]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["frameworks"]["ntia"]["missing"] == ["supplier"]
    assert result["components"] == 11


def test_min_score_and_framework(tmp_path, capsys):
    bom = tmp_path / "bom.json"
    bom.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "metadata": {"timestamp": "2026-01-01T00:00:00Z", "authors": [{"name": "J"}]},
                "components": [
                    {"bom-ref": "a", "name": "a", "version": "1", "purl": "pkg:pypi/a@1",
                     "supplier": {"name": "S"}}
                ],
                "dependencies": [{"ref": "a"}],
            }
        )
    )  # fmt: skip
    assert run(["sbom", "check", str(bom)]) == 0
    assert run(["sbom", "check", str(bom), "--min-score", "100"]) == 0
    assert run(["sbom", "check", str(bom), "--framework", "cisa-2025"]) == 1
    capsys.readouterr()
    assert run(["sbom", "check", str(bom), "--min-score", "101"]) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "bad.json:1"),
        ('{"hello": 1}', "neither CycloneDX"),
        ("[]", "not a JSON object"),
        ('<?xml version="1.0"?><bom/>', "XML SBOMs are not checked"),
    ],
)
def test_check_unreadable_input_exits_3(tmp_path, content, message, capsys):
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert run(["sbom", "check", str(path)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("assay: error: ")
    assert message in err


def test_check_missing_file_and_directory(tmp_path, capsys):
    assert run(["sbom", "check", str(tmp_path / "none.json")]) == 3
    assert run(["sbom", "check", str(tmp_path)]) == 3
    assert "is a directory" in capsys.readouterr().err
