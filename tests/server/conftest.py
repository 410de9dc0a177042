"""Server fixtures: the shared advisory database of ``tests/advisories`` is reused here."""

from tests.advisories.conftest import pypa_database, shared_advisory_db

__all__ = ["pypa_database", "shared_advisory_db"]
