"""What an SBOM says about a package beyond the environment model.

Installed environments carry authors, maintainers, a home page and project URLs
in their core metadata; locks and requirements files do not.  The environment
model does not hold these (yet), so SBOM builders take them as an optional
mapping keyed by :func:`details_key`.  Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import getaddresses
from urllib.parse import urlsplit

from assay.environments.model import Package


@dataclass(frozen=True, slots=True, order=True)
class Party:
    """A person or organisation named in package metadata."""

    name: str | None = None
    email: str | None = None

    @property
    def label(self) -> str | None:
        return self.name or self.email


@dataclass(frozen=True, slots=True)
class PackageDetails:
    """Authors, maintainers and links a package's metadata declares."""

    summary: str | None = None
    authors: tuple[Party, ...] = ()
    maintainers: tuple[Party, ...] = ()
    homepage: str | None = None
    download_url: str | None = None
    project_urls: tuple[tuple[str, str], ...] = ()  # (label, url) in the order declared

    @property
    def supplier(self) -> Party | None:
        found = supplier_of(self)
        return found[0] if found else None


DetailsMap = Mapping[tuple[str, str | None], PackageDetails]


# Code forges whose first path segment names the owner (user or organisation).
_FORGES = frozenset({"github.com", "gitlab.com", "codeberg.org", "bitbucket.org", "sr.ht"})


def repository_owner(url: str) -> str | None:
    """``https://github.com/pallets/flask`` -> ``pallets`` (forge URLs only)."""
    parts = urlsplit(url.split("+", 1)[1] if "+" in url.split("://", 1)[0] else url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    if host not in _FORGES or len(segments) < 2:
        return None
    return segments[0].removeprefix("~") or None


def supplier_of(
    details: PackageDetails | None, extra_urls: tuple[str, ...] = ()
) -> tuple[Party, str] | None:
    """Who supplies a package, and from where that is known.

    The first maintainer (``maintainer``), else the first author (``author``),
    else the owner of its source repository on a code forge (``repository-owner``).
    """
    if details is not None:
        for party in details.maintainers:
            if party.label:
                return party, "maintainer"
        for party in details.authors:
            if party.label:
                return party, "author"
    urls = list(extra_urls)
    if details is not None:
        urls += [u for _, u in details.project_urls]
        urls += [u for u in (details.homepage, details.download_url) if u]
    for url in urls:
        if owner := repository_owner(url):
            return Party(owner, None), "repository-owner"
    return None


def details_key(package: Package) -> tuple[str, str | None]:
    return (package.canonical_name, package.version_raw)


def parties(names: str | None, emails: str | None) -> tuple[Party, ...]:
    """Parties from core metadata ``Author`` / ``Author-email`` (RFC 822 address lists)."""
    found: list[Party] = []
    if emails:
        for raw_name, raw_address in getaddresses([emails]):
            name, address = raw_name.strip(), raw_address.strip()
            if name or address:
                found.append(Party(name or None, address or None))
    if names and names.strip():
        plain = names.strip()
        if not any(p.name == plain for p in found):
            if found and found[0].name is None:
                found[0] = Party(plain, found[0].email)
            else:
                found.insert(0, Party(plain, None))
    return tuple(found)
