"""Paths and helpers shared by tests (plain module: conftest files are not imported)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "tests" / "assets"
ADVISORY_ASSETS = ASSETS / "advisories"
PYPA_DATABASE = (
    REPO / ".." / "shared" / "data" / "advisories" / "pypa-advisory-database"
).resolve()
PYPA_RECORDS = 4350


def copy_database(source: Path, directory: Path) -> Path:
    """A private copy of a database that a test may change (SQLite's online backup)."""
    target = directory / source.name
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)
    return target
