"""Domain values: an environment and the packages in it.

Everything here is a frozen dataclass with no I/O.  Names are kept as written
and in PEP 503 canonical form; versions are kept as the raw string the source
gave and, when that string is valid PEP 440, as a parsed ``Version`` too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from packageurl import PackageURL
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version


class Ecosystem(StrEnum):
    """Where a package's name and version live."""

    PYPI = "pypi"
    CONDA = "conda"


class OriginKind(StrEnum):
    """How a package got (or will get) into the environment."""

    INDEX = "index"  # a package index; Origin.url is the index when known
    URL = "url"  # a direct archive URL
    VCS = "vcs"  # a version-control checkout; Origin.vcs and Origin.commit
    DIRECTORY = "directory"  # a local directory or file (editable or not)
    CHANNEL = "channel"  # a conda channel
    UNKNOWN = "unknown"


class HashSource(StrEnum):
    """Which evidence a package's hashes come from (SBOMs say this)."""

    LOCK = "lock"  # the archive hashes a lock or requirements file pins
    REPORT = "report"  # an installer's report (pip --report, direct_url.json)
    RECORD = "record"  # the installed RECORD file (hash of the file list itself)
    CONDA_META = "conda-meta"  # conda's own package metadata
    SBOM = "sbom"  # copied from an SBOM component


@dataclass(frozen=True, slots=True, order=True)
class Hash:
    """One digest of one artifact: lowercase ``hashlib`` name, lowercase hex."""

    algorithm: str
    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "algorithm", self.algorithm.lower().replace("_", "-"))
        object.__setattr__(self, "value", self.value.lower())

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.value}"


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a package comes from."""

    kind: OriginKind = OriginKind.UNKNOWN
    url: str | None = None
    vcs: str | None = None
    commit: str | None = None
    requested_revision: str | None = None
    subdirectory: str | None = None
    path: str | None = None
    editable: bool = False

    def describe(self) -> str:
        """A short human label, e.g. ``vcs git@1a2b3c4`` or ``index``."""
        if self.kind is OriginKind.VCS:
            rev = (self.commit or self.requested_revision or "")[:12]
            return f"{self.vcs or 'vcs'}@{rev}" if rev else (self.vcs or "vcs")
        if self.kind is OriginKind.DIRECTORY:
            return "editable" if self.editable else "local"
        if self.kind is OriginKind.CHANNEL and self.url:
            return self.url.rstrip("/").rsplit("/", 1)[-1]
        return self.kind.value


@dataclass(frozen=True, slots=True)
class License:
    """A declared license: the raw text and, when it parses, an SPDX expression."""

    raw: str | None = None
    spdx: str | None = None
    origin: str | None = (
        None  # which field it came from: license-expression, license, classifier, ...
    )

    def display(self) -> str:
        return self.spdx or self.raw or ""


@dataclass(frozen=True, slots=True, order=True)
class Party:
    """A person or organisation named in package metadata (an author or maintainer)."""

    name: str | None = None
    email: str | None = None

    @property
    def label(self) -> str | None:
        """The name, else the email address."""
        return self.name or self.email


def _version_or_none(raw: str | None) -> Version | None:
    if raw is None:
        return None
    try:
        return Version(raw)
    except InvalidVersion:
        return None


@dataclass(frozen=True, slots=True)
class Package:
    """One package in an environment.

    ``version_raw`` is exactly what the source wrote (``None`` when the source
    does not pin a version, in which case ``specifier`` says what it asked for).
    ``dependencies`` are canonical names of the packages this one pulls in,
    where the source knows the graph.  ``summary``, ``authors``,
    ``maintainers``, ``homepage``, ``download_url`` and ``project_urls``
    (label, URL in the order declared) come from core metadata, where the
    source carries it (installed environments, pip's JSON, SBOMs).
    """

    name: str
    version_raw: str | None
    ecosystem: Ecosystem = Ecosystem.PYPI
    specifier: str | None = None
    hashes: tuple[Hash, ...] = ()
    hash_source: HashSource | None = None
    origin: Origin = field(default_factory=Origin)
    installer: str | None = None
    requested: bool | None = None
    markers: str | None = None
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # lock groups / sections / categories (dev, docs, develop...)
    license: License | None = None
    dependencies: tuple[str, ...] = ()
    platform: str | None = None
    build: str | None = None
    summary: str | None = None
    authors: tuple[Party, ...] = ()
    maintainers: tuple[Party, ...] = ()
    homepage: str | None = None
    download_url: str | None = None
    project_urls: tuple[tuple[str, str], ...] = ()
    canonical_name: str = field(init=False)
    version: Version | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # conda names are already lowercase identifiers in which "-" and "_" differ
        # (``_libgcc_mutex``); PEP 503 normalisation applies to PyPI names only.
        normalise = str.lower if self.ecosystem is Ecosystem.CONDA else canonicalize_name
        object.__setattr__(self, "canonical_name", normalise(self.name))
        object.__setattr__(self, "version", _version_or_none(self.version_raw))
        if self.license is not None and self.license.raw is None and self.license.spdx is None:
            object.__setattr__(self, "license", None)  # a license that says nothing is no license
        object.__setattr__(self, "hashes", tuple(sorted(set(self.hashes))))
        object.__setattr__(self, "groups", tuple(sorted(set(self.groups))))
        object.__setattr__(
            self, "extras", tuple(sorted({canonicalize_name(e) for e in self.extras}))
        )
        object.__setattr__(
            self, "dependencies", tuple(sorted({normalise(d) for d in self.dependencies}))
        )

    @property
    def pinned(self) -> bool:
        """True when the source names one exact version."""
        return self.version_raw is not None

    @property
    def purl(self) -> str:
        """The package URL (``pkg:pypi/...`` or ``pkg:conda/...``)."""
        qualifiers: dict[str, str] = {}
        if self.ecosystem is Ecosystem.CONDA:
            if self.build:
                qualifiers["build"] = self.build
            if self.origin.kind is OriginKind.CHANNEL and self.origin.url:
                qualifiers["channel"] = self.origin.url
            if self.platform:
                qualifiers["subdir"] = self.platform
            name = self.canonical_name
        else:
            name = self.canonical_name
            if self.origin.kind is OriginKind.VCS and self.origin.url:
                qualifiers["vcs_url"] = (
                    f"{self.origin.vcs}+{self.origin.url}@{self.origin.commit}"
                    if self.origin.commit
                    else self.origin.url
                )
            elif self.origin.kind is OriginKind.URL and self.origin.url:
                qualifiers["download_url"] = self.origin.url
        return str(
            PackageURL(
                type=self.ecosystem.value,
                name=name,
                version=self.version_raw,
                qualifiers=qualifiers or None,
            )
        )

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The sort and identity key within one environment."""
        return (
            self.canonical_name,
            self.platform or "",
            self.ecosystem.value,
            self.version_raw or "",
        )


@dataclass(frozen=True, slots=True)
class Source:
    """What an environment was read from.

    ``digest`` is ``sha256:<hex>`` over the bytes read (for directories: over
    the sorted relative paths and contents of every metadata file read).
    """

    kind: str
    path: str
    digest: str


@dataclass(frozen=True, slots=True)
class Environment:
    """Everything one source says is (or will be) installed.

    ``notes`` carry facts a user must see (unpinned requirements, packages the
    source lists without a version) so nothing is dropped silently.
    """

    source: Source
    packages: tuple[Package, ...]
    python_version: str | None = None
    platform: str | None = None
    name: str | None = None
    notes: tuple[str, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "packages", tuple(sorted(self.packages, key=lambda p: p.key)))
        # one value per key: a key given several times (two extra index URLs, two
        # SBOM tools) keeps every distinct value, joined in the order given
        merged: dict[str, list[str]] = {}
        for key, value in self.properties:
            values = merged.setdefault(key, [])
            if value not in values:
                values.append(value)
        object.__setattr__(
            self, "properties", tuple((k, ", ".join(v)) for k, v in sorted(merged.items()))
        )

    def by_name(self, name: str) -> tuple[Package, ...]:
        """Every package entry with this name (several on multi-platform locks)."""
        pypi, conda = canonicalize_name(name), name.lower()
        return tuple(
            p
            for p in self.packages
            if p.canonical_name == (conda if p.ecosystem is Ecosystem.CONDA else pypi)
        )

    @property
    def unpinned(self) -> tuple[Package, ...]:
        return tuple(p for p in self.packages if not p.pinned)
