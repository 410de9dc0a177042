"""Shared test fixtures.

``shared_advisory_db`` is the path of a database holding all of PyPA's
advisory-database (4,350 records), imported once per test session.  Treat it
as read-only: tests that change a database copy it first
(``tests.support.copy_database``) or build their own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.advisories.importing import import_source
from assay.advisories.store import AdvisoryDatabase
from tests.support import ASSETS, PYPA_DATABASE, PYPA_RECORDS


@pytest.fixture
def assets() -> Path:
    """The directory of real fixture files produced by the real tools."""
    return ASSETS


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
