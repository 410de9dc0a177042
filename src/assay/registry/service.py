"""The registry's orchestration: pages and files, cached, verified, vetted and governed.

* A project page is the internal package's page when there is one (upstream is
  then never asked: dependency-confusion protection), else upstream's page,
  cached for ``page_ttl`` seconds and revalidated after; when upstream cannot
  be reached the cached page is served marked stale (and logged), and with
  nothing cached the request fails (503).
* Every file on a page is ruled on by the :class:`Governor` for the index's
  stage: blocked files are hidden or listed as yanked with the reasons; files
  without a sha256 are never listed (they could not be verified).
* A file download resolves ``<sha256>/<filename>`` to a listed file, fetches
  it once however many clients ask at the same time (single flight per
  digest), verifies and stores it (:class:`FileStore`), vets it before it is
  first served, asks the governor again with the vetting result, and serves
  the stored file or raises :class:`Blocked` with the reasons.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from packaging.utils import NormalizedName, canonicalize_name, canonicalize_version

from assay.registry.config import RegistryConfig
from assay.registry.model import DistributionFile, IndexConfig, ProjectPage, Ruling
from assay.registry.pages import file_project
from assay.registry.ports import (
    AllowAll,
    Governor,
    IntegrityError,
    InternalPackages,
    NoInternalPackages,
    RegistryError,
    Upstream,
    UpstreamUnavailable,
    Vetter,
)
from assay.registry.simple import render_index, render_project
from assay.registry.state import BlockedRequest, RegistryState
from assay.registry.status import build_status
from assay.registry.store import FileStore
from assay.registry.upstream import metadata_url
from assay.vetting.cache import VetSummary

LOG = logging.getLogger("assay.registry")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
STALE_RETRY_SECONDS = 30.0  # how long a stale page is served before upstream is asked again
MISSING_TTL_SECONDS = 60.0  # how long "upstream has no such project" is remembered
FLUSH_SECONDS = 10.0
MAX_CACHED_PAGES = 20_000  # per in-memory cache (raw pages; governed pages per index)
T = TypeVar("T")


class NotFound(RegistryError):  # noqa: N818 - an HTTP status, not a failure of the server
    """No such project or file here (HTTP 404)."""

    exit_code = 3


class Blocked(RegistryError):  # noqa: N818
    """The governor refused the file at this index (HTTP 403, the reasons in the body)."""

    exit_code = 1

    def __init__(self, index: IndexConfig, file: DistributionFile, ruling: Ruling) -> None:
        super().__init__(
            f"{file.filename}: blocked by policy (index {index.name}, stage {index.stage}): "
            f"{ruling.reason_text}"
        )
        self.ruling = ruling


def _version_key(version: str | None) -> str:
    return canonicalize_version(version, strip_trailing_zero=False) if version else ""


@dataclass(slots=True)
class _Raw:
    page: ProjectPage | None  # None: upstream has no such project
    checked_at: float
    fresh_for: float


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered page: its body, a strong ETag, and whether it was served from a stale cache."""

    body: bytes
    etag: str
    stale: bool


@dataclass(slots=True)
class _Governed:
    raw: ProjectPage
    page: ProjectPage
    until: float
    bodies: dict[str, Rendered]


class RegistryService:
    """Serves the configured indexes; one per process, used from one event loop."""

    def __init__(
        self,
        config: RegistryConfig,
        *,
        upstream: Upstream,
        state: RegistryState,
        store: FileStore,
        governor: Governor | None = None,
        vetter: Vetter | None = None,
        internal: InternalPackages | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.upstream = upstream
        self.state = state
        self.store = store
        self.governor = governor or AllowAll()
        self.vetter = vetter
        self.internal = internal or NoInternalPackages()
        self.clock = clock
        self._raw: dict[NormalizedName, _Raw] = {}
        self._governed: dict[tuple[str, NormalizedName], _Governed] = {}
        self._flights: dict[str, asyncio.Future[Any]] = {}
        self._flushed = clock()
        state.reset_pending()

    # pages ---------------------------------------------------------------
    async def page(self, index: IndexConfig, name: str) -> ProjectPage:
        """The governed page of ``name`` at ``index``; NotFound / UpstreamUnavailable."""
        return (await self._governed_page(index, canonicalize_name(name))).page

    async def page_body(self, index: IndexConfig, name: str, content_type: str) -> Rendered:
        """The rendered page (cached with the governed page it renders)."""
        entry = await self._governed_page(index, canonicalize_name(name))
        rendered = entry.bodies.get(content_type)
        if rendered is None:
            body = render_project(entry.page, content_type)
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            rendered = entry.bodies[content_type] = Rendered(body, etag, entry.page.stale)
        return rendered

    async def _governed_page(self, index: IndexConfig, project: NormalizedName) -> _Governed:
        self._maybe_flush()
        internal = self.internal.project(project)
        if internal is not None:
            page = self._govern(index, replace(internal, internal=True))
            return _Governed(internal, page, 0.0, {})
        raw = await self._upstream_page(project)
        key = (index.name, project)
        entry = self._governed.get(key)
        now = self.clock()
        if entry is None or entry.raw is not raw or entry.until <= now:
            entry = _Governed(raw, self._govern(index, raw), now + self.config.page_ttl, {})
            if len(self._governed) >= MAX_CACHED_PAGES:
                self._governed.clear()  # bounded memory; pages are rebuilt from the raw cache
            self._governed[key] = entry
        return entry

    async def _upstream_page(self, project: NormalizedName, *, count: bool = True) -> ProjectPage:
        now = self.clock()
        known = self._raw.get(project)
        if known is not None and now - known.checked_at < known.fresh_for:
            if count:
                self.state.count("page_hits")
            return self._present(project, known.page)
        known = await self._single(f"page:{project}", lambda: self._refresh(project))
        return self._present(project, known.page)

    @staticmethod
    def _present(project: NormalizedName, page: ProjectPage | None) -> ProjectPage:
        if page is None:
            raise NotFound(f"{project}: no such project")
        return page

    async def _refresh(self, project: NormalizedName) -> _Raw:
        now = self.clock()
        ttl = self.config.page_ttl
        cached = self.state.page(project)
        if cached is not None and now - cached.fetched_at < ttl:
            self.state.count("page_hits")
            known = _Raw(cached.upstream.page, cached.fetched_at, ttl)
            return self._remember(project, known)
        previous = cached.upstream if cached is not None else None
        try:
            fetched = await self.upstream.project(project, previous)
        except UpstreamUnavailable as exc:
            self.state.count("upstream_errors")
            if cached is None:
                raise
            LOG.warning("upstream unavailable, serving cached page of %s: %s", project, exc)
            self.state.count("stale_served")
            stale = replace(cached.upstream.page, stale=True)
            known = _Raw(stale, now, min(ttl, STALE_RETRY_SECONDS))
            return self._remember(project, known)
        if fetched is None:
            known = _Raw(None, now, min(ttl, MISSING_TTL_SECONDS))
        elif fetched.not_modified and previous is not None:
            self.state.count("page_revalidated")
            self.state.touch_page(project, now)
            known = _Raw(previous.page, now, ttl)
        else:
            self.state.count("page_misses")
            self.state.save_page(project, fetched, now)
            known = _Raw(fetched.page, now, ttl)
        return self._remember(project, known)

    def _remember(self, project: NormalizedName, known: _Raw) -> _Raw:
        if len(self._raw) >= MAX_CACHED_PAGES:
            self._raw.clear()  # bounded memory; the state file still holds every page
        self._raw[project] = known
        return known

    def _govern(self, index: IndexConfig, raw: ProjectPage) -> ProjectPage:
        kept: list[DistributionFile] = []
        hidden: set[str] = set()
        shown: set[str] = set()
        for file in raw.files:
            if not SHA256.match(file.sha256):
                continue
            ruling = self.governor.decide(index, file, self._cached_vet(file.sha256))
            if ruling.allowed:
                kept.append(file)
            elif (ruling.action or index.blocked_action) == "yank":
                kept.append(replace(file, yanked=f"blocked by policy: {ruling.reason_text}"))
            else:
                hidden.add(_version_key(file.version))
                continue
            shown.add(_version_key(file.version))
        gone = hidden - shown
        versions = tuple(v for v in raw.versions if _version_key(v) not in gone)
        return replace(raw, files=tuple(kept), versions=versions)

    def _cached_vet(self, sha256: str) -> VetSummary | None:
        return self.vetter.cached(sha256) if self.vetter is not None else None

    async def projects(self, index: IndexConfig) -> list[str]:
        """Names for the project list: internal projects plus every project cached here."""
        names = {canonicalize_name(n) for n in self.internal.names()}
        names.update(canonicalize_name(n) for n in self.state.projects())
        return sorted(names)

    async def index_body(self, index: IndexConfig, content_type: str) -> bytes:
        return render_index(await self.projects(index), content_type)

    # files ---------------------------------------------------------------
    async def locate(self, sha256: str, filename: str) -> DistributionFile:
        """The listed file with this digest and name; NotFound when none."""
        if not SHA256.match(sha256):
            raise NotFound(f"{filename}: not a sha256 digest: {sha256!r}")
        project = self._project_of(sha256, filename)
        if project is not None:
            internal = self.internal.project(project)
            if internal is not None:  # an internal name: only its own files exist
                found = internal.file(filename)
                if found is not None and found.sha256 == sha256:
                    return replace(found, project=project)
                raise NotFound(f"{filename}: no such file of internal project {project}")
            page = await self._upstream_page(project, count=False)
            found = page.file(filename)
            if found is not None and found.sha256 == sha256:
                return found
        raise NotFound(f"{filename}: no such file listed here with sha256 {sha256}")

    def _project_of(self, sha256: str, filename: str) -> NormalizedName | None:
        listed = self.state.file_project(sha256, filename)
        if listed is not None:
            return listed
        return file_project(filename)

    async def file(self, index: IndexConfig, sha256: str, filename: str) -> Path:
        """The verified, vetted, allowed file's path; NotFound / Blocked / IntegrityError /
        UpstreamUnavailable otherwise."""
        self._maybe_flush()
        file = await self.locate(sha256, filename)
        path, vet = await self._single(f"file:{sha256}", lambda: self._fetch_and_vet(file))
        ruling = self.governor.decide(index, file, vet)
        if not ruling.allowed:
            self._record_block(index, file, ruling)
            raise Blocked(index, file, ruling)
        return path

    async def _fetch_and_vet(self, file: DistributionFile) -> tuple[Path, VetSummary | None]:
        """Obtain (download, verify, store) and vet; pages of the project are ruled on again
        afterwards, as facts that need the bytes (vetting, license) are known now."""
        fresh = not self.store.has(file.sha256)
        path = await self._obtain(file)
        if fresh:
            self._forget_governed(file.project)
        vet = self._cached_vet(file.sha256)
        if vet is None and self.vetter is not None:
            self.state.start_vetting(file.sha256, file.filename)
            try:
                data = await asyncio.to_thread(path.read_bytes)
                vet = await self.vetter.vet(file.filename, data)
            except Exception as exc:  # noqa: BLE001 - the governor decides on "not vetted"
                LOG.warning("vetting %s failed: %s: %s", file.filename, type(exc).__name__, exc)
            finally:
                self.state.end_vetting(file.sha256)
            self._forget_governed(file.project)
        return path, vet

    async def _obtain(self, file: DistributionFile) -> Path:
        internal = self.internal.project(file.project)
        if internal is not None:
            path = self.internal.open(file)
            if path is None:
                raise NotFound(f"{file.filename}: the internal file is gone")
            return path
        if self.store.has(file.sha256):
            self.state.count("file_hits")
            return self.store.path(file.sha256)
        self.state.count("file_misses")
        return await self._download(file.sha256, file.url, file.filename)

    async def _download(self, sha256: str, url: str, label: str) -> Path:
        try:
            return await self.store.write(sha256, self.upstream.download(url), label)
        except IntegrityError as exc:
            self.state.count("integrity_failures")
            LOG.warning("refused %s: %s", label, exc)
            raise
        except UpstreamUnavailable:
            self.state.count("upstream_errors")
            raise

    async def metadata(self, index: IndexConfig, sha256: str, filename: str) -> Path:
        """The PEP 658 metadata of a listed, allowed file (verified against its hash)."""
        file = await self.locate(sha256, filename)
        digest = (file.core_metadata or {}).get("sha256", "")
        if not SHA256.match(digest):
            raise NotFound(f"{filename}: no verifiable core metadata for this file")
        ruling = self.governor.decide(index, file, self._cached_vet(sha256))
        if not ruling.allowed:
            self._record_block(index, file, ruling)
            raise Blocked(index, file, ruling)
        if self.store.has(digest):
            return self.store.path(digest)
        if self.internal.project(file.project) is not None:
            raise NotFound(f"{filename}: the internal project keeps no metadata file for it")
        label = f"{filename}.metadata"
        path = await self._single(
            f"metadata:{digest}", lambda: self._download(digest, metadata_url(file), label)
        )
        self._forget_governed(file.project)  # the license in the metadata is known now
        return path

    def _record_block(self, index: IndexConfig, file: DistributionFile, ruling: Ruling) -> None:
        self.state.count("blocked")
        LOG.info("blocked %s at %s: %s", file.filename, index.name, ruling.reason_text)
        entry = BlockedRequest(
            at=self.clock(),
            index=index.name,
            stage=index.stage,
            project=file.project,
            filename=file.filename,
            sha256=file.sha256,
            reasons=ruling.reason_text,
        )
        self.state.record_blocked(entry)

    # plumbing ------------------------------------------------------------
    async def _single(self, key: str, start: Callable[[], Awaitable[T]]) -> T:
        """Run ``start()`` once for every concurrent caller with the same key."""
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(start())
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._landed(key, done))
        result: T = await asyncio.shield(flight)
        return result

    def _landed(self, key: str, flight: asyncio.Future[Any]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # retrieved: no "never retrieved" warning when nobody waits

    def _forget_governed(self, project: NormalizedName) -> None:
        for key in [k for k in self._governed if k[1] == project]:
            del self._governed[key]

    def invalidate(self, name: str) -> None:
        """Drop cached pages of ``name`` (after an upload, or a policy change)."""
        project = canonicalize_name(name)
        self._raw.pop(project, None)
        self._forget_governed(project)

    def invalidate_all(self) -> None:
        self._governed.clear()

    def _maybe_flush(self) -> None:
        now = self.clock()
        if now - self._flushed >= FLUSH_SECONDS:
            self._flushed = now
            self.state.flush()

    def status(self) -> dict[str, Any]:
        """Cache size, hit rate, blocked requests and pending vetting (the admin API's body)."""
        self.state.flush()
        return build_status(self.state, self.store.root, self.config.indexes)

    async def aclose(self) -> None:
        await self.upstream.aclose()
        self.state.close()
