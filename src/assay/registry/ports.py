"""The registry's ports: upstream index, governor, vetter and internal packages.

Each is a small abstract class; the service (:mod:`assay.registry.service`)
receives one of each through its constructor.  Adapters: ``upstream.py``
(HTTP, PEP 691/503), ``vetter.py`` (the vetting engine with its per-hash
cache), the policy adapter (the lead's) and the internal package store
(``internal.py``).  Tests subclass these with fakes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName

from assay.errors import AssayError
from assay.registry.model import ALLOWED, DistributionFile, IndexConfig, ProjectPage, Ruling
from assay.vetting.cache import VetSummary


class RegistryError(AssayError):
    """Base of the registry's errors (a bad configuration exits 2)."""

    exit_code = 2


class UpstreamUnavailable(RegistryError):  # noqa: N818 - the name the issue uses
    """The upstream index cannot be reached or answered with a server error."""

    exit_code = 4


class IntegrityError(RegistryError):
    """Bytes from upstream do not match the hash upstream published: refused (HTTP 502)."""

    exit_code = 4


@dataclass(frozen=True, slots=True)
class UpstreamPage:
    """A project page as fetched, with the adapter's opaque revalidation data.

    ``validators`` is whatever the adapter needs to revalidate the page later
    (ETag / Last-Modified); the service stores it with the page and hands it
    back through ``previous``.  ``not_modified``: upstream said the previous
    page is still current (``page`` is then the previous page).
    """

    page: ProjectPage
    validators: str = ""
    not_modified: bool = False


class Upstream(ABC):
    """The upstream index (or indexes, merged) that pages and files come from."""

    @abstractmethod
    async def project(
        self, name: NormalizedName, previous: UpstreamPage | None = None
    ) -> UpstreamPage | None:
        """The project's page, None when upstream does not have the project.

        Raises :class:`UpstreamUnavailable` when upstream cannot be asked.
        """

    @abstractmethod
    def download(self, url: str) -> AsyncIterator[bytes]:
        """The bytes at ``url`` (a file or ``.metadata`` URL from a page), in chunks.

        Raises :class:`UpstreamUnavailable` (possibly after some chunks).
        """

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class Governor(ABC):
    """Decides whether one file may be served at one index (the policy, per stage)."""

    @abstractmethod
    def decide(self, index: IndexConfig, file: DistributionFile, vet: VetSummary | None) -> Ruling:
        """The ruling; ``vet`` is None when the file has not been vetted yet."""


class AllowAll(Governor):
    """Serves everything (no policy configured)."""

    def decide(self, index: IndexConfig, file: DistributionFile, vet: VetSummary | None) -> Ruling:
        return ALLOWED


class Vetter(ABC):
    """Static analysis of a file before it is first served, cached per sha256."""

    @abstractmethod
    def cached(self, sha256: str) -> VetSummary | None:
        """The stored result for these bytes, None when never vetted (cheap)."""

    @abstractmethod
    async def vet(self, filename: str, data: bytes) -> VetSummary:
        """Analyse the bytes (slow: off the event loop) and remember the result."""


class InternalPackages(ABC):
    """Packages uploaded to this registry; their names never resolve upstream."""

    @abstractmethod
    def project(self, name: NormalizedName) -> ProjectPage | None:
        """The internal project's page (file ``url``s are yours to define), None if unknown."""

    @abstractmethod
    def open(self, file: DistributionFile) -> Path | None:
        """The stored file for one of your pages' files, None when it is gone."""

    def names(self) -> Iterable[NormalizedName]:
        """Every internal project name (for the project list page)."""
        return ()


class NoInternalPackages(InternalPackages):
    def project(self, name: NormalizedName) -> ProjectPage | None:
        return None

    def open(self, file: DistributionFile) -> Path | None:
        return None
