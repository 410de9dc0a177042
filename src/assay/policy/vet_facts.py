"""Adapter: :class:`VetResultSource` over the ``assay vet`` result cache.

A package's recorded archive hashes are looked up first (the exact bytes that
were vetted); when none of them was vetted, any vetted file of the same name
and version counts.  When several files were vetted the worst result (highest
score) is the package's.
"""

from __future__ import annotations

from collections.abc import Sequence

from assay.policy.fact_sources import VetResult, VetResultSource
from assay.vetting.cache import VetCache, VetSummary


class CachedVetResults(VetResultSource):
    """Vet results from a :class:`~assay.vetting.cache.VetCache` (owned by the caller)."""

    def __init__(self, cache: VetCache) -> None:
        self._cache = cache

    def lookup(self, name: str, version: str, sha256s: Sequence[str]) -> VetResult | None:
        found: list[VetSummary] = [s for h in sha256s if (s := self._cache.get(h)) is not None]
        if not found:
            found = list(self._cache.find(name, version))
        if not found:
            return None
        worst = max(found, key=lambda s: (s.score, s.filename))
        return VetResult(score=worst.score, label=worst.label, reasons=worst.reasons)
