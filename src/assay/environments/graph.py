"""Dependency edges from ``Requires-Dist`` lines, evaluated with markers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from packaging.markers import (
    InvalidMarker,
    Marker,
    UndefinedComparison,
    UndefinedEnvironmentName,
    default_environment,
)
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

_SPEC = r"(?:===|==|!=|<=|>=|~=|<|>)\s*[A-Za-z0-9.*+!_-]+"
_SIMPLE = re.compile(
    r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*"  # name
    r"(?:\[[A-Za-z0-9._,\s-]*\])?\s*"  # extras
    rf"(?:\(?\s*{_SPEC}(?:\s*,\s*{_SPEC})*\s*\)?)?\s*"  # specifiers, optionally in parentheses
)


def marker_environment(python_version: str | None) -> dict[str, str]:
    """The host's marker environment with the target's Python version, when known."""
    env: dict[str, str] = {key: str(value) for key, value in default_environment().items()}
    if python_version:
        parts = python_version.split(".")
        env["python_version"] = ".".join(parts[:2])
        env["python_full_version"] = python_version if len(parts) >= 3 else python_version + ".0"
    return env


@lru_cache(maxsize=16384)
def _split(line: str) -> tuple[str, Marker | None] | None:
    """(canonical name, marker) of one requirement line; None when it does not parse.

    Plain ``name[extras] specifiers ; marker`` lines (almost all of them) take a
    fast path; direct references (``@``) and anything unusual go through the
    full PEP 508 parser.
    """
    simple = _SIMPLE.fullmatch(line.partition(";")[0])
    if simple is not None and "@" not in line:
        _, sep, marker_text = line.partition(";")
        if not sep:
            return canonicalize_name(simple.group(1)), None
        try:
            return canonicalize_name(simple.group(1)), Marker(marker_text.strip())
        except InvalidMarker:
            return None
    try:
        req = Requirement(line)
    except InvalidRequirement:
        return None
    return canonicalize_name(req.name), req.marker


@lru_cache(maxsize=16384)
def _applies(
    marker: Marker, environment: tuple[tuple[str, str], ...], extras: tuple[str, ...]
) -> bool:
    env = dict(environment)
    try:
        return any(marker.evaluate({**env, "extra": extra}) for extra in extras)
    except (UndefinedComparison, UndefinedEnvironmentName):
        return True


def requirement_edges(
    requires: Iterable[str],
    environment: Mapping[str, str],
    extras: Iterable[str] = (),
) -> tuple[str, ...]:
    """Canonical names required by ``requires`` under ``environment``.

    Requirements whose markers are false, or which only apply to extras not
    requested, are left out.  Unparseable lines are left out too: the caller's
    METADATA is the installed truth and pip would have refused them at install.
    """
    wanted_extras = ("", *sorted(canonicalize_name(e) for e in extras))
    frozen_env = tuple(sorted(environment.items()))
    names: set[str] = set()
    for line in requires:
        split = _split(line)
        if split is None:
            continue
        name, marker = split
        if marker is None or _applies(marker, frozen_env, wanted_extras):
            names.add(name)
    return tuple(sorted(names))
