"""Exact OSV matching for PyPI versions.

A version is affected when it is listed in ``affected[].versions`` or lies in
an ``ECOSYSTEM`` range evaluated by the OSV algorithm: events sorted by
version (``introduced: 0`` first), walking them in order, ``introduced`` turns
"affected" on at or above it, ``fixed`` turns it off at or above it,
``last_affected`` turns it off above it; ``limit`` events, when present, cap the
range (``limit: *`` means no cap).  Versions are compared as PEP 440
``Version`` objects, never translated to specifier sets, so ``1.8.0rc1`` is
below ``fixed: 1.8.0`` as PEP 440 says.  Local versions (``2.0.0+cu118``)
match on their public part.  A version that is not PEP 440 can only match a
``versions`` entry that is the same string.  ``GIT`` and ``SEMVER`` ranges
are not used for PyPI packages.
"""

from __future__ import annotations

import re
from functools import lru_cache

from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

from assay.advisories.model import Advisory, Affected, Event, EventKind, Range

_ZERO = Version("0")


@lru_cache(maxsize=65536)
def parse_version(text: str) -> Version | None:
    """The PEP 440 version for ``text``, or None when it is not one."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _public(version: Version) -> Version:
    return Version(version.public) if version.local is not None else version


# Events at one version are walked in a fixed order, so the result never depends
# on the order a record lists them in: a ``fixed`` closes the range before an
# ``introduced`` at the same version reopens it (``fixed: 1.0, introduced: 1.0``
# means 1.0 is affected again), and an ``introduced`` comes before a
# ``last_affected`` at the same version (``introduced: 2.0, last_affected: 2.0.0``
# is exactly 2.0).
_TIE_ORDER = {
    EventKind.FIXED: 0,
    EventKind.INTRODUCED: 1,
    EventKind.LAST_AFFECTED: 2,
    EventKind.LIMIT: 3,
}


def _sort_key(event: Event) -> tuple[int, Version, int]:
    if event.kind is EventKind.LIMIT and event.version == "*":
        return (2, _ZERO, 0)
    if event.kind is EventKind.INTRODUCED and event.version == "0":
        return (0, _ZERO, 0)
    parsed = parse_version(event.version)
    if parsed is None:
        raise ValueError(event.version)
    return (1, parsed, _TIE_ORDER[event.kind])


def range_is_usable(range_: Range) -> bool:
    """An ECOSYSTEM range whose every event version parses as PEP 440."""
    if range_.type != "ECOSYSTEM":
        return False
    try:
        for event in range_.events:
            _sort_key(event)
    except ValueError:
        return False
    return True


def in_range(version: Version, range_: Range) -> bool:
    """Whether ``version`` lies in one ECOSYSTEM range (see the module doc)."""
    if not range_is_usable(range_):
        return False
    version = _public(version)
    events = sorted(range_.events, key=_sort_key)
    limits = [e for e in events if e.kind is EventKind.LIMIT]
    if limits and not any(e.version == "*" or version < _sort_key(e)[1] for e in limits):
        return False
    affected = False
    for event in events:
        bound = _sort_key(event)[1]
        if event.kind is EventKind.INTRODUCED and event.version == "0":
            affected = True  # "0" means every version, pre-releases of 0 (0.dev0, 0a1) included
        elif event.kind is EventKind.INTRODUCED:
            affected = affected or version >= bound
        elif event.kind is EventKind.FIXED:
            affected = affected and version < bound
        elif event.kind is EventKind.LAST_AFFECTED:
            affected = affected and version <= bound
    return affected


_PLAIN_RELEASE = re.compile(r"\d+(?:\.\d+)*")


@lru_cache(maxsize=131072)
def _equality_key(text: str) -> str | None:
    """A string equal for exactly the PEP 440-equal versions (``1.0`` ~ ``1.0.0`` ~ ``01.0``).

    Plain release numbers (almost every entry of a ``versions`` list) take a
    fast path; everything else goes through ``packaging``.
    """
    if _PLAIN_RELEASE.fullmatch(text):
        parts = [str(int(part)) for part in text.split(".")]
        while len(parts) > 1 and parts[-1] == "0":
            parts.pop()
        return ".".join(parts)
    parsed = parse_version(text)
    return None if parsed is None else canonicalize_version(parsed, strip_trailing_zero=True)


@lru_cache(maxsize=8192)
def _version_sets(versions: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """A ``versions`` list as exact strings and as PEP 440 equality keys (cached)."""
    keys = (_equality_key(v) for v in versions)
    return frozenset(versions), frozenset(k for k in keys if k is not None)


def _listed(version_raw: str, version: Version | None, versions: tuple[str, ...]) -> bool:
    if not versions:
        return False
    exact, keys = _version_sets(versions)
    if version_raw in exact:
        return True
    if version is None:
        return False
    # the full version (``1.0+cpu`` listed, ``1.0.0+CPU`` installed) or its public part
    return _equality_key(str(version)) in keys or _equality_key(str(_public(version))) in keys


def affected_entry_matches(entry: Affected, version_raw: str) -> bool:
    """Whether one ``affected[]`` entry covers ``version_raw``."""
    version = parse_version(version_raw)
    if version is not None and any(in_range(version, r) for r in entry.ranges):
        return True
    return _listed(version_raw, version, entry.versions)


def is_affected(advisory: Advisory, name: str, version_raw: str) -> bool:
    """Whether the package ``name`` (PEP 503 form) at ``version_raw`` is affected."""
    if advisory.withdrawn:
        return False
    return any(
        entry.name == name and affected_entry_matches(entry, version_raw)
        for entry in advisory.affected
    )


def fixed_versions(advisory: Advisory, name: str) -> tuple[str, ...]:
    """Every ``fixed`` version the advisory gives for ``name``, lowest first."""
    found = {
        event.version
        for entry in advisory.affected
        if entry.name == name
        for range_ in entry.ranges
        if range_is_usable(range_)
        for event in range_.events
        if event.kind is EventKind.FIXED
    }
    distinct: dict[Version, str] = {}
    for text in sorted(found, key=lambda v: (parse_version(v) or _ZERO, v)):
        distinct.setdefault(parse_version(text) or _ZERO, text)  # "1.0" and "1.0.0" are one fix
    return tuple(distinct.values())
