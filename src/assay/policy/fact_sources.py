"""Ports the fact gathering asks, and the values they answer with (pure core).

* :class:`ProjectMetadataSource` -- the configured package index: one project's
  releases with their upload times and yanks (PEP 691 / PEP 700 / PEP 592) and
  the project's status (PEP 792).  ``None`` means the index has no such project;
  :class:`IndexUnavailableError` means it could not be asked, and
  :class:`IndexUnreachableError` that asking again is pointless (offline, refused,
  timed out), so the gathering stops asking.
* :class:`VetResultSource` -- cached ``assay vet`` results of one package version.

A source that is not there at all (no advisory database, ``--offline``, no
popular-packages list) is passed to the gathering as :class:`Missing` with the
cause, so every fact it would have given is reported unavailable, never empty.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from packaging.utils import canonicalize_version

from assay.errors import AssayError


def version_key(raw: str) -> str:
    """The key two spellings of one version share: PEP 440 canonical form without trailing
    zeros (``1.1.0`` and ``1.1`` are one version); the raw string when it is not PEP 440."""
    return canonicalize_version(raw)


class IndexUnavailableError(AssayError):
    """The package index could not answer for one project (HTTP error, malformed page)."""

    exit_code = 3


class IndexUnreachableError(IndexUnavailableError):
    """The package index cannot be reached at all: no further project is asked."""


@dataclass(frozen=True, slots=True)
class ReleaseInfo:
    """One version of a project as the index lists it."""

    version: str  # as the file names spell it
    upload_time: datetime | None  # earliest upload-time of its files (timezone-aware)
    yanked: bool  # every file of the version is yanked (PEP 592, as pip reads it)
    yanked_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ProjectReleases:
    """What the index says about one project.

    ``releases`` is keyed by :func:`version_key` of each version (build it with
    :meth:`of`); ``status`` is the PEP 792 status
    (``active`` when the index declares none).
    """

    name: str
    releases: Mapping[str, ReleaseInfo] = field(default_factory=dict)
    status: str = "active"
    status_reason: str | None = None

    @classmethod
    def of(
        cls,
        name: str,
        releases: Iterable[ReleaseInfo],
        status: str = "active",
        status_reason: str | None = None,
    ) -> ProjectReleases:
        keyed = {version_key(r.version): r for r in releases}
        return cls(name=name, releases=keyed, status=status, status_reason=status_reason)

    def release(self, version: str) -> ReleaseInfo | None:
        """The release of ``version`` however it is spelt (``1.0`` is ``1``), or None."""
        return self.releases.get(version_key(version))

    @property
    def latest_upload(self) -> datetime | None:
        """The newest upload of any release that is not yanked (of any, when all are)."""
        live = [r.upload_time for r in self.releases.values() if r.upload_time and not r.yanked]
        every = [r.upload_time for r in self.releases.values() if r.upload_time]
        return max(live or every, default=None)


class ProjectMetadataSource(ABC):
    """Port: project pages of the configured package index."""

    @abstractmethod
    def releases(self, name: str) -> ProjectReleases | None:
        """The project's releases, or None when the index has no such project.

        Raises :class:`IndexUnavailableError` (or :class:`IndexUnreachableError`)
        when the index cannot answer.  Must be safe to call from several threads.
        """


@dataclass(frozen=True, slots=True)
class VetResult:
    """A cached ``assay vet`` result: the 0-10 score, its label and one reason a finding."""

    score: float
    label: str
    reasons: tuple[str, ...] = ()


class VetResultSource(ABC):
    """Port: cached vetting results."""

    @abstractmethod
    def lookup(self, name: str, version: str, sha256s: Sequence[str]) -> VetResult | None:
        """The result for one of ``sha256s`` (the package's recorded archive hashes), else
        for ``name``/``version``; the worst when several archives were vetted; None when
        nothing is cached."""


@dataclass(frozen=True, slots=True)
class Missing:
    """A fact source that is not there, and why (shown to the user)."""

    cause: str
