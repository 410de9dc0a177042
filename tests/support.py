"""Paths and helpers shared by tests (plain module: conftest files are not imported)."""

from __future__ import annotations

import re
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


def _written_by_a_tool(path: Path, pattern: str) -> str:
    """A URL a real tool wrote into a fixture, so tests never spell out an index host."""
    found = re.search(pattern, path.read_text(encoding="utf-8"), re.MULTILINE)
    if found is None:
        raise LookupError(f"{pattern!r} not in {path}")
    return found.group(1)


# The index every tool-made fixture was resolved against (uv wrote it into this file).
FIXTURE_INDEX = _written_by_a_tool(
    ASSETS / "requirements" / "uv-requirements.txt", r"^--index-url (\S+)$"
)
# The direct wheel URL of six that the requirements fixtures pin.
SIX_WHEEL_URL = _written_by_a_tool(
    ASSETS / "requirements" / "requirements.in",
    r"(https://\S+/six-1\.16\.0-py2\.py3-none-any\.whl)",
)
# The conda channels the conda fixtures name.
CONDA_FORGE = _written_by_a_tool(
    ASSETS / "conda-lock" / "conda-lock.yml", r"(https://[^\s/]+/conda-forge)"
)
CONDA_MAIN = _written_by_a_tool(
    next((ASSETS / "conda-prefix" / "prefix" / "conda-meta").glob("python-3*.json")),
    r'"channel": "(https://[^"]+/pkgs/main)',
)
