"""Advisory test fixtures; the shared database fixtures live in ``tests/conftest.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import ADVISORY_ASSETS


@pytest.fixture
def advisory_assets() -> Path:
    return ADVISORY_ASSETS
