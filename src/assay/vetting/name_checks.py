"""Name checks for one file: its project name and the names of the projects it depends on.

:class:`NameChecker` runs, once per project, the typosquat checks of
:class:`assay.vetting.names.NameIndex` and the slopsquat signals of
:func:`assay.vetting.slopsquat.vet_upstream` (when a project source is given),
and checks every *declared dependency* against the popular list: a package
that requires a look-alike of a popular project (``aiohappyeyeball`` for
``aiohappyeyeballs``) pulls the look-alike in on install, a common way to keep
the payload out of the package a reviewer reads.  Such a dependency is medium:
a review, not a block, since new projects legitimately depend on young packages
the popular list does not know yet.

The dependency names come from :attr:`Identity.requires`
(:func:`assay.vetting.declared.declared_dependencies`).
"""

from __future__ import annotations

from collections.abc import Sequence

from assay.advisories.severity import Level
from assay.vetting.names import NameFinding, NameIndex
from assay.vetting.slopsquat import UNAVAILABLE, ProjectInfoSource, vet_upstream
from assay.vetting.verdict import (
    CHECKED,
    DEPENDENCY_LOOKALIKE,
    NOT_RUN,
    OFFLINE,
    Identity,
    NameCheck,
)

MAX_DEPENDENCIES = 200  # more declared dependencies than this are not checked one by one


def dependency_findings(
    index: NameIndex, own_name: str | None, dependencies: Sequence[str]
) -> list[NameFinding]:
    """A finding for each declared dependency that is a look-alike of a popular project."""
    findings: list[NameFinding] = []
    for dependency in dependencies[:MAX_DEPENDENCIES]:
        if dependency == own_name or index.is_popular(dependency):
            continue
        for finding in index.check(dependency):
            if finding.severity >= Level.HIGH and finding.target:
                findings.append(
                    NameFinding(
                        name=dependency,
                        rule=DEPENDENCY_LOOKALIKE,
                        severity=Level.MEDIUM,
                        target=finding.target,
                        message=(
                            f"declares a dependency on {dependency!r}, a look-alike of the "
                            f"popular project {finding.target!r} ({finding.rule}): installing "
                            "this package installs the look-alike"
                        ),
                    )
                )
                break
    return findings


class NameChecker:
    """Name checks for each project once: the popular list, then the upstream index."""

    def __init__(self, index: NameIndex | None, source: ProjectInfoSource | None, why: str) -> None:
        self.index = index
        self.source = source
        self.why = why  # why checks cannot run ("" when they can)
        self._done: dict[tuple[str, tuple[str, ...]], NameCheck] = {}

    def check(self, identity: Identity) -> NameCheck:
        name = identity.name
        if name is None:
            return NameCheck((), NOT_RUN, "name checks not run: the project name is unknown")
        if self.index is None:
            return NameCheck((), NOT_RUN, self.why)
        key = (name, identity.requires)
        if key not in self._done:
            found = self.index.check(name) + vet_upstream(name, self.source, self.index)
            found += dependency_findings(self.index, name, identity.requires)
            found.sort(key=lambda f: (-f.severity, f.rule))
            missing = [f for f in found if f.rule == UNAVAILABLE]
            if missing:
                detail = missing[0].message.partition("(")[2].rstrip(")") or "not asked"
                note = f"offline: slopsquat signals unavailable ({detail})"
                self._done[key] = NameCheck(tuple(found), OFFLINE, note)
            else:
                self._done[key] = NameCheck(tuple(found), CHECKED)
        return self._done[key]


__all__ = ["DEPENDENCY_LOOKALIKE", "NameChecker", "dependency_findings"]
