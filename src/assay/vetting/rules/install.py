"""Install-time execution: code that runs because the package is installed or present.

``setup.py`` runs on every sdist install; ``cmdclass`` overrides of install,
develop, egg_info or build_py put code on that path; an in-tree build backend
(``backend-path`` in ``pyproject.toml``) is code the installer runs; ``.pth``
lines starting with ``import`` and ``sitecustomize``/``usercustomize`` run at
every interpreter start; a console script named ``pip`` or ``git`` shadows the
real command.  Benign packages use several of these (a ``build_ext`` override,
a namespace ``-nspkg.pth``), so the lone signal is low; scoring combines it with
what the code does.
"""

from __future__ import annotations

import posixpath
import re
import tomllib
from collections.abc import Iterator

from assay.advisories.severity import Level
from assay.vetting.pyfacts import Call
from assay.vetting.rules.base import (
    IMPORT,
    INSTALL,
    INSTALL_HOOK,
    PACKAGE,
    SETUP_CODE,
    FileContext,
    PackageFinding,
    Rule,
    matches,
)
from assay.vetting.rules.capabilities import NETWORK_CALLS, PROCESS_CALLS

RUN_ON_INSTALL = frozenset({"install", "develop", "egg_info"})  # run by pip install itself
EXEC_CALLS = ("exec", "eval", "builtins.exec", "builtins.eval", "marshal.loads")
HOOKED_COMMANDS = ("install", "develop", "egg_info", "build_py", "bdist_egg", "sdist", "build")
SHADOWED = frozenset(
    {
        "pip",
        "pip3",
        "python",
        "python3",
        "ls",
        "sudo",
        "git",
        "ssh",
        "curl",
        "wget",
        "bash",
        "sh",
        "cat",
        "cd",
        "npm",
        "node",
        "docker",
        "kubectl",
        "aws",
        "gcloud",
        "apt",
        "apt-get",
        "brew",
    }
)
_SCRIPT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*=\s*[A-Za-z_][\w.]*\s*(:\s*[\w.]+)?", re.MULTILINE)
_BENIGN_SETUP_CALLS = re.compile(
    r"^(setup|setuptools\.|distutils\.|find_packages|find_namespace_packages|open|io\.open|"
    r"codecs\.open|os\.path\.|pathlib\.|Path|re\.|str\.|dict|list|tuple|set|len|print|sorted|"
    r"get_version|read|version|os\.getenv|os\.environ\.get|sys\.|platform\.|Extension|"
    r"[A-Za-z_]+\.(read|format|strip|split|join|replace|get|append|extend|startswith|endswith|"
    r"group|search|match|decode|encode|items|keys|values|readlines|splitlines|lower|update))"
)


class SetupCode(Rule):
    """Top-level calls in setup.py beyond setup() and ordinary helpers."""

    rule_id = "install-setup-code"
    category = SETUP_CODE
    severity = Level.NONE
    explanation = "setup.py runs code of its own at install time"

    def applies_to(self, path: str) -> bool:
        return path.endswith("setup.py")

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None or not context.install_time:
            return
        unusual = [
            c for c in facts.calls if c.top_level and not _BENIGN_SETUP_CALLS.match(c.name or "?")
        ]
        if unusual:
            names = sorted({c.name or "<computed>" for c in unusual})
            detail = ", ".join(names[:8])
            yield self.finding(context, unusual[0].line, where=INSTALL, detail=detail)


class CmdclassOverride(Rule):
    """A setup.py class that replaces install, develop, egg_info or build_py."""

    rule_id = "install-cmdclass"
    category = INSTALL_HOOK
    severity = Level.LOW
    explanation = "setup.py replaces an install command with its own code"

    def applies_to(self, path: str) -> bool:
        return path.endswith("setup.py")

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None or not context.install_time:
            return
        for name, bases in facts.classes.items():
            hooked = [b for b in bases if b.rsplit(".", 1)[-1] in HOOKED_COMMANDS]
            if not hooked:
                continue
            line = next((n for n, text in enumerate(facts.lines, 1) if f"class {name}" in text), 0)
            detail = f"{name}({hooked[0]})"
            level = self.severity
            if hooked[0].rsplit(".", 1)[-1] in RUN_ON_INSTALL:
                runs = sorted(
                    {
                        c.name or ""
                        for c in facts.calls
                        if c.cls == name
                        and (not c.literal_args or matches(c.name, PROCESS_CALLS))
                        and matches(c.name, (*PROCESS_CALLS, *NETWORK_CALLS, *EXEC_CALLS))
                    }
                )
                own = _own_calls(context, facts.calls, name, bases)
                if runs:
                    level, detail = Level.HIGH, f"{detail} runs {', '.join(runs[:4])}"
                elif own:
                    level, detail = Level.MEDIUM, f"{detail} calls the package's {own[0]}"
            yield self.finding(context, line, where=INSTALL, severity=level, detail=detail)


def _own_calls(
    context: FileContext, calls: list[Call], cls: str, bases: tuple[str, ...]
) -> list[str]:
    """Calls a setup.py class makes into the package's own modules, not its bases (sorted)."""
    top = posixpath.dirname(context.path)
    modules = set()
    for path, _ in context.package.setup_imports:
        relative = path[len(top) + 1 :] if top else path
        relative = relative.removeprefix("src/").removesuffix(".py").removesuffix("/__init__")
        modules.add(relative.replace("/", "."))
    return sorted(
        {
            c.name
            for c in calls
            if c.cls == cls
            and c.name
            and any(c.name.startswith(m + ".") for m in modules)
            and not any(c.name.startswith(b + ".") for b in bases)
        }
    )


class InTreeBackend(Rule):
    """pyproject.toml naming a build backend that lives in the package itself."""

    rule_id = "install-in-tree-backend"
    category = INSTALL_HOOK
    severity = Level.LOW
    explanation = "the build backend is code shipped in this package (runs on install)"

    def applies_to(self, path: str) -> bool:
        return path.endswith("pyproject.toml") and path.count("/") <= 1

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        backend, paths = in_tree_backend(context.data)
        if backend is not None and paths:
            detail = f"{backend} from {', '.join(paths)}"
            yield self.finding(context, 0, where=INSTALL, detail=detail, snippet="backend-path")


def in_tree_backend(data: bytes) -> tuple[str | None, list[str]]:
    """The build-backend and its backend-path entries of a pyproject.toml (None if unset)."""
    try:
        document = tomllib.loads(data.decode("utf-8", errors="replace"))
    except (tomllib.TOMLDecodeError, RecursionError):
        return None, []
    system = document.get("build-system")
    if not isinstance(system, dict):
        return None, []
    backend = system.get("build-backend")
    paths = system.get("backend-path")
    if not isinstance(backend, str) or not isinstance(paths, list):
        return (backend if isinstance(backend, str) else None), []
    return backend, [p for p in paths if isinstance(p, str)]


class PthExecutable(Rule):
    """A .pth file with lines starting with 'import': they run at every interpreter start."""

    rule_id = "install-pth-exec"
    category = INSTALL_HOOK
    severity = Level.MEDIUM
    explanation = "a .pth file runs code every time Python starts"

    def applies_to(self, path: str) -> bool:
        return path.endswith(".pth")

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        lines = executable_pth_lines(context.data)
        if not lines:
            return
        line, text = lines[0]
        namespace = context.basename.endswith("-nspkg.pth") and "types.ModuleType" in text
        level = Level.NONE if namespace else self.severity
        snippet = text if len(text) <= 160 else text[:157] + "..."
        yield self.finding(context, line, where=INSTALL, severity=level, snippet=snippet)


def executable_pth_lines(data: bytes) -> list[tuple[int, str]]:
    """(line number, text) of .pth lines that site.py executes."""
    found = []
    for number, raw in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        if raw.startswith(("import ", "import\t")):
            found.append((number, raw))
    return found


class StartupModule(Rule):
    """sitecustomize.py / usercustomize.py: imported by site.py at every start."""

    rule_id = "install-startup-module"
    category = INSTALL_HOOK
    severity = Level.HIGH
    explanation = "ships a module that Python imports automatically at every start"

    def applies_to(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] in {"sitecustomize.py", "usercustomize.py"}

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        if context.install_time:  # the engine lists it only where site.py imports it
            yield self.finding(context, 0, where=IMPORT, snippet=context.basename)


class ShadowingEntryPoint(Rule):
    """A console script named like a common command (pip, python, git, sudo, ls...)."""

    rule_id = "install-shadowing-script"
    category = INSTALL_HOOK
    severity = Level.MEDIUM
    explanation = "installs a command that shadows a common system command"

    def applies_to(self, path: str) -> bool:
        return path.endswith(("entry_points.txt", "setup.py", "setup.cfg", "pyproject.toml"))

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        text = context.text()
        if context.path.endswith("setup.py"):
            yield from self._setup_py(context)
            return
        if context.path.endswith(("entry_points.txt", "setup.cfg")):
            text = _section(text, ("console_scripts", "gui_scripts"))
        elif context.path.endswith("pyproject.toml"):
            text = "\n".join(f"{name} = x:y" for name in _pyproject_scripts(context.data))
        for match in _SCRIPT.finditer(text):
            if match.group(1).lower() in SHADOWED:
                line = context.text().count("\n", 0, max(context.text().find(match.group(0)), 0))
                yield self.finding(
                    context, line + 1, where=PACKAGE, detail=match.group(1), snippet=match.group(0)
                )
                return

    def _setup_py(self, context: FileContext) -> Iterator[PackageFinding]:
        if context.facts is None:
            return
        for value, line in context.facts.strings:
            match = _SCRIPT_STRING.match(value)
            if match and match.group(1).lower() in SHADOWED:
                yield self.finding(context, line, where=PACKAGE, detail=match.group(1))
                return


_SCRIPT_STRING = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*=\s*[A-Za-z_][\w.]*\s*:\s*[\w.]+\s*$")


def _pyproject_scripts(data: bytes) -> list[str]:
    try:
        project = tomllib.loads(data.decode("utf-8", errors="replace")).get("project")
    except (tomllib.TOMLDecodeError, RecursionError):
        return []
    if not isinstance(project, dict):
        return []
    names: list[str] = []
    for key in ("scripts", "gui-scripts"):
        table = project.get(key)
        if isinstance(table, dict):
            names.extend(str(name) for name in table)
    return names


def _section(text: str, names: tuple[str, ...]) -> str:
    keep, out = False, []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            keep = stripped.strip("[] ") in names
            continue
        if keep:
            out.append(line)
    return "\n".join(out)


RULES: tuple[Rule, ...] = (
    SetupCode(),
    CmdclassOverride(),
    InTreeBackend(),
    PthExecutable(),
    StartupModule(),
    ShadowingEntryPoint(),
)
