"""The advisory-source port: something that answers 'which advisories name this package?'."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from assay.advisories.model import Advisory
from assay.errors import AssayError


class AdvisoryError(AssayError):
    """The advisory database is missing, corrupt or cannot be updated."""

    exit_code = 4


class AdvisorySource(ABC):
    """Looks advisories up by PEP 503 package name or by any of their ids."""

    @abstractmethod
    def query(self, name: str) -> Sequence[Advisory]:
        """Every non-withdrawn advisory with an ``affected`` entry for ``name`` (canonical)."""

    @abstractmethod
    def get(self, advisory_id: str) -> Advisory | None:
        """The advisory with this id or alias, if known."""
