"""The vet result cache: hits, misses, stale engine versions, releases, corrupt files."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from assay.settings import Settings
from assay.vetting.cache import (
    ENGINE_VERSION,
    VetCache,
    VetCacheError,
    VetSummary,
    default_path,
    summary_of,
)
from assay.vetting.engine import VetReport
from assay.vetting.verdict import CHECKED, Identity, NameCheck, decide

SUMMARY = VetSummary(
    name="demo",
    version="1.0",
    filename="demo-1.0-py3-none-any.whl",
    sha256="a" * 64,
    score=7.5,
    label="high",
    reasons=("setup.py:3: high rule-x [install]: why",),
    vetted_at="2026-04-01T12:00:00+00:00",
)


@pytest.fixture
def cache(tmp_path: Path):
    with VetCache(tmp_path / "sub" / "vet-cache.sqlite3") as opened:
        yield opened


def test_miss_then_hit(cache: VetCache):
    assert cache.get(SUMMARY.sha256) is None
    cache.put(SUMMARY)
    assert cache.get(SUMMARY.sha256) == SUMMARY
    assert cache.get(SUMMARY.sha256.upper()) == SUMMARY
    assert cache.get("b" * 64) is None


def test_put_replaces_by_hash(cache: VetCache):
    cache.put(SUMMARY)
    cache.put(replace(SUMMARY, score=1.0, label="low", reasons=()))
    found = cache.get(SUMMARY.sha256)
    assert found is not None
    assert (found.score, found.label, found.reasons) == (1.0, "low", ())


def test_results_of_another_engine_are_stale(cache: VetCache, tmp_path: Path):
    cache.put(replace(SUMMARY, engine_version="0.0.1+vet.0"))
    assert cache.get(SUMMARY.sha256) is None
    assert cache.find("demo", "1.0") == ()
    with VetCache(cache.path, engine_version="0.0.1+vet.0") as old:
        assert old.get(SUMMARY.sha256) is not None
    cache.put(SUMMARY)  # re-vetting replaces the stale row
    assert cache.get(SUMMARY.sha256) == SUMMARY


def test_find_every_file_of_a_release_by_normalised_name_and_version(cache: VetCache):
    sdist = replace(SUMMARY, filename="demo-1.0.tar.gz", sha256="c" * 64)
    other = replace(SUMMARY, version="2.0", sha256="d" * 64)
    for summary in (SUMMARY, sdist, other):
        cache.put(summary)
    assert cache.find("Demo", "1.0.0") == (SUMMARY, sdist)
    assert cache.find("DEMO", "2") == (other,)
    assert cache.find("demo", "3.0") == ()


def test_results_survive_reopening(tmp_path: Path):
    path = tmp_path / "c.sqlite3"
    with VetCache(path) as first:
        first.put(SUMMARY)
    with VetCache(path) as second:
        assert second.get(SUMMARY.sha256) == SUMMARY


def test_summary_values_are_checked():
    with pytest.raises(ValueError, match="sha256"):
        replace(SUMMARY, sha256="xyz")
    with pytest.raises(ValueError, match="one line"):
        replace(SUMMARY, reasons=("two\nlines",))
    assert SUMMARY.engine_version == ENGINE_VERSION


@pytest.mark.parametrize(
    "content", [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 200]
)
def test_a_corrupt_file_is_one_error_and_left_alone(tmp_path: Path, content: bytes):
    path = tmp_path / "vet-cache.sqlite3"
    path.write_bytes(content)
    with pytest.raises(VetCacheError, match="not a usable assay vet cache") as caught:
        VetCache(path)
    assert caught.value.exit_code == 4
    assert "\n" not in caught.value.message
    assert path.read_bytes() == content


def test_a_sqlite_file_of_another_application_is_refused(tmp_path: Path):
    path = tmp_path / "other.sqlite3"
    with closing(sqlite3.connect(path)) as other:
        other.execute("CREATE TABLE t (x)")
        other.commit()
    with pytest.raises(VetCacheError, match="another application"):
        VetCache(path)


def test_a_newer_schema_is_refused(tmp_path: Path):
    path = tmp_path / "c.sqlite3"
    VetCache(path).close()
    with closing(sqlite3.connect(path)) as raw:
        raw.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        raw.commit()
    with pytest.raises(VetCacheError, match="schema version 99"):
        VetCache(path)


def test_default_path_is_under_the_assay_home(tmp_path: Path):
    settings = Settings.from_env({"ASSAY_HOME": str(tmp_path)}, cwd=tmp_path)
    assert default_path(settings) == tmp_path / "vet-cache.sqlite3"


def test_summary_of_a_verdict():
    report = VetReport("x", 2.0, "low", (), (), "Risk 2.0/10 (low).", None)
    verdict = decide(
        report,
        NameCheck((), CHECKED),
        Identity("demo", "1.0", "wheel"),
        target="dist/demo-1.0-py3-none-any.whl",
        file="dist/demo-1.0-py3-none-any.whl",
        origin="file",
        sha256="E" * 64,
    )
    summary = summary_of(verdict, "2026-04-01T00:00:00+00:00")
    assert summary is not None
    assert (summary.filename, summary.sha256, summary.score) == (
        "demo-1.0-py3-none-any.whl",
        "e" * 64,
        2.0,
    )
    assert summary_of(replace(verdict, sha256=None)) is None  # directories are not cached
