"""Advisory fixtures: the shared PyPA database, imported once per test session.

``shared_advisory_db`` is the path of a database holding all of PyPA's
advisory-database (4,350 records).  Treat it as read-only: tests that change a
database copy it first (``copy_database``) or build their own.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from assay.advisories.importing import import_source
from assay.advisories.store import AdvisoryDatabase

REPO = Path(__file__).resolve().parents[2]
PYPA_DATABASE = (
    REPO / ".." / "shared" / "data" / "advisories" / "pypa-advisory-database"
).resolve()
PYPA_RECORDS = 4350
ADVISORY_ASSETS = Path(__file__).resolve().parents[1] / "assets" / "advisories"


@pytest.fixture(scope="session")
def pypa_database() -> Path:
    """The checkout of PyPA's advisory-database beside the repository (CC-BY-4.0)."""
    if not (PYPA_DATABASE / "vulns").is_dir():
        pytest.fail(f"PyPA's advisory-database is missing at {PYPA_DATABASE}")
    return PYPA_DATABASE


@pytest.fixture(scope="session")
def shared_advisory_db(tmp_path_factory: pytest.TempPathFactory, pypa_database: Path) -> Path:
    """A database with the whole shared PyPA database imported (read-only for tests)."""
    path = tmp_path_factory.mktemp("advisory-db") / "advisories.sqlite3"
    with AdvisoryDatabase.open_for_write(path) as database:
        summary = import_source(database, pypa_database)
    assert summary.counts.added == PYPA_RECORDS, summary.counts
    return path


def copy_database(source: Path, directory: Path) -> Path:
    """A private copy of a database that a test may change (SQLite's online backup)."""
    target = directory / source.name
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)
    return target


@pytest.fixture
def advisory_assets() -> Path:
    return ADVISORY_ASSETS
