"""What changed between two environments: added, removed and changed packages.

Packages are matched by canonical name (and platform, for multi-platform
locks).  A version change is always reported.  Archive hashes are compared only
when both sides carry archive hashes for a common algorithm (a lock lists every
wheel, an install report one of them, so they must share at least one digest).
Origins are compared only when both sides know theirs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from assay.environments.model import Environment, HashSource, OriginKind, Package

_ARCHIVE_HASH_SOURCES = {HashSource.LOCK, HashSource.REPORT, HashSource.CONDA_META, HashSource.SBOM}


class Aspect(StrEnum):
    VERSION = "version"
    HASHES = "hashes"
    ORIGIN = "origin"


@dataclass(frozen=True, slots=True)
class PackageChange:
    """One name whose entries differ between the two sides."""

    name: str
    platform: str | None
    before: tuple[Package, ...]
    after: tuple[Package, ...]
    aspects: tuple[Aspect, ...]


@dataclass(frozen=True, slots=True)
class EnvironmentDiff:
    added: tuple[Package, ...]
    removed: tuple[Package, ...]
    changed: tuple[PackageChange, ...]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _hashes_differ(a: Package, b: Package) -> bool:
    if a.hash_source is None or b.hash_source is None:
        return False
    if a.hash_source is HashSource.RECORD and b.hash_source is HashSource.RECORD:
        return a.hashes != b.hashes
    if a.hash_source not in _ARCHIVE_HASH_SOURCES or b.hash_source not in _ARCHIVE_HASH_SOURCES:
        return False
    common = {h.algorithm for h in a.hashes} & {h.algorithm for h in b.hashes}
    if not common:
        return False
    return not ({h for h in a.hashes if h.algorithm in common} & set(b.hashes))


def _origins_differ(a: Package, b: Package) -> bool:
    oa, ob = a.origin, b.origin
    if OriginKind.UNKNOWN in (oa.kind, ob.kind):
        return False
    if oa.kind is not ob.kind or oa.editable != ob.editable:
        return True
    if oa.kind is OriginKind.VCS:
        return bool(oa.commit and ob.commit and oa.commit != ob.commit) or (
            oa.url is not None and ob.url is not None and oa.url != ob.url
        )
    if oa.kind is OriginKind.URL:
        return oa.url != ob.url
    return False


def _aspects(before: tuple[Package, ...], after: tuple[Package, ...]) -> tuple[Aspect, ...]:
    found: list[Aspect] = []
    if sorted(p.version_raw or "" for p in before) != sorted(p.version_raw or "" for p in after):
        found.append(Aspect.VERSION)
    elif len(before) == len(after) == 1:
        a, b = before[0], after[0]
        if _hashes_differ(a, b):
            found.append(Aspect.HASHES)
        if _origins_differ(a, b):
            found.append(Aspect.ORIGIN)
    return tuple(found)


def _group(env: Environment, by_platform: bool) -> dict[tuple[str, str], tuple[Package, ...]]:
    groups: dict[tuple[str, str], list[Package]] = defaultdict(list)
    for package in env.packages:
        platform = package.platform or "" if by_platform else ""
        groups[(package.canonical_name, platform)].append(package)
    return {key: tuple(value) for key, value in groups.items()}


def diff_environments(before: Environment, after: Environment) -> EnvironmentDiff:
    """The difference from ``before`` to ``after``."""
    by_platform = any(p.platform for p in before.packages) and any(
        p.platform for p in after.packages
    )
    old, new = _group(before, by_platform), _group(after, by_platform)
    added = tuple(p for key in sorted(new.keys() - old.keys()) for p in new[key])
    removed = tuple(p for key in sorted(old.keys() - new.keys()) for p in old[key])
    changed = []
    for key in sorted(old.keys() & new.keys()):
        aspects = _aspects(old[key], new[key])
        if aspects:
            changed.append(
                PackageChange(
                    name=old[key][0].name,
                    platform=key[1] or None,
                    before=old[key],
                    after=new[key],
                    aspects=aspects,
                )
            )
    return EnvironmentDiff(added=added, removed=removed, changed=tuple(changed))
