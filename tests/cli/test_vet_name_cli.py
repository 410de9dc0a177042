"""``assay vet-name`` end to end, with the real popular-packages list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.cli import vet_name
from assay.cli.app import run
from assay.vetting.slopsquat import ProjectInfo, ProjectInfoSource
from tests.support import REPO

TOP = (REPO / ".." / "shared" / "data" / "popularity" / "top-pypi-packages.min.json").resolve()


def vet(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["vet-name", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _no_popular_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSAY_POPULAR_PACKAGES", raising=False)


def test_a_typosquat_fails_offline_with_a_clear_note(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = vet(capsys, "reqeusts", "--popular", str(TOP), "--offline")
    assert code == 1
    assert "name-transposition" in out
    assert "requests" in out
    assert "1 high or critical" in err
    assert "upstream metadata unavailable for 1 name(s)" in err


def test_a_popular_name_passes_offline(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = vet(capsys, "requests", "torch-utils", "--popular", str(TOP), "--offline")
    assert code == 0
    assert "name-combosquat" in out
    assert "0 high or critical" in err


def test_json_output_and_the_environment_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSAY_POPULAR_PACKAGES", str(TOP))
    code, out, _ = vet(capsys, "r\u0435quests", "boto3", "--offline", "--format", "json")
    assert code == 1
    document = json.loads(out)
    assert document["upstream"] == "offline"
    first, second = document["names"]
    assert first["worst"] == "critical"
    assert first["findings"][0] == {
        "rule": "name-homoglyph",
        "severity": "critical",
        "imitates": "requests",
        "message": first["findings"][0]["message"],
    }
    assert second["popular_rank"] == 1
    assert [f["rule"] for f in second["findings"]] == ["upstream-unavailable"]


class Missing(ProjectInfoSource):
    def project(self, name: str) -> ProjectInfo | None:
        return None


def test_online_a_name_missing_upstream_is_critical(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vet_name, "upstream_source", Missing)
    code, out, err = vet(capsys, "huggingface-cli", "--popular", str(TOP), "--format", "json")
    assert code == 1
    rules = {f["rule"]: f["severity"] for f in json.loads(out)["names"][0]["findings"]}
    assert rules == {"upstream-missing": "critical", "slopsquat-plausible-name": "high"}
    assert "unavailable" not in err


def test_without_a_popular_list_it_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = vet(capsys, "requests", "--offline")
    assert code == 2
    assert "ASSAY_POPULAR_PACKAGES" in err


def test_a_malformed_popular_list_names_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "top.json"
    bad.write_text('{"rows": 1}', encoding="utf-8")
    code, _, err = vet(capsys, "requests", "--popular", str(bad), "--offline")
    assert code == 3
    assert str(bad) in err
    assert err.count("\n") == 1
