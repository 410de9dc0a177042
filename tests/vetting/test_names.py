"""Name checks against the real top-15,000 list and a small hand-made one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assay.advisories.severity import Level
from assay.environments.ports import ReaderError
from assay.vetting import names as n
from assay.vetting.names import NameIndex, PopularPackages
from assay.vetting.popularity import load_popular
from tests.support import REPO

TOP = (REPO / ".." / "shared" / "data" / "popularity" / "top-pypi-packages.min.json").resolve()


@pytest.fixture(scope="module")
def popular() -> PopularPackages:
    if not TOP.is_file():
        pytest.fail(f"the popular-packages list is missing at {TOP}")
    return load_popular(TOP)


@pytest.fixture(scope="module")
def index(popular: PopularPackages) -> NameIndex:
    return NameIndex.build(popular)


def rules(index: NameIndex, name: str) -> set[tuple[str, str | None]]:
    return {(f.rule, f.target) for f in index.check(name)}


@pytest.mark.parametrize(
    ("name", "rule", "target"),
    [
        ("reqeusts", n.TRANSPOSITION, "requests"),
        ("requestss", n.REPEATED, "requests"),
        ("pilow", n.OMITTED, "pillow"),
        ("b0to3", n.DIGIT_LETTER, "boto3"),
        ("nunpy", n.TYPO, "numpy"),
        ("urllib", n.TYPO, "urllib3"),
        ("typingextensions", n.SEPARATOR, "typing-extensions"),
        ("scikitlearn", n.SEPARATOR, "scikit-learn"),
        ("Typing.Extension", n.TYPO, "typing-extensions"),
        ("python-requests", n.AFFIX, "requests"),
        ("py-torch", n.AFFIX, "torch"),
        ("numpy-python", n.AFFIX, "numpy"),
        ("dateutil", n.AFFIX, "python-dateutil"),
        ("cryptograhpyy", n.TYPO2, "cryptography"),
        ("torch-utils", n.COMBOSQUAT, "torch"),
        ("sdk-boto3", n.COMBOSQUAT, "boto3"),
        ("requestsapi", n.COMBOSQUAT, "requests"),
        ("reqeusts-utils", n.COMBO_TYPO, "requests"),
        ("sdk-b0to3", n.COMBO_TYPO, "boto3"),
        ("r\u0435quests", n.HOMOGLYPH, "requests"),  # Cyrillic e
        ("\u0440ydantic", n.HOMOGLYPH, "pydantic"),  # Cyrillic er
        ("num\u03c1y", n.HOMOGLYPH, "numpy"),  # Greek rho
        ("\uff52\uff45\uff51\uff55\uff45\uff53\uff54\uff53", n.HOMOGLYPH, "requests"),  # fullwidth
        ("req\u200buests", n.HOMOGLYPH, "requests"),  # zero-width space
    ],
)
def test_imitations_are_found(index: NameIndex, name: str, rule: str, target: str) -> None:
    assert (rule, target) in rules(index, name)


def test_severities_follow_the_rule_table(index: NameIndex) -> None:
    assert index.check("r\u0435quests")[0].severity is Level.CRITICAL
    assert index.check("reqeusts")[0].severity is Level.HIGH
    assert {f.severity for f in index.check("torch-utils")} == {Level.LOW}
    assert "imitates requests" in index.check("reqeusts")[0].describe()


def test_non_ascii_without_a_match_and_invalid_names(index: NameIndex) -> None:
    assert (n.NOT_ASCII, None) in rules(index, "\u4e2d\u6587\u5305")
    assert (n.INVALID, None) in rules(index, "requests-")
    assert (n.INVALID, None) in rules(index, "has space")


@pytest.mark.parametrize(
    "name",
    [
        # popular names that resemble more popular ones but are established projects
        "urllib3",
        "boto",
        "boto3",
        "botocore",
        "jinja2",
        "python-dateutil",
        "pyyaml",
        "scikit-learn",
        "sklearn",
        "typing-extensions",
        "requests",
        "requests-toolbelt",
        "pytest",
        "pytest-cov",
        "pandas",
        "numpy",
        "torch",
        "pytorch",
        "six",
        "attrs",
        "google-auth",
        "aiobotocore",
        "s3fs",
        "fsspec",
        "types-requests",
        "idna",
        # unpopular names that resemble nothing popular
        "assay",
        "zzqxv-tool",
        "h12",
    ],
)
def test_established_and_unrelated_names_are_not_flagged(index: NameIndex, name: str) -> None:
    assert index.check(name) == []


def test_case_and_separators_of_the_same_project_are_not_flagged(index: NameIndex) -> None:
    assert index.check("Typing_Extensions") == []
    assert index.check("PyYAML") == []
    assert index.check("python.dateutil") == []


def test_self_check_over_all_popular_names(popular: PopularPackages, index: NameIndex) -> None:
    results = {name: index.check(name) for name in popular.names}
    flagged = [name for name, found in results.items() if found]
    high = [name for name, found in results.items() if any(f.severity >= Level.HIGH for f in found)]
    # measured: 56 names with any finding, 36 at high (0.24%); see docs/vetting.md
    assert len(flagged) <= 75
    assert len(high) <= 50
    assert "tdqm" in high  # a real typo-named project of tqdm, far less downloaded


def test_ratio_decides_when_a_popular_name_is_reported() -> None:
    listing = PopularPackages(names=("requests", "reqeusts"), downloads=(1_000_000, 999))
    strict = NameIndex.build(listing, ratio=1000)
    loose = NameIndex.build(listing, ratio=10_000)
    assert rules(strict, "reqeusts") == {(n.TRANSPOSITION, "requests")}
    assert loose.check("reqeusts") == []
    assert strict.check("requests") == []  # never against a less popular name


def test_short_and_unranked_targets_are_not_typo_targets() -> None:
    listing = PopularPackages(names=("six", "flask", "rarely"), downloads=(30, 20, 10))
    index = NameIndex.build(listing, target_top=2)
    assert index.check("sox") == []  # "six" is too short for edit-distance matches
    assert rules(index, "flaks") == {(n.TRANSPOSITION, "flask")}
    assert index.check("rarley") == []  # outside target_top


def test_osa_distance_and_edit_classification() -> None:
    assert n.osa_distance("ab", "ba") == 1
    assert n.osa_distance("requests", "reqeusts") == 1
    assert n.osa_distance("abcdef", "badcfe", limit=2) == 3
    assert n.classify_edit("numpi", "numpy") == n.TYPO
    assert n.classify_edit("co0l", "cool") == n.DIGIT_LETTER
    assert n.classify_edit("pilllow", "pillow") == n.REPEATED
    assert n.deletions("abc", 1) == {"abc", "ab", "ac", "bc"}


def test_plausible_names(index: NameIndex) -> None:
    assert index.plausible("huggingface-cli")
    assert index.plausible("langchain-openai-tools")
    assert not index.plausible("zzqxv-wqpl")
    assert not index.plausible("requests")  # one token: not a composition


def test_popularity_file_is_sorted_and_canonical(tmp_path: Path) -> None:
    path = tmp_path / "top.json"
    rows = [
        {"download_count": 5, "project": "Small_Pkg"},
        {"download_count": 50, "project": "big"},
    ]
    path.write_text(json.dumps({"last_update": "2026-01-01", "rows": rows}), encoding="utf-8")
    listing = load_popular(path)
    assert listing.names == ("big", "small-pkg")
    assert listing.downloads == (50, 5)
    assert "2026-01-01" in listing.source


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "must be a mapping"),
        ('{"rows": 3}', '"rows" must be a list'),
        ('{"rows": [3]}', "rows[0] is not an object"),
        ('{"rows": [{"project": "a", "download_count": "x"}]}', "not a count"),
        ('{"rows": [{"project": "", "download_count": 1}]}', "not a name"),
        ('{"rows": []}', "empty"),
        ("{", "JSON"),
    ],
)
def test_malformed_popularity_files_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "top.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReaderError) as caught:
        load_popular(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def _reference_osa(a: str, b: str) -> int:
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def test_banded_osa_agrees_with_the_full_table() -> None:
    words = ["", "a", "ab", "ba", "abc", "acb", "bca", "aabc", "abcc", "cab", "abab", "baba"]
    for a in words:
        for b in words:
            for limit in (1, 2):
                assert n.osa_distance(a, b, limit) == min(_reference_osa(a, b), limit + 1), (a, b)
