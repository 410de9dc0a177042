"""Findings about what could not be analysed: fail closed, never "clean".

An archive the reader could not read completely (truncated, corrupt, over a
limit, with paths that escape it) is high: whatever was not read may be the
payload.  The exception is an archive nested under tests or docs (hostile
archives are common test fixtures of archive libraries): low.  Links, devices
and format confusion are reported at lower levels.
Python that does not parse is low; code that looks like Python 2 (common in old
sdists) is only informational.  Broken or oversized Python is a way to slip past
AST rules, so the text of a shipped file that does not parse is searched for
what malware combines: a network capability and two of credential stores,
processes and dynamic code is medium in a library module (a warning sign scoring
combines) and high in setup.py or a package's ``__init__``/``__main__``, whose
code runs on install or import.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

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
from assay.vetting.pysource import MAX_SOURCE_BYTES, Unparsed
from assay.vetting.rules.base import (
    IMPORT,
    INSTALL,
    INTEGRITY,
    LIBRARY,
    OBFUSCATION,
    PACKAGE,
    SENSITIVE,
    FileContext,
    PackageFinding,
    Rule,
    file_place,
    not_installed,
)

ARCHIVE_INCOMPLETE = "archive-incomplete"
ARCHIVE_ANOMALY = "archive-anomaly"
PYTHON_UNPARSED = "python-unparsed"

_ZIP = re.compile(r"\bzip\b")  # zip against tar (not gzip: a proxy may have undone it)
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
    elif problem.kind == FORMAT_CONFUSION and not problem.path and _ZIP.search(problem.detail):
        # no packaging tool writes a zip named .tar.gz (or a tar named .whl): the distribution
        # is disguised; a plain tar named .tar.gz (a proxy undid the gzip) stays medium
        rule, level = ARCHIVE_ANOMALY, Level.HIGH
        why = "the distribution file is not what its name says"
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


# byte tokens of capabilities, searched only in shipped .py files that do not parse
UNPARSED_MARKERS: dict[str, tuple[bytes, ...]] = {
    "credential store": (
        *(b"Login Data", b"Local State", b"leveldb", b"wallet.dat", b"Exodus", b"/.ssh/"),
        *(b"Web Data", b"discord_token", b"\\Cookies", b"/.aws/credentials", b"browser_cookie3"),
    ),
    "network": (b"requests.", b"urlopen", b"socket.socket", b"http.client", b"webhook"),
    "process": (b"subprocess", b"os.system", b"popen", b"os.spawn", b"os.startfile"),
    "dynamic code": (b"exec(", b"eval(", b"b64decode", b"marshal.loads", b"__import__("),
}


class _ShippedUnparsed(Rule):
    """Text rules for shipped Python files that ``ast.parse`` rejected."""

    def applies_to(self, path: str) -> bool:
        return path.endswith(".py") and not not_installed(path)


class UnparsedCapabilities(_ShippedUnparsed):
    """A shipped Python file that does not parse but names network and other capabilities."""

    rule_id = "python-unparsed-suspicious"
    severity = Level.MEDIUM
    category = SENSITIVE
    explanation = (
        "Python that does not parse (so was not analysed) names network and process, "
        "code or credential-store capabilities"
    )

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        if not context.unparsed:
            return
        data = context.data
        seen = [k for k, tokens in UNPARSED_MARKERS.items() if any(t in data for t in tokens)]
        if "network" not in seen or len(seen) < 3:
            return
        entry = context.basename in {"__init__.py", "__main__.py"}
        where = INSTALL if context.install_time else IMPORT if entry else LIBRARY
        level = Level.HIGH if where != LIBRARY else Level.MEDIUM
        detail = ", ".join(seen)
        yield self.finding(
            context, 0, where=where, severity=level, detail=detail, snippet=context.basename
        )


# decoded data run as code, or an obfuscator's signature, read from the text of the file
UNPARSED_HIDING = re.compile(
    rb"\b(exec|eval|marshal\.loads)\s*\(\s*[\w.]*(b64decode|decompress|unhexlify|fromhex)\s*\("
    rb"|^\s*#[^\n]{0,40}\bobfuscated\s+(by|with)\b"
    rb"|^__(obfuscator|obfuscated_by|obf)__\s*=",
    re.IGNORECASE | re.MULTILINE,
)


class UnparsedHiding(_ShippedUnparsed):
    """A shipped Python file that does not parse and runs decoded code or says it is obfuscated."""

    rule_id = "obfuscation-unparsed"
    severity = Level.HIGH
    category = OBFUSCATION
    explanation = (
        "Python that does not parse (so was not analysed) runs decoded data as code or "
        "carries an obfuscator's signature"
    )

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        if not context.unparsed:
            return
        found = UNPARSED_HIDING.search(context.data[:MAX_SOURCE_BYTES])
        if found is None:
            return
        line = context.data.count(b"\n", 0, found.start()) + 1
        where = file_place(context)
        detail = found.group(0).decode("utf-8", "replace").strip()[:60]
        yield self.finding(context, line, where=where, detail=detail, snippet=detail)


RULES: tuple[Rule, ...] = (UnparsedCapabilities(), UnparsedHiding())
