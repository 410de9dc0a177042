"""The package analysis engine of ``assay vet``: archive bytes in, a scored report out.

:func:`analyse_archive` reads the archive through the one safe reader
(:mod:`assay.vetting.archives`: in memory, bounded, never extracted), then
:func:`analyse_members` runs every rule of :data:`assay.vetting.rules.ALL_RULES`
that applies to each member.  Each Python file is parsed once with
:func:`ast.parse` (never compiled to code, imported or run) and the one set of
facts is shared by all rules; files that mention nothing any rule looks for are
not parsed at all (:func:`needs_parsing`).  Archive problems become findings: an
archive that was not read completely is never reported clean.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass

from assay.vetting.archive_model import ArchiveLimits, ArchiveMember, ArchiveReport
from assay.vetting.archives import ArchiveReading
from assay.vetting.pysource import ModuleFacts, read_source
from assay.vetting.rules import ALL_RULES, FileContext, PackageFinding, PackageInfo, Rule
from assay.vetting.rules.base import not_installed, own_python_files
from assay.vetting.rules.install import executable_pth_lines, in_tree_backend
from assay.vetting.rules.integrity import archive_findings, unparsed_finding
from assay.vetting.scoring import DEFAULT_THRESHOLD, assess

# A .py file that holds none of these tokens (and no line longer than LONG_LINE)
# cannot trigger a code rule, so it is not parsed.  Plain substring tests run at
# memory speed; one alternation regex over the same tokens is several times slower.
TRIGGERS: tuple[bytes, ...] = (
    *(b"exec(", b"eval(", b"marshal", b"__import__", b"import_module"),
    *(
        b"subprocess",
        b"os.system",
        b"import system",
        b"popen",
        b"os.spawn",
        b"import pty",
        b"pty import",
    ),
    *(b"spawnl", b"spawnv", b"startfile", b"chmod("),
    *(b"import socket", b"from socket", b"http.client", b"httplib", b"urllib.request"),
    *(b"urllib2", b"urlopen", b"urlretrieve", b"import requests", b"from requests"),
    *(b"httpx", b"aiohttp", b"urllib3", b"dns.resolver", b"ftplib", b"smtplib"),
    *(b"base64", b"b64", b"zlib", b"bz2", b"lzma", b"fromhex", b"unhexlify", b"binascii"),
    *(b"rot13", b"rot_13", b"chr(", b"clipboard", b"winreg", b"crontab", b"/etc/cron"),
    *(b"autostart", b"systemd/user", b"LaunchAgents", b"schtasks", b".ssh", b".aws"),
    *(b"environ.items", b"environ.copy", b"environ.values", b"(os.environ)", b"wallet"),
    *(b"Login Data", b"Cookies", b"Local State", b"leveldb"),
    *(b"keychain", b"webhook", b"telegram", b"discord", b"pastebin", b"paste.ee", b"hastebin"),
    *(b"ghostbin", b"rentry", b"termbin", b"transfer.sh", b"gofile", b"anonfiles", b"ngrok"),
    *(
        b"trycloudflare",
        b"oastify",
        b"mockapi",
        b"dnshook",
        b"interactsh",
        b"serveo",
        b"loca.lt",
        b"duckdns",
        b"no-ip",
        b"ddns.net",
    ),
    *(b"://1", b"://2", b"://3", b"://4", b"://5", b"://6", b"://7", b"://8", b"://9"),
    *(b"powershell", b"curl ", b"wget ", b"certutil", b"mshta", b"bitsadmin", b"pyarmor"),
    *(b"pytransform", b".bashrc", b".zshrc", b".bash_profile", b"gethostname", b"getuser"),
    *(b"getlogin", b"platform.node", b"uname(", b"getattr(os", b"getattr(__builtins__"),
    *(b"getattr(builtins", b"getattr(subprocess", b"getattr(__import__", b"getattr(importlib"),
    *(b"NamedTemporaryFile", b"mkstemp", b"mktemp", b"sourcedefender"),
)
LONG_LINE = 256


def needs_parsing(data: bytes) -> bool:
    """Whether a .py file mentions anything a code rule looks for."""
    return any(token in data for token in TRIGGERS) or any(
        len(line) > LONG_LINE for line in data.splitlines()
    )


_WHEEL = re.compile(
    r"^(?P<dist>[^-]+)-[^-]+(-\d[^-]*)?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)
_SDIST = (".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar", ".zip")


@dataclass(frozen=True, slots=True)
class VetReport:
    """The verdict on one package archive."""

    name: str
    score: float  # 0-10
    label: str  # none, low, medium, high, critical
    findings: tuple[PackageFinding, ...]  # everything observed, worst first
    reasons: tuple[PackageFinding, ...]  # the findings that produced the score
    explanation: str
    archive_report: ArchiveReport | None
    threshold: float = DEFAULT_THRESHOLD

    @property
    def flagged(self) -> bool:
        """At or above the threshold (the benchmark and ``--fail-on`` read this)."""
        return self.score >= self.threshold


def package_kind(name: str) -> tuple[str, bool]:
    """("wheel" | "sdist" | "egg" | "other", pure) from the file name."""
    base = posixpath.basename(name.replace("\\", "/"))
    lowered = base.lower()
    if lowered.endswith(".whl"):
        match = _WHEEL.match(base)
        pure = (
            bool(match) and match is not None and match["abi"] == "none" and match["plat"] == "any"
        )
        return "wheel", pure
    if lowered.endswith(".egg"):
        return "egg", base[:-4].count("-") <= 2
    if lowered.endswith(_SDIST):
        return "sdist", True
    return "other", False


def _root(path: str) -> tuple[str, str]:
    """(archive prefix, path inside the innermost archive)."""
    outer, bang, inner = path.rpartition("!")
    return outer + bang, inner


def startup_module(kind: str, inner: str) -> bool:
    """sitecustomize/usercustomize where site.py would import it (the site-packages root)."""
    parts = inner.split("/")
    if parts[-1] not in {"sitecustomize.py", "usercustomize.py"}:
        return False
    if kind == "wheel":
        return len(parts) == 1 or (len(parts) == 4 and parts[0].endswith(".data"))
    return len(parts) <= 2 or (len(parts) == 3 and parts[1] in {"src", "lib"})


def install_files(kind: str, members: list[ArchiveMember]) -> set[str]:
    """Paths whose code runs on install or at interpreter start."""
    found: set[str] = set()
    for member in members:
        if not_installed(member.path):
            continue  # fixtures under tests/ or docs/ (often whole packages) never run
        _, inner = _root(member.path)
        base = posixpath.basename(inner)
        depth = inner.count("/")
        setup = base == "setup.py" and depth <= 1 and kind != "wheel"
        if setup or base.endswith(".pth") or startup_module(kind, inner):
            found.add(member.path)
        elif base == "pyproject.toml" and depth <= 1:
            found |= _backend_files(member, members)
    return found


def _backend_files(pyproject: ArchiveMember, members: list[ArchiveMember]) -> set[str]:
    backend, paths = in_tree_backend(pyproject.data)
    if backend is None or not paths:
        return set()
    top = posixpath.dirname(pyproject.path)
    module = backend.split(":")[0].replace(".", "/")
    wanted = set()
    for entry in paths:
        base = posixpath.normpath(posixpath.join(top, entry, module))
        wanted |= {base + ".py", base + "/__init__.py"}
    return {m.path for m in members if m.path in wanted}


def imported_locally(setup: str, facts: ModuleFacts, paths: frozenset[str]) -> dict[str, set[str]]:
    """Modules of the sdist that setup.py imports -> the functions of them that it calls.

    Their module-level code and those functions run at install time too.
    """
    top = posixpath.dirname(setup)
    found: dict[str, set[str]] = {}
    called = {c.name for c in facts.calls if c.name}
    for name in facts.imports:
        parts = name.lstrip(".").split(".")
        for end in range(len(parts), 0, -1):
            stem = "/".join(parts[:end])
            module = ".".join(parts[:end])
            for base in (top, posixpath.join(top, "src")):
                for candidate in (f"{stem}.py", f"{stem}/__init__.py"):
                    path = posixpath.join(base, candidate) if base else candidate
                    if path in paths:
                        functions = found.setdefault(path, set())
                        functions.update(
                            c[len(module) + 1 :].split(".")[0]
                            for c in called
                            if c.startswith(module + ".")
                        )
    return found


ENTRY_PARSE_LIMIT = 256 * 1024  # package __init__/__main__ files parsed even without a trigger


def _entry_module(path: str) -> bool:
    base = posixpath.basename(_root(path)[1])
    return base in {"__init__.py", "__main__.py"} and not not_installed(path)


def _module_index(paths: frozenset[str]) -> dict[str, list[str]]:
    """Dotted module tails (main, pkg.main, src.pkg.main) -> the .py files they can name."""
    index: dict[str, list[str]] = {}
    for path in paths:
        if not path.endswith(".py") or not_installed(path):
            continue
        parts = path[:-3].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        for depth in range(1, min(len(parts), 4)):
            index.setdefault(".".join(parts[-depth:]), []).append(path)
    return index


def imported_calls(
    parsed: dict[str, ModuleFacts | None], entries: list[str], paths: frozenset[str]
) -> dict[str, set[str]]:
    """Functions of other modules that a package's __init__/__main__ calls when it runs.

    ``from .main import run`` then ``run()`` at the top of ``__init__.py`` runs
    ``main.run`` on import: its calls are import-time calls.
    """
    called: dict[str, set[str]] = {}
    index: dict[str, list[str]] | None = None
    for entry in entries:
        facts = parsed.get(entry)
        if facts is None:
            continue
        runs = facts.reached | {"__main__"}
        for call in facts.calls:
            if not call.name or "." not in call.name.lstrip("."):
                continue
            if not (call.top_level or call.function in runs):
                continue
            index = _module_index(paths) if index is None else index
            parts = call.name.lstrip(".").split(".")
            for end in range(len(parts) - 1, 0, -1):
                for path in index.get(".".join(parts[:end]), ())[:3]:
                    if path != entry:
                        called.setdefault(path, set()).add(parts[end])
    return called


def _facts(
    member: ArchiveMember,
    findings: list[PackageFinding],
    always: bool,
    unparsed: set[str] | None = None,
) -> ModuleFacts | None:
    """Parse a .py (or a .pth's executable lines) once; None when there is nothing to see."""
    if member.path.endswith(".pth"):
        lines = executable_pth_lines(member.data)
        if not lines:
            return None
        data = "\n".join(text for _, text in lines).encode()
    else:
        data = member.data
        if not always and not needs_parsing(data):
            return None
    parsed = read_source(member.path, data)
    if isinstance(parsed, ModuleFacts):
        return parsed
    if not member.path.endswith(".pth"):
        findings.append(unparsed_finding(member.path, parsed))
        if unparsed is not None:
            unparsed.add(member.path)
    return None


def analyse_members(
    name: str,
    members: Iterable[ArchiveMember],
    report: ArchiveReport | None = None,
    *,
    rules: tuple[Rule, ...] = ALL_RULES,
    threshold: float = DEFAULT_THRESHOLD,
) -> VetReport:
    """Run the rules over members already read (the core: no I/O)."""
    listed = list(members)
    kind, pure = package_kind(name)
    findings: list[PackageFinding] = archive_findings(report) if report is not None else []
    paths = frozenset(m.path for m in listed)
    installing = install_files(kind, listed)
    parsed: dict[str, ModuleFacts | None] = {}
    unparsed: set[str] = set()
    imported: dict[str, set[str]] = {}
    for member in listed:
        if member.path in installing and member.path.endswith("setup.py"):
            parsed[member.path] = facts = _facts(member, findings, True, unparsed)
            if facts is not None:
                imported.update(imported_locally(member.path, facts, paths))
    setup_imports = frozenset(
        (path, function)
        for path, functions in imported.items()
        if path not in installing
        for function in (*functions, "")
    )
    own = own_python_files(paths)
    info = PackageInfo(name, kind, pure, paths, frozenset(installing), setup_imports, own)
    entries = [m for m in listed if _entry_module(m.path) and m.path not in installing]
    for member in entries:
        always = len(member.data) < ENTRY_PARSE_LIMIT
        parsed[member.path] = _facts(member, findings, always, unparsed)
    called = imported_calls(parsed, [m.path for m in entries], paths)
    for member in listed:
        applicable = [r for r in rules if r.applies_to(member.path)]
        if not applicable:
            continue
        facts = parsed.get(member.path)
        if member.path not in parsed and member.path.endswith((".py", ".pth")):
            facts = _facts(member, findings, member.path in info.install_files, unparsed)
        if facts is not None and member.path in called:
            facts.reached = facts.reached | facts.reach(called[member.path])
        context = FileContext(member.path, member.data, info, facts, member.path in unparsed)
        for rule in applicable:
            findings.extend(rule.analyse(context))
    ordered = tuple(sorted(findings, key=lambda f: (-f.severity, f.file, f.line, f.rule)))
    assessment = assess(ordered, files=own)
    return VetReport(
        name=name,
        score=assessment.score,
        label=assessment.label,
        findings=ordered,
        reasons=assessment.reasons,
        explanation=assessment.explanation,
        archive_report=report,
        threshold=threshold,
    )


def analyse_archive(
    name: str,
    data: bytes,
    limits: ArchiveLimits | None = None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> VetReport:
    """Read an archive in memory (bounded) and analyse every member it holds."""
    reading = ArchiveReading(data, name, limits)
    members = list(reading)
    return analyse_members(name, members, reading.report(), threshold=threshold)


def vet_bytes(filename: str, data: bytes) -> VetReport:
    """The benchmark's entry point: ``analyse_archive`` with the default limits."""
    return analyse_archive(filename, data)
