"""Declared dependencies and their look-alike check (assay.vetting.declared, name_checks)."""

from __future__ import annotations

from assay.advisories.severity import Level
from assay.vetting.archive_model import ArchiveMember
from assay.vetting.archives import ArchiveReading
from assay.vetting.declared import declared_dependencies
from assay.vetting.name_checks import NameChecker, dependency_findings
from assay.vetting.names import NameIndex, PopularPackages
from assay.vetting.verdict import CHECKED, DEPENDENCY_LOOKALIKE, OFFLINE, Identity, vet_members
from tests.vetting.package_builder import wheel

INDEX = NameIndex.build(
    PopularPackages(
        names=("requests", "aiohappyeyeballs", "colorama", "numpy"),
        downloads=(4_000, 3_000, 2_000, 1_000),
    )
)


def member(path: str, text: str) -> ArchiveMember:
    data = text.encode()
    return ArchiveMember(path, data, len(data))


METADATA = (
    "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
    "Requires-Dist: Requests>=2\n"
    "Requires-Dist: aiohappyeyeball>=2.5\n"
    "Requires-Dist: pytest; extra == 'test'\n"
    "Requires-Dist: colorama; sys_platform == 'win32'\n"
    "\nRequires-Dist: not-a-header\n"
)


def test_dependencies_from_core_metadata_skip_extras_and_the_body():
    found = declared_dependencies([member("demo-1.0.dist-info/METADATA", METADATA)])
    assert found == ("aiohappyeyeball", "colorama", "requests")


def test_dependencies_from_egg_info_and_pyproject():
    requires = "requests\nnumpy>=1  # comment\n\n[test]\npytest\n"
    egg = member("demo-1.0/demo.egg-info/requires.txt", requires)
    assert declared_dependencies([egg]) == ("numpy", "requests")
    pyproject = member(
        "demo-1.0/pyproject.toml",
        '[project]\nname = "demo"\ndependencies = ["Colorama", "bad req["]\n',
    )
    assert declared_dependencies([pyproject]) == ("colorama",)
    nested = member("demo-1.0/vendor/x.whl!x-1.dist-info/METADATA", METADATA)
    assert declared_dependencies([nested]) == ()
    broken = member("demo-1.0/pyproject.toml", "[project\n")
    assert declared_dependencies([broken]) == ()


def test_a_look_alike_dependency_is_medium_and_popular_ones_pass():
    [finding] = dependency_findings(INDEX, "demo", ("aiohappyeyeball", "colorama", "requests"))
    assert (finding.rule, finding.target, finding.severity) == (
        DEPENDENCY_LOOKALIKE,
        "aiohappyeyeballs",
        Level.MEDIUM,
    )
    assert dependency_findings(INDEX, "demo", ("some-unrelated-tool",)) == []
    assert dependency_findings(INDEX, "reqeusts", ("reqeusts",)) == []  # itself: the name check


def test_the_checker_reports_dependencies_once_per_project():
    checker = NameChecker(INDEX, None, "")
    identity = Identity("demo", "1.0", "wheel", ("aiohappyeyeball",))
    check = checker.check(identity)
    assert check.status == OFFLINE  # no upstream source: slopsquat signals not asked
    assert DEPENDENCY_LOOKALIKE in {f.rule for f in check.findings}
    assert checker.check(identity) is check
    clean = checker.check(Identity("demo", "1.0", "wheel", ("requests",)))
    assert DEPENDENCY_LOOKALIKE not in {f.rule for f in clean.findings}
    assert clean.status != CHECKED


def _vet(files: dict[str, str]):
    data = wheel(files)
    reading = ArchiveReading(data, "demo-1.0-py3-none-any.whl")
    checker = NameChecker(INDEX, None, "")
    return vet_members(
        "demo-1.0-py3-none-any.whl",
        reading,
        reading.report,
        checker.check,
        target="demo-1.0-py3-none-any.whl",
        origin="file",
        sha256=None,
    )


def test_a_look_alike_dependency_asks_for_a_review_and_never_blocks():
    metadata = {"demo-1.0.dist-info/METADATA": METADATA}
    quiet = _vet({**metadata, "demo/__init__.py": "x = 1\n"})
    assert (quiet.score, quiet.label) == (4.0, "medium")
    assert quiet.identity.requires == ("aiohappyeyeball", "colorama", "requests")
    assert quiet.name_reasons[0].rule == DEPENDENCY_LOOKALIKE
    assert "the dependency 'aiohappyeyeball' imitates aiohappyeyeballs" in quiet.explanation
    fetch_run = (
        "import requests, subprocess\n\ndef f(u, c):\n    requests.get(u)\n    subprocess.run(c)\n"
    )
    risky = _vet({**metadata, "demo/__init__.py": fetch_run})
    assert (risky.code_score, risky.score) == (4.0, 4.0)
    assert not risky.flagged


def test_a_hostile_pyproject_is_no_dependency_list_and_no_crash():
    deep = member("demo-1.0/pyproject.toml", "[project]\nx = " + "[" * 5000 + "\n")
    assert declared_dependencies([deep]) == ()
    hostile = "[project]\nname = " + "[" * 5000 + "\n"
    data = wheel({"pyproject.toml": hostile, "demo/a.py": "x = 1\n"})
    reading = ArchiveReading(data, "demo-1.0.tar.gz")
    verdict = vet_members(
        "demo-1.0.tar.gz",
        reading,
        reading.report,
        NameChecker(INDEX, None, "").check,
        target="demo-1.0.tar.gz",
        origin="file",
        sha256=None,
    )
    assert verdict.identity.name == "demo"
