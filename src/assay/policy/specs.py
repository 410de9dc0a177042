"""Allow / deny list entries: a project name and an optional version specifier."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName

from assay.advisories.matching import parse_version


@dataclass(frozen=True, slots=True)
class PackageSpec:
    """A name and optional version specifier: ``requests``, ``urllib3<2``."""

    name: NormalizedName
    specifier: SpecifierSet | None = None

    def matches(self, version: str | None) -> bool | None:
        """True/False, or None when a specifier is given but the version is unknown."""
        if self.specifier is None:
            return True
        if version is None:
            return None
        parsed = parse_version(version)
        return parsed is not None and self.specifier.contains(parsed, prereleases=True)

    def __str__(self) -> str:
        return self.name + (str(self.specifier) if self.specifier is not None else "")
