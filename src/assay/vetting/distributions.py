"""The distribution-source port: where ``assay vet name==version`` gets its files.

A :class:`DistributionSource` returns every file of one release (wheels and
sdist) as verified bytes: an adapter must check each file's sha256 against the
digest its index publishes before returning it, and refuse a file it cannot
verify.  :mod:`assay.vetting.upstream` is the adapter for PEP 691/503 indexes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from assay.errors import AssayError


class UpstreamError(AssayError):
    """The index cannot be reached, lacks the release, or served bytes that fail their hash."""

    exit_code = 3


@dataclass(frozen=True, slots=True)
class Distribution:
    """One file of a release, its bytes already checked against ``sha256``."""

    filename: str
    data: bytes
    sha256: str  # hex digest published by the index, verified against ``data``
    url: str  # where it came from (credentials removed)

    def __repr__(self) -> str:  # never print the bytes
        return f"Distribution({self.filename!r}, {len(self.data)} bytes, sha256={self.sha256})"


class DistributionSource(ABC):
    """Fetches the files of one release of a project."""

    @abstractmethod
    def fetch(self, name: str, version: str) -> list[Distribution]:
        """Every file of ``name`` at ``version``, verified; UpstreamError if there are none."""
