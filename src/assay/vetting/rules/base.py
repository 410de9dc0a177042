"""The shape every package rule shares: findings, the context a rule reads, the rule class.

A rule is a small class with a stable ``rule_id``, a default ``severity``, the
``category`` that scoring combines (network, process, dynamic-code, ...),
``applies_to(path)`` and ``analyse(context)`` yielding :class:`PackageFinding`.
Rules never read the disk or the network: everything is in the context.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from assay.advisories.severity import Level
from assay.vetting.pysource import Call, ModuleFacts

# Where code runs (scoring weighs them differently).
INSTALL = "install"  # setup.py, a custom build backend, a .pth file: runs on pip install
IMPORT = "import"  # module top level: runs when the package is imported
LIBRARY = "library"  # inside a function: runs only if something calls it
PACKAGE = "package"  # about files or the archive, not about code paths

# Categories scoring combines.
INSTALL_HOOK = "install-hook"
SETUP_CODE = "setup-code"  # setup.py calls of its own: context for a reviewer, never scored
RECON = "recon"  # host, user and network identity (what dependency-confusion probes send)
NETWORK = "network"
PROCESS = "process"
DYNAMIC_CODE = "dynamic-code"
LOCAL_CODE = "local-code"  # exec of a file shipped with the package (version files): not risky
SENSITIVE = "sensitive-read"
CLIPBOARD = "clipboard"
PERSISTENCE = "persistence"
OBFUSCATION = "obfuscation"
EXFILTRATION = "exfiltration"
SECOND_STAGE = "second-stage"
PAYLOAD = "payload"
INTEGRITY = "integrity"  # the archive or a file could not be fully analysed


@dataclass(frozen=True, slots=True, order=True)
class PackageFinding:
    """One observation: rule id, severity, file, line (0: the whole file), snippet, why."""

    file: str
    line: int
    rule: str
    severity: Level
    category: str
    where: str  # INSTALL, IMPORT, LIBRARY or PACKAGE
    snippet: str
    explanation: str

    def describe(self) -> str:
        at = f"{self.file}:{self.line}" if self.line else self.file
        return f"{at}: {self.severity.label()} {self.rule} [{self.where}]: {self.explanation}"


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """Facts about the whole archive that file rules need."""

    name: str
    kind: str  # "wheel", "sdist", "egg" or "other"
    pure: bool  # a wheel tagged py*-none-any (or an sdist: it should hold no binaries)
    paths: frozenset[str]  # every member path
    install_files: frozenset[str] = frozenset()  # code that runs on install or interpreter start
    # (path, function) for sdist modules setup.py imports and the functions it calls
    # from them ("" stands for the module's top level)
    setup_imports: frozenset[tuple[str, str]] = frozenset()
    own_files: int | None = None  # Python files outside tests, docs, ...: own_python_files()


@dataclass(frozen=True, slots=True)
class FileContext:
    """One member as a rule sees it; ``facts`` is set for parsed Python files."""

    path: str
    data: bytes
    package: PackageInfo
    facts: ModuleFacts | None = None
    unparsed: bool = False  # a .py file that ast.parse rejected: text rules read its lines

    @property
    def basename(self) -> str:
        return posixpath.basename(self.path)

    @property
    def install_time(self) -> bool:
        """setup.py, an in-tree build backend, a .pth file, sitecustomize (see the engine)."""
        return self.path in self.package.install_files

    def where(self, call: Call) -> str:
        if self.install_time:
            return INSTALL
        if not_installed(self.path):
            return LIBRARY
        reached = self.facts is not None and call.function in self.facts.reached
        imports = self.package.setup_imports
        if (self.path, "") in imports and (
            call.top_level or reached or (self.path, call.function or "") in imports
        ):
            return INSTALL  # a module setup.py imports: its top level and what setup.py calls
        return IMPORT if call.top_level or reached else LIBRARY

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


_NOT_INSTALLED = frozenset(
    {
        "test",
        "tests",
        "testing",
        "doc",
        "docs",
        "example",
        "examples",
        "benchmarks",
        "benchmark",
        "scripts",
        "tools",
        "ci",
        ".github",
        "dev",
    }
)


_SDIST_ROOT = re.compile(r"^[A-Za-z0-9_.\- ]+-\d[\w.+!]*$")


def not_installed(path: str) -> bool:
    """Tests, docs, examples, benchmarks, dev scripts: not imported as part of the package."""
    for index, part in enumerate(path.replace("!", "/").split("/")[:-1]):  # nested: every level
        if index == 0 and _SDIST_ROOT.match(part):
            continue  # an sdist's root directory (test-helper-1.0/) names the project
        name = part.lower().replace(" ", "_").replace("-", "_").lstrip("_")
        if name in _NOT_INSTALLED or name.startswith("test_") or name.endswith(("_tests", "_test")):
            return True
    return False


class Rule:
    """Base class: subclasses set the class attributes and implement :meth:`analyse`."""

    rule_id: str = ""
    severity: Level = Level.LOW
    category: str = ""
    explanation: str = ""

    def applies_to(self, path: str) -> bool:
        return path.endswith((".py", ".pth"))

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        raise NotImplementedError

    def finding(
        self,
        context: FileContext,
        line: int,
        *,
        where: str,
        severity: Level | None = None,
        detail: str | None = "",
        snippet: str | None = None,
    ) -> PackageFinding:
        if snippet is None:
            snippet = context.facts.snippet(line) if context.facts is not None else ""
        text = f"{self.explanation}: {detail}" if detail else self.explanation
        return PackageFinding(
            file=context.path,
            line=line,
            rule=self.rule_id,
            severity=self.severity if severity is None else severity,
            category=self.category,
            where=where,
            snippet=snippet,
            explanation=text,
        )

    def at_call(
        self, context: FileContext, call: Call, *, under_tests: Level = Level.MEDIUM
    ) -> PackageFinding:
        """A finding at a call: critical on install paths, ``under_tests`` in tests and docs."""
        where = context.where(call)
        level = Level.CRITICAL if where == INSTALL else self.severity
        if not_installed(context.path):
            level = under_tests
        detail = call.name or "a computed call"
        return self.finding(context, call.line, where=where, severity=level, detail=detail)


def matches(name: str | None, prefixes: tuple[str, ...]) -> bool:
    """Whether a resolved call name is one of ``prefixes`` (exact or a dotted child)."""
    if not name:
        return False
    wanted = _as_set(prefixes)
    if name in wanted:
        return True
    dot = name.find(".")
    while dot > 0:
        if name[:dot] in wanted:
            return True
        dot = name.find(".", dot + 1)
    return False


@functools.lru_cache(maxsize=64)
def _as_set(prefixes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(prefixes)


def file_place(context: FileContext) -> str:
    """Where a file-level fact counts: install files, tests and docs, or the package."""
    if context.install_time:
        return INSTALL
    return LIBRARY if not_installed(context.path) else IMPORT


SMALL_PACKAGE = 20  # own (non-test) Python files: malware is a handful, frameworks hundreds


def own_python_files(paths: frozenset[str]) -> int:
    """Python files outside tests, docs, examples and the like."""
    return sum(1 for p in paths if p.endswith(".py") and not not_installed(p))


def small_package(package: PackageInfo) -> bool:
    """At most SMALL_PACKAGE own Python files (counted once per package by the engine)."""
    own = package.own_files if package.own_files is not None else own_python_files(package.paths)
    return own <= SMALL_PACKAGE
