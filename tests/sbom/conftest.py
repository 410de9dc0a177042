"""Fixtures for the SBOM tests.

``jsonschema`` is imported here first, with every format checker it can load,
so the reference validators of cyclonedx-python-lib used by these tests check
``iri-reference`` with their own (slow) RFC 3987 parser, independent of assay's.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema  # type: ignore[import-untyped]  # noqa: F401 - import before assay does
import pytest

from assay.environments.model import Environment
from assay.environments.readers import read_environment
from tests.support import ASSETS, REPO

CHURN_LOCK = REPO / "examples" / "churn-model" / "uv.lock"
GOLDEN = ASSETS / "sbom" / "golden"
INSTALLED_VENV = ASSETS / "installed" / "venv"


@pytest.fixture(scope="session")
def churn_env() -> Environment:
    return read_environment(CHURN_LOCK)


@pytest.fixture(scope="session")
def installed_env() -> Environment:
    return read_environment(INSTALLED_VENV)


@pytest.fixture
def churn_lock() -> Path:
    return CHURN_LOCK
