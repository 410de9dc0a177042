"""The verdict of ``assay vet`` on one file: package analysis and name checks combined (pure).

The package analysis (:func:`assay.vetting.engine.analyse_archive`) scores what
the code could do; the name checks (:mod:`assay.vetting.names`, typosquats of
popular projects, and :mod:`assay.vetting.slopsquat`, what the upstream index
says) score what the *name* suggests.  :func:`decide` combines them, with every
weight a constant of this module:

* a name finding raises the score to at least its severity's points
  (:data:`assay.vetting.scoring.SEVERITY_POINTS`: low 2, medium 4, high 7,
  critical 9): a look-alike of a popular name (``name-transposition``,
  ``name-homoglyph``, ...) is flagged on its own at the default threshold;
* slopsquat signals (``upstream-*``, ``slopsquat-plausible-name``) describe the
  project's history on the index, not the file, so they count at most
  :data:`SLOPSQUAT_CAP` (medium): a private package that is not on the index is
  not flagged for that alone;
* a look-alike name (high or worse) on a package whose code scores at least
  :data:`RISKY_CODE` (medium) is the typosquat pattern: at least
  :data:`LOOKALIKE_WITH_CODE` (critical);
* a declared dependency that is a look-alike of a popular name
  (``dependency-lookalike``) is medium and never more: the popular list lags
  the index (in the benchmark's own top-500 corpus, ``httpx2``, a new and
  legitimate dependency of several popular projects, looks like ``httpx``), so
  it asks for a review, not a block;
* a project that is missing from the index, very new or a plausible invented
  name, with code of at least :data:`RISKY_CODE`, gets :data:`NEW_PROJECT_BONUS`
  on top of the code's score;
* ``upstream-unavailable`` (offline) has severity *unknown*: it never changes a
  score, and the verdict says that the slopsquat signals were not checked.

Nothing here reads files or the network; :func:`identify` reads metadata from
members already in memory.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from assay.advisories.severity import Level
from assay.vetting import slopsquat
from assay.vetting.archive_model import CORRUPT, ArchiveMember, ArchiveProblem, ArchiveReport
from assay.vetting.declared import declared_dependencies
from assay.vetting.engine import VetReport, analyse_members, package_kind
from assay.vetting.names import NameFinding
from assay.vetting.rules import PackageFinding
from assay.vetting.scoring import ADVICE, DEFAULT_THRESHOLD, LABELS, SEVERITY_POINTS, label_for

SLOPSQUAT_CAP = 4.0  # the most a slopsquat signal alone adds (medium)
RISKY_CODE = 4.0  # code at or above this (medium) combines with a suspicious name
LOOKALIKE_WITH_CODE = 9.0  # a look-alike name carrying risky code: critical
NEW_PROJECT_BONUS = 1.0  # a new, missing or invented-looking project carrying risky code
DEPENDENCY_LOOKALIKE = "dependency-lookalike"  # the rule of assay.vetting.name_checks
_NEW_PROJECT = frozenset({slopsquat.MISSING, slopsquat.YOUNG, slopsquat.PLAUSIBLE_UNKNOWN})

# --fail-on LABEL: the lowest score with that label
LABEL_FLOORS: dict[str, float] = {"low": 0.1, **{name: floor for floor, name in LABELS}}

# Name-check status (the JSON "name_checks.status" values)
CHECKED = "checked"  # popular list compared and the upstream index asked
OFFLINE = "offline"  # popular list compared; slopsquat signals not checked
NOT_RUN = "not-run"  # no popular list or no project name: no name check at all


@dataclass(frozen=True, slots=True)
class Identity:
    """The project a file belongs to, as far as its name or metadata says."""

    name: str | None  # PEP 503 canonical
    version: str | None  # PEP 440 normal form when valid, else as written
    kind: str  # "wheel", "sdist", "egg", "directory" or "other"
    requires: tuple[str, ...] = ()  # canonical names of the declared dependencies


@dataclass(frozen=True, slots=True)
class NameCheck:
    """The name findings for one project, and whether the checks could run."""

    findings: tuple[NameFinding, ...]
    status: str  # CHECKED, OFFLINE or NOT_RUN
    note: str = ""  # why something was not checked ("" when everything ran)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Everything ``assay vet`` reports about one file (or directory)."""

    target: str  # the TARGET as given
    file: str  # the file's label: its path, or the file name of a fetched distribution
    origin: str  # "file", "directory" or the URL it was fetched from
    sha256: str | None  # of the archive bytes (None for a directory)
    identity: Identity
    score: float
    label: str
    code_score: float  # the package analysis alone
    findings: tuple[PackageFinding, ...]
    reasons: tuple[PackageFinding, ...]
    names: NameCheck
    name_reasons: tuple[NameFinding, ...]  # the name findings that raised the score
    explanation: str
    archive: ArchiveReport | None
    threshold: float = DEFAULT_THRESHOLD

    @property
    def flagged(self) -> bool:
        return self.score >= self.threshold

    def reason_lines(self) -> tuple[str, ...]:
        """One line per reason: what the result cache keeps."""
        return tuple(f.describe() for f in self.name_reasons) + tuple(
            f.describe() for f in self.reasons
        )


def fail_on_threshold(text: str) -> float | None:
    """A --fail-on value (a score 0-10 or a label) as a score; None when invalid."""
    lowered = text.strip().lower()
    if lowered in LABEL_FLOORS:
        return LABEL_FLOORS[lowered]
    try:
        value = float(lowered)
    except ValueError:
        return None
    return value if 0.0 <= value <= 10.0 else None


def name_points(finding: NameFinding) -> float:
    """What one name finding is worth (slopsquat signals capped at SLOPSQUAT_CAP)."""
    points = SEVERITY_POINTS.get(finding.severity, 0.0)
    return min(points, SLOPSQUAT_CAP) if finding.rule in slopsquat.RULES else points


def _name_effect(
    code: float, findings: Sequence[NameFinding]
) -> tuple[float, str, tuple[NameFinding, ...]]:
    """(score from the name, why, the findings that produced it)."""
    best: tuple[float, str, tuple[NameFinding, ...]] = (0.0, "", ())
    alone = max((name_points(f) for f in findings), default=0.0)
    if alone > 0:
        used = tuple(f for f in findings if name_points(f) == alone)
        best = (alone, _describe(used[0]), used)
    lookalike = tuple(
        f for f in findings if f.rule not in slopsquat.RULES and f.severity >= Level.HIGH
    )
    if lookalike and code >= RISKY_CODE and best[0] < LOOKALIKE_WITH_CODE:
        why = f"{_describe(lookalike[0])}, and its code has {label_for(code)} findings"
        best = (LOOKALIKE_WITH_CODE, why + " (the typosquat pattern)", lookalike)
    new = tuple(f for f in findings if f.rule in _NEW_PROJECT)
    if new and code >= RISKY_CODE and min(10.0, code + NEW_PROJECT_BONUS) > best[0]:
        why = f"{_describe(new[0])}, and its code has {label_for(code)} findings"
        best = (min(10.0, code + NEW_PROJECT_BONUS), why, new)
    return best


def _describe(finding: NameFinding) -> str:
    aim = f" imitates {finding.target}" if finding.target else ""
    what = "the dependency" if finding.rule == DEPENDENCY_LOOKALIKE else "the name"
    return f"{what} {finding.name!r}{aim} ({finding.rule}: {finding.message})"


def decide(
    report: VetReport,
    names: NameCheck,
    identity: Identity,
    *,
    target: str,
    file: str,
    origin: str,
    sha256: str | None,
    threshold: float = DEFAULT_THRESHOLD,
) -> Verdict:
    """Combine the package analysis and the name checks (see the module docstring)."""
    code = report.score
    raised, why, used = _name_effect(code, names.findings)
    score = round(max(code, raised), 1)
    label = label_for(score)
    if score > code:
        explanation = (
            f"Risk {score:.1f}/10 ({label}): {why}. {ADVICE[label]} "
            f"Package analysis alone: {report.explanation}"
        )
        name_reasons = used
    else:
        explanation = report.explanation
        name_reasons = ()
    if names.status != CHECKED and names.note:
        explanation += f" Note: {names.note}."
    return Verdict(
        target=target,
        file=file,
        origin=origin,
        sha256=sha256,
        identity=identity,
        score=score,
        label=label,
        code_score=code,
        findings=report.findings,
        reasons=report.reasons,
        names=names,
        name_reasons=name_reasons,
        explanation=explanation,
        archive=report.archive_report,
        threshold=threshold,
    )


def unanalysed(name: str, detail: str) -> VetReport:
    """The report for an archive whose analysis stopped: fail closed (archive-incomplete)."""
    problem = ArchiveProblem(CORRUPT, "", f"analysis stopped: {detail}")
    return analyse_members(name, [], ArchiveReport(name, None, 0, 0, (problem,)))


# -- which project a file belongs to ----------------------------------------------------------

_EGG = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-py\d[^-]*)?(-.+)?\.egg$", re.IGNORECASE)
_DIRECTORY = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._]*?)-(?P<version>\d[^-]*)$")
_METADATA_FILES = ("PKG-INFO", "METADATA")
_HEADER_BYTES = 64 * 1024


def normal_version(text: str) -> str:
    """PEP 440 normal form when valid, else the text as written."""
    try:
        return str(Version(text))
    except InvalidVersion:
        return text


def _from_filename(filename: str) -> tuple[str, str] | None:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        if base.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(base)
            return name, str(version)
        if base.endswith(".egg"):
            match = _EGG.match(base)
            return (match["name"], match["version"]) if match else None
        parsed_name, parsed_version = parse_sdist_filename(base)
        return parsed_name, str(parsed_version)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def _headers(data: bytes) -> tuple[str, str] | None:
    """Name and Version of core metadata (the header block only)."""
    found: dict[str, str] = {}
    for line in data[:_HEADER_BYTES].decode("utf-8", "replace").splitlines():
        if not line.strip():
            break
        key, colon, value = line.partition(":")
        if colon and key.strip().lower() in {"name", "version"}:
            found.setdefault(key.strip().lower(), value.strip())
    if found.get("name") and found.get("version"):
        return found["name"], found["version"]
    return None


def _pyproject(data: bytes) -> tuple[str, str] | None:
    try:
        project = tomllib.loads(data.decode("utf-8")).get("project")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError, MemoryError):
        return None
    if not isinstance(project, dict):
        return None
    name, version = project.get("name"), project.get("version")
    return (name, version) if isinstance(name, str) and isinstance(version, str) else None


def _from_members(members: Iterable[ArchiveMember]) -> tuple[str, str] | None:
    """Core metadata (shallowest first), else pyproject.toml [project] name and version."""
    candidates: list[tuple[int, int, ArchiveMember]] = []
    for member in members:
        if "!" in member.path:
            continue  # nested archives are not the package itself
        parts = member.path.split("/")
        if parts[-1] in _METADATA_FILES and len(parts) <= 3:
            candidates.append((len(parts), 0, member))
        elif parts[-1] == "pyproject.toml" and len(parts) <= 2:
            candidates.append((len(parts), 1, member))
    for _, kind, member in sorted(candidates, key=lambda c: (c[0], c[1], c[2].path)):
        found = _headers(member.data) if kind == 0 else _pyproject(member.data)
        if found is not None:
            return found
    return None


def identify(label: str, members: Sequence[ArchiveMember], *, directory: bool = False) -> Identity:
    """The project of a file: from its file name (what an index lists), else its metadata."""
    kind = "directory" if directory else package_kind(label)[0]
    found = None if directory else _from_filename(label)
    found = found or _from_members(members)
    if found is None and directory:
        match = _DIRECTORY.match(label.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1])
        found = (match["name"], match["version"]) if match else None
    requires = declared_dependencies(members)
    if found is None:
        return Identity(None, None, kind, requires)
    return Identity(canonicalize_name(found[0]), normal_version(found[1]), kind, requires)


def vet_members(
    label: str,
    members: Iterable[ArchiveMember],
    archive: Callable[[], ArchiveReport | None],
    check_names: Callable[[Identity], NameCheck],
    *,
    target: str,
    origin: str,
    sha256: str | None,
    threshold: float = DEFAULT_THRESHOLD,
) -> Verdict:
    """Read and analyse one file's members, then combine that with the name checks.

    ``archive`` gives the reader's report once every member was read.  An
    analysis that stops (a reader or rule error) is reported as an incomplete
    archive: fail closed, never "clean".
    """
    listed: list[ArchiveMember] = []
    try:
        listed.extend(members)
        report = analyse_members(label, listed, archive())
    except Exception as exc:  # noqa: BLE001 - fail closed: an analysis that stopped is a finding
        report = unanalysed(label, " ".join(f"{type(exc).__name__}: {exc}".split()))
    identity = identify(label, listed, directory=origin == "directory")
    return decide(
        report,
        check_names(identity),
        identity,
        target=target,
        file=label,
        origin=origin,
        sha256=sha256,
        threshold=threshold,
    )
