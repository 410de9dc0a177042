"""Helpers shared by the SBOM readers (CycloneDX and SPDX JSON).

Both formats name a package by its package URL; only ``pkg:pypi`` and
``pkg:conda`` purls are Python packages.  Qualifiers say where a package came
from (``vcs_url``, ``download_url``, ``repository_url``, conda ``channel``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from packageurl import PackageURL

from assay.environments.model import Ecosystem, Hash, Origin, OriginKind
from assay.environments.ports import ReaderError

_HEX = re.compile(r"[0-9a-fA-F]+")
_COMMIT = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
_VCS_SCHEMES = ("git", "hg", "svn", "bzr")
NOTE_NAMES = 10  # how many names a note lists before saying "and N more"

# SBOM digest names (CycloneDX ``alg``, SPDX ``algorithm``) to hashlib-style names.
_ALGORITHMS = {
    "md5": "md5",
    "sha1": "sha1",
    "sha-1": "sha1",
    "sha224": "sha224",
    "sha-224": "sha224",
    "sha256": "sha256",
    "sha-256": "sha256",
    "sha384": "sha384",
    "sha-384": "sha384",
    "sha512": "sha512",
    "sha-512": "sha512",
    "sha3-224": "sha3-224",
    "sha3-256": "sha3-256",
    "sha3-384": "sha3-384",
    "sha3-512": "sha3-512",
    "blake2b-256": "blake2b-256",
    "blake2b-384": "blake2b-384",
    "blake2b-512": "blake2b",
    "blake3": "blake3",
}


def hash_of(path: Path, algorithm: str, value: str, what: str) -> Hash:
    """A Hash from an SBOM digest; the value must be hexadecimal."""
    if not _HEX.fullmatch(value):
        raise ReaderError(path, f"{what}: {algorithm} digest is not hexadecimal")
    name = algorithm.strip().lower().replace("_", "-")
    return Hash(_ALGORITHMS.get(name, name), value)


def parse_purl(path: Path, text: str, what: str) -> PackageURL:
    try:
        return PackageURL.from_string(text)
    except ValueError as exc:
        raise ReaderError(path, f"{what}: invalid package URL {text!r}: {exc}") from None


def ecosystem_of(purl: PackageURL) -> Ecosystem | None:
    """PYPI or CONDA for Python package URLs, None for every other type."""
    kind = purl.type.lower()
    if kind == "pypi":
        return Ecosystem.PYPI
    if kind == "conda":
        return Ecosystem.CONDA
    return None


def qualifiers(purl: PackageURL) -> dict[str, str]:
    return dict(purl.qualifiers or {})


def vcs_origin(url: str, commit: str | None = None, revision: str | None = None) -> Origin:
    """An Origin from ``git+https://host/repo.git@rev#subdirectory=x`` or ``file:///r#<commit>``."""
    vcs = None
    if "+" in url.split("://", 1)[0]:
        vcs, url = url.split("+", 1)
    parts = urlsplit(url)
    path = parts.path
    if "@" in path:
        path, rev = path.rsplit("@", 1)
        revision = revision or unquote(rev) or None
    subdirectory = None
    fragment = parts.fragment
    for item in fragment.split("&") if fragment else ():
        key, _, value = item.partition("=")
        if key == "subdirectory" and value:
            subdirectory = value
        elif not value and _COMMIT.fullmatch(key):
            commit = commit or key
    if revision and _COMMIT.fullmatch(revision) and commit is None:
        commit, revision = revision, None
    if revision == commit:
        revision = None
    clean = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    return Origin(
        kind=OriginKind.VCS,
        url=clean,
        vcs=(vcs or "git").lower(),
        commit=commit.lower() if commit else None,
        requested_revision=revision,
        subdirectory=subdirectory,
    )


def is_vcs_url(url: str) -> bool:
    scheme = url.split("://", 1)[0].lower()
    return "+" in scheme and scheme.split("+", 1)[0] in _VCS_SCHEMES


def location_origin(url: str, editable: bool = False) -> Origin:
    """An Origin from a download or install location: VCS, local path, or archive URL."""
    if is_vcs_url(url):
        return vcs_origin(url)
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Origin(
            kind=OriginKind.DIRECTORY, url=url, path=unquote(parts.path), editable=editable
        )
    return Origin(kind=OriginKind.URL, url=url)


def purl_origin(purl: PackageURL) -> Origin | None:
    """What the purl's qualifiers say about where the package came from."""
    quals = qualifiers(purl)
    if ecosystem_of(purl) is Ecosystem.CONDA:
        channel = quals.get("channel") or quals.get("repository_url")
        return Origin(kind=OriginKind.CHANNEL, url=channel) if channel else None
    if vcs := quals.get("vcs_url"):
        return vcs_origin(vcs)
    if download := quals.get("download_url"):
        return location_origin(download)
    if repository := quals.get("repository_url"):
        return Origin(kind=OriginKind.INDEX, url=repository)
    return None


def default_origin(ecosystem: Ecosystem) -> Origin:
    """A plain ``pkg:pypi`` purl names a package on an index (which one is not said)."""
    return Origin(kind=OriginKind.INDEX) if ecosystem is Ecosystem.PYPI else Origin()


@dataclass(frozen=True, slots=True)
class PurlFacts:
    """What a Python package URL contributes to a Package."""

    ecosystem: Ecosystem
    version: str | None
    origin: Origin | None
    platform: str | None
    build: str | None


def purl_facts(purl: PackageURL) -> PurlFacts | None:
    ecosystem = ecosystem_of(purl)
    if ecosystem is None:
        return None
    quals = qualifiers(purl)
    conda = ecosystem is Ecosystem.CONDA
    return PurlFacts(
        ecosystem=ecosystem,
        version=purl.version or None,
        origin=purl_origin(purl),
        platform=quals.get("subdir") if conda else None,
        build=quals.get("build") if conda else None,
    )


def names_note(count: int, what: str, labels: Iterable[str]) -> str:
    """``3 components skipped (...): a 1.0, b 2.0, c`` with the list cut at NOTE_NAMES."""
    shown = sorted(labels)
    listed = ", ".join(shown[:NOTE_NAMES])
    if len(shown) > NOTE_NAMES:
        listed += f" and {len(shown) - NOTE_NAMES} more"
    return f"{count} {what}: {listed}" if listed else f"{count} {what}"


def label(name: str, version: str | None) -> str:
    return f"{name} {version}" if version else name
