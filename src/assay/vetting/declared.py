"""The projects a package always installs with it, from metadata already in memory (pure).

``Requires-Dist`` of core metadata (``METADATA`` / ``PKG-INFO``), ``requires.txt``
of an sdist's egg-info, or ``[project].dependencies`` of ``pyproject.toml``;
requirements that only an extra asks for are left out; other markers are not
evaluated (every platform branch is installed somewhere).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from assay.vetting.archive_model import ArchiveMember

_METADATA_FILES = ("PKG-INFO", "METADATA")
_HEADER_BYTES = 256 * 1024


def _requirement_name(text: str) -> str | None:
    """The project a requirement names, unless only an extra asks for it."""
    line = text.split("#", 1)[0].strip()
    if not line or line.startswith(("-", "[")):
        return None
    try:
        requirement = Requirement(line)
    except InvalidRequirement:
        return None
    if requirement.marker is not None and "extra" in str(requirement.marker):
        return None  # optional: installed only when a user asks for the extra
    return canonicalize_name(requirement.name)


def _from_metadata(data: bytes) -> list[str]:
    found: list[str] = []
    for line in data[:_HEADER_BYTES].decode("utf-8", "replace").splitlines():
        if not line.strip():
            break  # the header block ends at the first empty line
        key, colon, value = line.partition(":")
        if colon and key.strip().lower() == "requires-dist":
            found.append(value)
    return found


def _from_pyproject(data: bytes) -> list[str]:
    try:
        project = tomllib.loads(data.decode("utf-8")).get("project")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError, MemoryError):
        return []  # hostile nesting is not a dependency list
    dependencies = project.get("dependencies") if isinstance(project, dict) else None
    if not isinstance(dependencies, list):
        return []
    return [d for d in dependencies if isinstance(d, str)]


def declared_dependencies(members: Iterable[ArchiveMember]) -> tuple[str, ...]:
    """Canonical names of the projects the package declares it needs (sorted, unique)."""
    lines: list[str] = []
    for member in members:
        if "!" in member.path:
            continue  # a nested archive is not the package itself
        parts = member.path.split("/")
        if len(parts) > 3:
            continue
        if parts[-1] in _METADATA_FILES:
            lines.extend(_from_metadata(member.data))
        elif parts[-1] == "requires.txt" and len(parts) >= 2 and parts[-2].endswith(".egg-info"):
            text = member.data[:_HEADER_BYTES].decode("utf-8", "replace")
            lines.extend(text.split("\n[", 1)[0].splitlines())  # [extra] sections follow
        elif parts[-1] == "pyproject.toml" and len(parts) <= 2:
            lines.extend(_from_pyproject(member.data))
    names = {name for line in lines if (name := _requirement_name(line))}
    return tuple(sorted(names))
