"""Fakes of the registry's ports (subclasses), and a service built on them."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from assay.registry.config import RegistryConfig
from assay.registry.model import ALLOWED, DistributionFile, IndexConfig, ProjectPage, Ruling
from assay.registry.ports import (
    Governor,
    InternalPackages,
    Upstream,
    UpstreamPage,
    UpstreamUnavailable,
    Vetter,
)
from assay.registry.service import RegistryService
from assay.registry.state import RegistryState
from assay.registry.store import FileStore
from assay.vetting.cache import VetSummary

UPSTREAM = "http://upstream.invalid/simple/"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def wheel_name(project: str, version: str) -> str:
    return f"{project.replace('-', '_')}-{version}-py3-none-any.whl"


class FakeUpstream(Upstream):
    """Pages and blobs in memory; switches for down, corrupt bytes and a crash mid-stream."""

    def __init__(self) -> None:
        self.pages: dict[str, ProjectPage] = {}
        self.blobs: dict[str, bytes] = {}
        self.page_calls: Counter[str] = Counter()
        self.download_calls: Counter[str] = Counter()
        self.down = False
        self.crash_after: int | None = None  # bytes sent before the connection "resets"
        self.gate: asyncio.Event | None = None  # downloads wait for it when set
        self.etag = ""

    def add(
        self,
        project: str,
        version: str,
        data: bytes | None = None,
        *,
        served: bytes | None = None,
        metadata: bytes | None = None,
        **attributes: object,
    ) -> DistributionFile:
        """List a wheel of ``project`` (``served``: other bytes than the hash says)."""
        name = canonicalize_name(project)
        filename = wheel_name(name, version)
        data = data if data is not None else f"wheel {filename}".encode() * 20
        url = f"{UPSTREAM}../files/{filename}"
        self.blobs[url] = served if served is not None else data
        core = None
        if metadata is not None:
            self.blobs[url + ".metadata"] = metadata
            core = {"sha256": sha(metadata)}
        fields: dict[str, object] = {
            "hashes": {"sha256": sha(data)},
            "size": len(data),
            "upload_time": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            "core_metadata": core,
            **attributes,
        }
        file = DistributionFile(
            filename=filename,
            url=url,
            project=name,
            version=version,
            **fields,  # type: ignore[arg-type]
        )
        old = self.pages.get(name)
        files = (*(old.files if old else ()), file)
        versions = tuple(dict.fromkeys([*(old.versions if old else ()), version]))
        self.pages[name] = ProjectPage(name=project, files=files, versions=versions)
        return file

    async def project(
        self, name: NormalizedName, previous: UpstreamPage | None = None
    ) -> UpstreamPage | None:
        self.page_calls[name] += 1
        await asyncio.sleep(0)  # a network round trip: other requests run meanwhile
        if self.down:
            raise UpstreamUnavailable("cannot reach upstream: connection refused")
        if previous is not None and self.etag and previous.validators == self.etag:
            return UpstreamPage(previous.page, previous.validators, not_modified=True)
        page = self.pages.get(name)
        return None if page is None else UpstreamPage(page, self.etag)

    async def download(self, url: str) -> AsyncIterator[bytes]:
        self.download_calls[url] += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.down:
            raise UpstreamUnavailable("cannot reach upstream: connection refused")
        data = self.blobs[url]
        for start in range(0, len(data), 64):
            if self.crash_after is not None and start >= self.crash_after:
                raise UpstreamUnavailable("download failed: connection reset")
            await asyncio.sleep(0)
            yield data[start : start + 64]

    def downloads(self) -> int:
        return sum(self.download_calls.values())


class RuleGovernor(Governor):
    """Blocks files for which ``rule(index, file, vet)`` returns reasons."""

    def __init__(
        self,
        rule: Callable[[IndexConfig, DistributionFile, VetSummary | None], Iterable[str]],
        action: str | None = None,
    ) -> None:
        self.rule = rule
        self.action = action
        self.calls = 0

    def decide(self, index: IndexConfig, file: DistributionFile, vet: VetSummary | None) -> Ruling:
        self.calls += 1
        reasons = tuple(self.rule(index, file, vet))
        if not reasons:
            return ALLOWED
        return Ruling(allowed=False, reasons=reasons, action=self.action)  # type: ignore[arg-type]


class FakeVetter(Vetter):
    """Scores 9 (critical) when the bytes contain b"EVIL", else 0; counts analyses."""

    def __init__(self) -> None:
        self.results: dict[str, VetSummary] = {}
        self.calls = 0

    def cached(self, sha256: str) -> VetSummary | None:
        return self.results.get(sha256)

    async def vet(self, filename: str, data: bytes) -> VetSummary:
        self.calls += 1
        await asyncio.sleep(0)
        evil = b"EVIL" in data
        summary = VetSummary(
            name=filename.split("-", maxsplit=1)[0],
            version=filename.split("-")[1],
            filename=filename,
            sha256=sha(data),
            score=9.0 if evil else 0.0,
            label="critical" if evil else "none",
            reasons=("setup.py: critical exfil [install]: posts credentials",) if evil else (),
        )
        self.results[summary.sha256] = summary
        return summary


class FakeInternal(InternalPackages):
    """Internal projects whose files live in a directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.pages: dict[str, ProjectPage] = {}

    def add(self, project: str, version: str, data: bytes) -> DistributionFile:
        name = canonicalize_name(project)
        filename = wheel_name(name, version)
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / filename).write_bytes(data)
        file = DistributionFile(
            filename=filename,
            url=f"internal:{filename}",
            hashes={"sha256": sha(data)},
            project=name,
            version=version,
            size=len(data),
        )
        old = self.pages.get(name)
        files = (*(old.files if old else ()), file)
        self.pages[name] = ProjectPage(name=project, files=files, versions=(version,))
        return file

    def project(self, name: NormalizedName) -> ProjectPage | None:
        return self.pages.get(name)

    def open(self, file: DistributionFile) -> Path | None:
        path = self.directory / file.filename
        return path if path.is_file() else None

    def names(self) -> Iterable[NormalizedName]:
        return [canonicalize_name(n) for n in self.pages]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def make_service(
    tmp_path: Path,
    upstream: FakeUpstream,
    *,
    governor: Governor | None = None,
    vetter: Vetter | None = None,
    internal: InternalPackages | None = None,
    indexes: tuple[IndexConfig, ...] = (IndexConfig("default", "production"),),
    clock: Clock | None = None,
) -> RegistryService:
    config = RegistryConfig(
        state_dir=tmp_path / "registry", upstream_urls=(UPSTREAM,), indexes=indexes
    )
    return RegistryService(
        config,
        upstream=upstream,
        state=RegistryState(config.state_dir / "registry.sqlite3"),
        store=FileStore(config.state_dir / "files"),
        governor=governor,
        vetter=vetter,
        internal=internal,
        clock=clock or Clock(),
    )
