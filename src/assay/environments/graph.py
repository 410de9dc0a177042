"""Dependency edges from ``Requires-Dist`` lines, evaluated with markers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from packaging.markers import UndefinedComparison, UndefinedEnvironmentName, default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name


def marker_environment(python_version: str | None) -> dict[str, str]:
    """The host's marker environment with the target's Python version, when known."""
    env = dict(default_environment())
    if python_version:
        parts = python_version.split(".")
        env["python_version"] = ".".join(parts[:2])
        env["python_full_version"] = python_version if len(parts) >= 3 else python_version + ".0"
    return env


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
    wanted_extras = [""] + [canonicalize_name(e) for e in extras]
    names: set[str] = set()
    for line in requires:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is not None:
            try:
                applies = any(
                    req.marker.evaluate({**environment, "extra": extra}) for extra in wanted_extras
                )
            except (UndefinedComparison, UndefinedEnvironmentName):
                applies = True
            if not applies:
                continue
        names.add(canonicalize_name(req.name))
    return tuple(sorted(names))
