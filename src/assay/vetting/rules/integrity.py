"""Findings about what could not be analysed: fail closed, never "clean".

An archive the reader could not read completely (truncated, corrupt, over a
limit, with paths that escape it) is high: whatever was not read may be the
payload.  The exception is an archive nested under tests or docs (hostile
archives are common test fixtures of archive libraries): low.  Links, devices
and format confusion are reported at lower levels.
Python that does not parse is low; code that looks like Python 2 (common in old
sdists) is only informational.
"""

from __future__ import annotations

from assay.advisories.severity import Level
from assay.vetting.archive_model import (
    DEVICE,
    DUPLICATE_PATH,
    FORMAT_CONFUSION,
    HARDLINK,
    SYMLINK,
    ArchiveProblem,
    ArchiveReport,
)
from assay.vetting.pysource import Unparsed
from assay.vetting.rules.base import INTEGRITY, PACKAGE, PackageFinding, not_installed

ARCHIVE_INCOMPLETE = "archive-incomplete"
ARCHIVE_ANOMALY = "archive-anomaly"
PYTHON_UNPARSED = "python-unparsed"

_ANOMALY_LEVELS = {
    SYMLINK: Level.LOW,
    HARDLINK: Level.LOW,
    DUPLICATE_PATH: Level.LOW,
    DEVICE: Level.MEDIUM,
    FORMAT_CONFUSION: Level.MEDIUM,
}


def archive_findings(report: ArchiveReport) -> list[PackageFinding]:
    """One finding per archive problem (incomplete ones are high)."""
    return [_problem(report.name, p) for p in report.problems]


def _problem(name: str, problem: ArchiveProblem) -> PackageFinding:
    outer, nested, _ = problem.path.partition("!")
    if problem.makes_incomplete and nested and not_installed(outer):
        rule, level = ARCHIVE_INCOMPLETE, Level.LOW  # a hostile archive kept as test data
        why = "an archive among the tests or docs could not be read completely"
    elif problem.makes_incomplete:
        rule, level = ARCHIVE_INCOMPLETE, Level.HIGH
        why = "the archive could not be read completely, so it was not fully analysed"
    else:
        rule, level = ARCHIVE_ANOMALY, _ANOMALY_LEVELS.get(problem.kind, Level.LOW)
        why = "the archive has an unusual entry"
    return PackageFinding(
        file=problem.path or name,
        line=0,
        rule=rule,
        severity=level,
        category=INTEGRITY,
        where=PACKAGE,
        snippet=problem.kind,
        explanation=f"{why}: {problem.describe()}",
    )


def unparsed_finding(path: str, unparsed: Unparsed) -> PackageFinding:
    """A Python file that ast.parse could not read."""
    level = Level.NONE if unparsed.python2 else Level.LOW
    note = " (looks like Python 2)" if unparsed.python2 else ""
    return PackageFinding(
        file=path,
        line=unparsed.line,
        rule=PYTHON_UNPARSED,
        severity=level,
        category=INTEGRITY,
        where=PACKAGE,
        snippet="",
        explanation=f"Python source not analysed: {unparsed.reason}{note}",
    )
