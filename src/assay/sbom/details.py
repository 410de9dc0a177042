"""Who supplies a package and where its home page is, from what the model carries.

Readers that see core metadata (installed environments, conda prefixes, pip's
JSON, SBOMs) fill a package's authors, maintainers and links; these pure
functions choose what an SBOM names as its supplier and home page.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from assay.environments.model import OriginKind, Package, Party

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


def supplier_of(package: Package) -> tuple[Party, str] | None:
    """Who supplies a package, and from where that is known.

    The first maintainer (``maintainer``), else the first author (``author``),
    else the owner of its source repository on a code forge (``repository-owner``):
    the VCS origin first, then the project URLs, home page and download URL.
    """
    for party in package.maintainers:
        if party.label:
            return party, "maintainer"
    for party in package.authors:
        if party.label:
            return party, "author"
    origin = package.origin
    urls = [origin.url] if origin.kind is OriginKind.VCS and origin.url else []
    urls += [u for _, u in package.project_urls]
    urls += [u for u in (package.homepage, package.download_url) if u]
    for url in urls:
        if owner := repository_owner(url):
            return Party(owner, None), "repository-owner"
    return None


def homepage_of(package: Package) -> str | None:
    """The declared home page, else the Project-URL labelled ``Homepage``."""
    if package.homepage:
        return package.homepage
    return next((u for k, u in package.project_urls if k.lower() == "homepage"), None)
