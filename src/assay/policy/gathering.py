"""Gathering the policy's facts about every package of an environment (orchestration).

Each fact comes from one source, passed in as a port or as :class:`Missing`:

* ``vulnerabilities`` -- the local advisory database (an ``AdvisorySource``),
  through the :class:`~assay.advisories.audit.Auditor`: one
  :class:`VulnerabilityFact` per alias group;
* ``license_expression`` -- the package's declared license, when the source
  gives it as (or it maps to) an SPDX expression;
* ``release_time``, ``latest_release_time``, ``yanked``, ``project_status`` --
  the configured package index (:class:`ProjectMetadataSource`), asked for each
  project once, ``workers`` projects at a time; when the index turns out to be
  unreachable, the remaining projects are not asked;
* ``vet_score`` / ``vet_label`` / ``vet_reasons`` -- cached ``assay vet`` results
  (:class:`VetResultSource`), by archive sha256, else by name and version;
* ``squat_findings`` -- typosquat checks of the name over the popular-packages
  list (:class:`~assay.vetting.names.NameIndex`), findings of ``squat_level``
  and above;
* ``pinned``, ``hashed``, ``direct`` -- the environment itself (``hashed``
  counts archive hashes from a lock, an install report, conda metadata or an
  SBOM; an installed RECORD file's hash is not an archive hash).

A fact that cannot be gathered stays ``None`` in the :class:`PackageFacts` and
is listed in :attr:`GatheredFacts.unavailable` with its cause and packages --
never replaced by a guess such as "no vulnerabilities".  Entries with the same
name and version (one pin on several platforms of a lock) give one
:class:`PackageFacts`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import cast

from packaging.utils import NormalizedName

from assay.advisories.audit import Auditor, Finding
from assay.advisories.ports import AdvisorySource
from assay.advisories.severity import Level
from assay.environments.model import Ecosystem, Environment, HashSource, OriginKind, Package
from assay.policy.fact_sources import (
    IndexUnavailableError,
    IndexUnreachableError,
    Missing,
    ProjectMetadataSource,
    ProjectReleases,
    VetResultSource,
)
from assay.policy.facts import PackageFacts, VulnerabilityFact
from assay.vetting.names import NameIndex

INDEX_FACTS = ("release_time", "latest_release_time", "yanked", "project_status")
ARCHIVE_HASHES = frozenset(
    {HashSource.LOCK, HashSource.REPORT, HashSource.CONDA_META, HashSource.SBOM}
)
_ASKS_INDEX = frozenset({OriginKind.INDEX, OriginKind.UNKNOWN})
CONDA = "conda package (not in the PyPI ecosystem)"
UNPINNED = "unpinned (no exact version)"


@dataclass(frozen=True, slots=True)
class UnavailableFact:
    """One fact that could not be gathered for ``packages`` (``name==version``), and why."""

    fact: str  # a PackageFacts field name
    cause: str
    packages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GatheredFacts:
    """The facts of every package, and every fact that could not be gathered."""

    packages: tuple[PackageFacts, ...]
    unavailable: tuple[UnavailableFact, ...]

    def unavailable_for(self, fact: str) -> tuple[UnavailableFact, ...]:
        return tuple(u for u in self.unavailable if u.fact == fact)


class _Missing:
    """Collects (fact, cause) -> packages in the order first seen."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, str], list[str]] = {}

    def add(self, facts: Iterable[str], cause: str, label: str) -> None:
        for fact in facts:
            self._found.setdefault((fact, cause), []).append(label)

    def result(self) -> tuple[UnavailableFact, ...]:
        return tuple(
            UnavailableFact(fact, cause, tuple(labels))
            for (fact, cause), labels in self._found.items()
        )


def _label(package: Package) -> str:
    return (
        f"{package.canonical_name}=={package.version_raw}"
        if package.version_raw
        else (f"{package.canonical_name} (unpinned)")
    )


def _unique(env: Environment) -> list[tuple[Package, list[Package]]]:
    """One representative per (ecosystem, name, version), with every entry it stands for."""
    groups: dict[tuple[str, str, str | None], tuple[Package, list[Package]]] = {}
    for package in env.packages:
        key = (package.ecosystem.value, package.canonical_name, package.version_raw)
        groups.setdefault(key, (package, []))[1].append(package)
    return list(groups.values())


def _direct(entries: Sequence[Package]) -> bool | None:
    known = [p.requested for p in entries if p.requested is not None]
    return any(known) if known else None


def _sha256s(entries: Sequence[Package]) -> tuple[str, ...]:
    return tuple(sorted({h.value for p in entries for h in p.hashes if h.algorithm == "sha256"}))


def _base(package: Package, entries: Sequence[Package]) -> PackageFacts:
    spdx = package.license.spdx if package.license is not None else None
    return PackageFacts(
        name=cast(NormalizedName, package.canonical_name),
        version=package.version_raw,
        license_expression=spdx or None,
        pinned=package.pinned,
        hashed=all(p.hashes and p.hash_source in ARCHIVE_HASHES for p in entries),
        direct=_direct(entries),
    )


def vulnerability_fact(finding: Finding) -> VulnerabilityFact:
    """What the policy engine needs of one audit finding (one alias group)."""
    return VulnerabilityFact(
        id=finding.id,
        aliases=finding.ids[1:],
        severity=finding.severity.level.label(),
        score=finding.severity.score,
        fixed_versions=finding.fixed_versions,
        summary=finding.summary,
    )


def _vulnerabilities(auditor: Auditor, package: Package) -> tuple[VulnerabilityFact, ...]:
    return tuple(vulnerability_fact(f) for f in auditor.findings_for(package))


def _ask_index(
    source: ProjectMetadataSource, names: Sequence[str], workers: int
) -> dict[str, ProjectReleases | str | None]:
    """name -> releases, None (not on the index) or the cause it could not be asked."""
    stopped: list[str] = []
    lock = threading.Lock()

    def one(name: str) -> ProjectReleases | str | None:
        if stopped:
            return stopped[0]
        try:
            return source.releases(name)
        except IndexUnreachableError as exc:
            with lock:
                if not stopped:
                    stopped.append(exc.message)
                return stopped[0]
        except IndexUnavailableError as exc:
            return exc.message

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return dict(zip(names, pool.map(one, names), strict=True))


class FactGatherer:
    """Gathers :class:`PackageFacts` for environments from the sources it is given."""

    def __init__(
        self,
        *,
        advisories: AdvisorySource | Missing,
        index: ProjectMetadataSource | Missing,
        vet: VetResultSource | Missing,
        names: NameIndex | Missing,
        workers: int = 16,
        squat_level: Level = Level.HIGH,
    ) -> None:
        self._auditor = advisories if isinstance(advisories, Missing) else Auditor(advisories)
        self._index = index
        self._vet = vet
        self._names = names
        self._workers = workers
        self._squat_level = squat_level

    def gather(self, env: Environment) -> GatheredFacts:
        missing = _Missing()
        groups = _unique(env)
        releases = self._releases(groups)
        gathered: list[PackageFacts] = []
        for package, entries in groups:
            facts = _base(package, entries)
            label = _label(package)
            if facts.license_expression is None:
                cause = (
                    "the source records no license"
                    if package.license is None
                    else ("the declared license is not an SPDX expression")
                )
                missing.add(["license_expression"], cause, label)
            facts = self._add_vulnerabilities(facts, package, missing, label)
            facts = self._add_index(facts, package, releases, missing, label)
            facts = self._add_vet(facts, package, entries, missing, label)
            facts = self._add_squat(facts, package, missing, label)
            gathered.append(facts)
        return GatheredFacts(packages=tuple(gathered), unavailable=missing.result())

    def _releases(
        self, groups: Sequence[tuple[Package, list[Package]]]
    ) -> dict[str, ProjectReleases | str | None]:
        if isinstance(self._index, Missing):
            return {}
        names = sorted(
            {
                p.canonical_name
                for p, entries in groups
                if p.ecosystem is Ecosystem.PYPI
                and any(e.origin.kind in _ASKS_INDEX for e in entries)
            }
        )
        return _ask_index(self._index, names, self._workers)

    def _add_vulnerabilities(
        self, facts: PackageFacts, package: Package, missing: _Missing, label: str
    ) -> PackageFacts:
        if isinstance(self._auditor, Missing):
            missing.add(["vulnerabilities"], self._auditor.cause, label)
        elif package.ecosystem is Ecosystem.CONDA:
            missing.add(["vulnerabilities"], CONDA, label)
        elif package.version_raw is None:
            missing.add(["vulnerabilities"], UNPINNED, label)
        else:
            return replace(facts, vulnerabilities=_vulnerabilities(self._auditor, package))
        return facts

    def _add_index(
        self,
        facts: PackageFacts,
        package: Package,
        releases: dict[str, ProjectReleases | str | None],
        missing: _Missing,
        label: str,
    ) -> PackageFacts:
        if isinstance(self._index, Missing):
            missing.add(INDEX_FACTS, self._index.cause, label)
            return facts
        if package.ecosystem is Ecosystem.CONDA:
            missing.add(INDEX_FACTS, CONDA, label)
            return facts
        if package.canonical_name not in releases:
            cause = f"installed from {package.origin.describe()}, not from the package index"
            missing.add(INDEX_FACTS, cause, label)
            return facts
        project = releases[package.canonical_name]
        if isinstance(project, str) or project is None:
            cause = project if isinstance(project, str) else "not on the configured package index"
            missing.add(INDEX_FACTS, cause, label)
            return facts
        facts = replace(
            facts,
            latest_release_time=project.latest_upload,
            project_status=project.status,
            project_status_reason=project.status_reason,
        )
        if project.latest_upload is None:
            missing.add(["latest_release_time"], "the index gives no upload times", label)
        if package.version_raw is None:
            missing.add(["release_time", "yanked"], UNPINNED, label)
            return facts
        release = project.release(package.version_raw)
        if release is None:
            missing.add(
                ["release_time", "yanked"], "the index lists no files of this version", label
            )
            return facts
        if release.upload_time is None:
            missing.add(["release_time"], "the index gives no upload times", label)
        return replace(
            facts,
            release_time=release.upload_time,
            yanked=release.yanked,
            yanked_reason=release.yanked_reason,
        )

    def _add_vet(
        self,
        facts: PackageFacts,
        package: Package,
        entries: Sequence[Package],
        missing: _Missing,
        label: str,
    ) -> PackageFacts:
        if isinstance(self._vet, Missing):
            missing.add(["vet_score"], self._vet.cause, label)
            return facts
        if package.version_raw is None:
            missing.add(["vet_score"], UNPINNED, label)
            return facts
        result = self._vet.lookup(package.canonical_name, package.version_raw, _sha256s(entries))
        if result is None:
            missing.add(["vet_score"], "not vetted: no cached 'assay vet' result", label)
            return facts
        return replace(
            facts, vet_score=result.score, vet_label=result.label, vet_reasons=result.reasons
        )

    def _add_squat(
        self, facts: PackageFacts, package: Package, missing: _Missing, label: str
    ) -> PackageFacts:
        if isinstance(self._names, Missing):
            missing.add(["squat_findings"], self._names.cause, label)
            return facts
        if package.ecosystem is Ecosystem.CONDA:
            missing.add(["squat_findings"], CONDA, label)
            return facts
        found = self._names.check(package.name)
        return replace(
            facts,
            squat_findings=tuple(f.describe() for f in found if f.severity >= self._squat_level),
        )
