"""Frozen values of the curated registry: files, project pages, indexes and rulings.

A :class:`ProjectPage` is what one project's simple-API page says, in the
terms of PEP 503/691 and their extensions (PEP 592 yanked, PEP 658/714 core
metadata, PEP 700 versions/size/upload-time, PEP 792 project status).  The
same value describes a page read from upstream, an internal project's page
and the governed page the registry serves; rendering is in
:mod:`assay.registry.simple`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from packaging.utils import NormalizedName, canonicalize_name

BlockAction = Literal["hide", "yank"]
BLOCK_ACTIONS: tuple[BlockAction, ...] = ("hide", "yank")
PROJECT_STATUSES = ("active", "archived", "quarantined", "deprecated")  # PEP 792


@dataclass(frozen=True, slots=True)
class DistributionFile:
    """One release file as an index lists it.

    ``url`` is where the bytes come from (absolute upstream URL, or any
    locator an :class:`~assay.registry.ports.InternalPackages` understands);
    the registry never shows it to clients, it links ``files/<sha256>/<filename>``.
    ``hashes`` always holds a lowercase hex ``sha256`` for files the registry
    serves; a file without one is dropped from pages (it could not be verified).
    """

    filename: str
    url: str
    hashes: dict[str, str]
    project: NormalizedName
    version: str | None = None  # raw version from the file name (None: unparsable)
    requires_python: str | None = None
    yanked: bool | str = False  # False, True (no reason) or the reason (PEP 592)
    size: int | None = None
    upload_time: datetime | None = None  # timezone-aware (PEP 700)
    core_metadata: dict[str, str] | None = None  # PEP 658/714 hashes; None: not available

    @property
    def sha256(self) -> str:
        return self.hashes.get("sha256", "")

    def __hash__(self) -> int:  # dict fields: hash on identity of content
        return hash((self.filename, self.sha256))


@dataclass(frozen=True, slots=True)
class ProjectPage:
    """One project's page: its files and what the index says about the project."""

    name: str  # the spelling the index used
    files: tuple[DistributionFile, ...]
    versions: tuple[str, ...] = ()  # PEP 700; may name versions without files
    status: str | None = None  # PEP 792 project status; None: not said
    status_reason: str | None = None
    api_version: str = "1.1"  # the api-version the source reported
    last_serial: int | None = None  # meta._last-serial when the source gives it
    stale: bool = False  # served from cache because upstream was unreachable
    internal: bool = False  # an internal project (never resolved upstream)

    @property
    def canonical_name(self) -> NormalizedName:
        return canonicalize_name(self.name)

    def file(self, filename: str) -> DistributionFile | None:
        return next((f for f in self.files if f.filename == filename), None)

    def with_files(self, files: tuple[DistributionFile, ...]) -> ProjectPage:
        return replace(self, files=files)


@dataclass(frozen=True, slots=True)
class IndexConfig:
    """One index the registry serves: ``<prefix>/simple/`` governed at ``stage``.

    ``prefix`` is ``""`` for the default index (``/simple/``) or a path such as
    ``/prod`` (``/prod/simple/``).  ``blocked_action`` is what a blocked file
    becomes on a page: hidden, or listed as yanked with the reason.
    """

    name: str
    stage: str
    prefix: str = ""
    blocked_action: BlockAction = "hide"

    @property
    def simple_path(self) -> str:
        return f"{self.prefix}/simple/"

    @property
    def files_path(self) -> str:
        return f"{self.prefix}/files/"


@dataclass(frozen=True, slots=True)
class Ruling:
    """The governor's decision on one file at one index.

    ``action`` overrides the index's ``blocked_action`` for this file (None:
    use the index's); it is ignored when ``allowed``.
    """

    allowed: bool
    reasons: tuple[str, ...] = ()
    action: BlockAction | None = None

    @property
    def reason_text(self) -> str:
        return "; ".join(self.reasons) or "blocked by policy"


ALLOWED = Ruling(allowed=True)


@dataclass(frozen=True, slots=True)
class Counters:
    """What ``assay registry status`` and the admin API report about the cache."""

    page_hits: int = 0
    page_misses: int = 0
    file_hits: int = 0
    file_misses: int = 0
    blocked: int = 0
    upstream_errors: int = 0
    stale_served: int = 0
    integrity_failures: int = 0
