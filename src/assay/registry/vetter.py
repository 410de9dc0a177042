"""Adapter: the vetting engine as the registry's :class:`~assay.registry.ports.Vetter`.

Every file is analysed in memory by :func:`assay.vetting.engine.analyse_archive`
(never executed) in a worker thread, and the result is kept in the shared
vet cache (:class:`assay.vetting.cache.VetCache`, keyed by sha256), so a file
is vetted once for every index, process and ``assay vet`` run.  Name checks
(typosquats) are the policy's business: the governor sees the project name.
SQLite connections cannot cross threads, so each thread opens its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from pathlib import Path

from packaging.utils import canonicalize_name

from assay.registry.pages import file_project, file_version
from assay.registry.ports import Vetter
from assay.vetting.cache import VetCache, VetSummary, now
from assay.vetting.engine import analyse_archive
from assay.vetting.verdict import unanalysed


def summarise(filename: str, data: bytes, sha256: str | None = None) -> VetSummary:
    """Analyse one archive's bytes (pure, CPU-bound)."""
    digest = sha256 or hashlib.sha256(data).hexdigest()
    try:
        report = analyse_archive(filename, data)
    except Exception as exc:  # noqa: BLE001 - fail closed, as `assay vet` does
        report = unanalysed(filename, f"{type(exc).__name__}: {exc}")
    name, version = _identity(filename)
    return VetSummary(
        name=name,
        version=version,
        filename=filename,
        sha256=digest,
        score=report.score,
        label=report.label,
        reasons=tuple(" ".join(f.describe().split()) for f in report.reasons),
        vetted_at=now(),
    )


def _identity(filename: str) -> tuple[str, str]:
    project = file_project(filename) or canonicalize_name(filename.split("-", 1)[0])
    return project, file_version(filename, project) or "unknown"


class EngineVetter(Vetter):
    """Vets with the engine; remembers results in ``cache_path`` (None: this process only)."""

    def __init__(self, cache_path: Path | None) -> None:
        self.cache_path = cache_path
        self._local = threading.local()
        self._memory: dict[str, VetSummary] = {}

    def _cache(self) -> VetCache | None:
        if self.cache_path is None:
            return None
        cache: VetCache | None = getattr(self._local, "cache", None)
        if cache is None:
            cache = VetCache(self.cache_path)
            self._local.cache = cache
        return cache

    def cached(self, sha256: str) -> VetSummary | None:
        found = self._memory.get(sha256)
        if found is None:
            cache = self._cache()
            found = cache.get(sha256) if cache is not None else None
            if found is not None:
                self._memory[sha256] = found
        return found

    async def vet(self, filename: str, data: bytes) -> VetSummary:
        summary = await asyncio.to_thread(summarise, filename, data)
        cache = self._cache()
        if cache is not None:
            cache.put(summary)
        self._memory[summary.sha256] = summary
        return summary
