"""How package analysis and name checks combine into one verdict (assay.vetting.verdict)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assay.advisories.severity import Level
from assay.vetting import slopsquat
from assay.vetting.archive_model import ArchiveMember
from assay.vetting.engine import VetReport, analyse_archive
from assay.vetting.names import NameFinding, NameIndex
from assay.vetting.popularity import load_popular
from assay.vetting.verdict import (
    CHECKED,
    LOOKALIKE_WITH_CODE,
    NOT_RUN,
    OFFLINE,
    Identity,
    NameCheck,
    decide,
    fail_on_threshold,
    identify,
    unanalysed,
)
from tests.vetting import vet_samples

IDENTITY = Identity("demo", "1.0", "wheel")


def report(score: float, label: str = "medium") -> VetReport:
    return VetReport("demo.whl", score, label, (), (), f"Risk {score}/10 ({label}).", None)


def name(rule: str, severity: Level, target: str | None = None) -> NameFinding:
    return NameFinding("demo", rule, severity, target, "why")


def verdict(code: float, *findings: NameFinding, status: str = CHECKED, note: str = ""):
    return decide(
        report(code),
        NameCheck(findings, status, note),
        IDENTITY,
        target="demo.whl",
        file="demo.whl",
        origin="file",
        sha256="0" * 64,
    )


def test_no_name_finding_keeps_the_code_score_and_explanation():
    result = verdict(4.0)
    assert (result.score, result.label, result.name_reasons) == (4.0, "medium", ())
    assert result.explanation == "Risk 4.0/10 (medium)."
    assert not result.flagged


def test_a_typosquat_alone_raises_to_its_severity():
    typo = name("name-transposition", Level.HIGH, "requests")
    result = verdict(0.0, typo)
    assert (result.score, result.label, result.flagged) == (7.0, "high", True)
    assert result.name_reasons == (typo,)
    assert "imitates requests" in result.explanation
    assert result.explanation.endswith("Package analysis alone: Risk 0.0/10 (medium).")


def test_a_typosquat_with_risky_code_is_critical():
    typo = name("name-typo", Level.HIGH, "numpy")
    result = verdict(4.0, typo)
    assert result.score == LOOKALIKE_WITH_CODE
    assert result.label == "critical"
    assert "typosquat pattern" in result.explanation
    assert result.code_score == 4.0


def test_slopsquat_signals_are_capped_at_medium():
    missing = name(slopsquat.MISSING, Level.CRITICAL)
    result = verdict(0.0, missing)
    assert (result.score, result.label, result.flagged) == (4.0, "medium", False)


def test_a_new_project_with_risky_code_gets_the_bonus():
    young = name(slopsquat.YOUNG, Level.MEDIUM)
    assert verdict(6.5, young).score == 7.5
    assert verdict(2.0, young).score == 4.0  # capped signal alone
    few = name(slopsquat.FEW_RELEASES, Level.LOW)
    assert verdict(6.5, few).score == 6.5  # few releases is not a new project


def test_offline_changes_no_score_and_says_so():
    unavailable = name(slopsquat.UNAVAILABLE, Level.UNKNOWN)
    note = "offline: slopsquat signals unavailable (offline)"
    result = verdict(2.0, unavailable, status=OFFLINE, note=note)
    assert result.score == 2.0
    assert result.explanation.endswith(f"Note: {note}.")


def test_reason_lines_are_one_line_each():
    typo = name("name-typo", Level.HIGH, "numpy")
    lines = verdict(4.0, typo).reason_lines()
    assert lines == ("demo: high name-typo (imitates numpy): why",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", 7.0),
        ("0", 0.0),
        ("10", 10.0),
        ("9.5", 9.5),
        ("HIGH", 7.0),
        ("medium", 4.0),
        ("low", 0.1),
        ("critical", 9.0),
        ("11", None),
        ("-1", None),
        ("none", None),
        ("severe", None),
    ],
)
def test_fail_on_values(text, expected):
    assert fail_on_threshold(text) == expected


def member(path: str, text: str) -> ArchiveMember:
    data = text.encode()
    return ArchiveMember(path, data, len(data))


def test_identity_from_file_names_and_metadata():
    assert identify("dist/Foo_Bar-1.0-py3-none-any.whl", []) == Identity("foo-bar", "1.0", "wheel")
    assert identify("foo-1.0.tar.gz", []) == Identity("foo", "1.0", "sdist")
    assert identify("Foo-1.00-py3.11.egg", []) == Identity("foo", "1.0", "egg")
    metadata = member("x-1.dist-info/METADATA", "Name: Real.Name\nVersion: 2.0\n\nName: body\n")
    assert identify("renamed.zip", [metadata]) == Identity("real-name", "2.0", "sdist")
    assert identify("blob.bin", []) == Identity(None, None, "other")


def test_identity_of_a_directory():
    pyproject = member("pyproject.toml", '[project]\nname = "Pkg"\nversion = "3"\n')
    assert identify("src/tree", [pyproject], directory=True) == Identity("pkg", "3", "directory")
    pkg_info = member("PKG-INFO", "Name: other\nVersion: 1.0\n")
    nested = member("vendor.zip!PKG-INFO", "Name: inner\nVersion: 9\n")
    found = identify("tree", [nested, pyproject, pkg_info], directory=True)
    assert found == Identity("other", "1.0", "directory")
    assert identify("/tmp/demo-2.1", [], directory=True) == Identity("demo", "2.1", "directory")


def test_an_analysis_that_stopped_is_never_clean():
    stopped = unanalysed("x.whl", "RecursionError: too deep")
    assert stopped.score >= 7.0
    assert [f.rule for f in stopped.findings] == ["archive-incomplete"]
    assert "RecursionError" in stopped.findings[0].explanation


def test_real_samples_with_a_fake_popular_list(tmp_path):
    index = NameIndex.build(load_popular(vet_samples.write_popular(tmp_path)))
    data = vet_samples.sdist_bytes(vet_samples.SUSPICIOUS_FILES, "reqeusts-0.1")
    analysed = analyse_archive(vet_samples.SUSPICIOUS_NAME, data)
    names = NameCheck(tuple(index.check("reqeusts")), CHECKED)
    result = decide(
        analysed,
        names,
        identify(vet_samples.SUSPICIOUS_NAME, []),
        target="t",
        file="f",
        origin="file",
        sha256=None,
    )
    assert result.label == "critical"
    assert [f.target for f in result.names.findings] == ["requests"]
    benign = analyse_archive("x.whl", vet_samples.wheel_bytes(vet_samples.BENIGN_FILES))
    quiet = decide(
        benign,
        NameCheck((), NOT_RUN, "no list"),
        IDENTITY,
        target="t",
        file="f",
        origin="file",
        sha256=None,
    )
    assert (quiet.score, quiet.label) == (0.0, "none")
    assert replace(quiet, threshold=0.0).flagged
