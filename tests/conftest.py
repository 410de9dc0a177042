"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ASSETS = Path(__file__).parent / "assets"


@pytest.fixture
def assets() -> Path:
    """The directory of real fixture files produced by the real tools."""
    return ASSETS
