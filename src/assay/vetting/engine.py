"""The package analysis engine of ``assay vet``: archive bytes in, a scored report out.

:func:`analyse_archive` reads the archive through the one safe reader
(:mod:`assay.vetting.archives`: in memory, bounded, never extracted), then
:func:`analyse_members` runs every rule of :data:`assay.vetting.rules.ALL_RULES`
that applies to each member.  Each Python file is parsed once with
:func:`ast.parse` (never compiled to code, imported or run) and the one set of
facts is shared by all rules; files that mention nothing any rule looks for are
not parsed at all (:data:`TRIGGERS`).  Archive problems become findings: an
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
from assay.vetting.rules.install import executable_pth_lines, in_tree_backend
from assay.vetting.rules.integrity import archive_findings, unparsed_finding
from assay.vetting.scoring import DEFAULT_THRESHOLD, assess

# A .py file that matches none of these cannot trigger a code rule, so it is not parsed.
TRIGGERS = re.compile(
    rb"\bexec\b|\beval\b|(?<![.\w])compile\(|marshal|__import__|import_module|subprocess"
    rb"|getattr\(\s*\w+\s*,\s*(?!['\"]_*[a-z_]+['\"]\s*[,)])|\bsystem\(|popen|\bspawn|\bpty\b"
    rb"|import socket|from socket|socket\.(socket|create_conn|gethostbyname|getaddrinfo)"
    rb"|http\.client|httplib|urllib\.request|urllib2|urlopen|urlretrieve|import requests"
    rb"|from requests|requests\.(get|post|put|request|Session)|httpx|aiohttp|urllib3|dns\.resolver"
    rb"|ftplib|smtplib|base64|b64|zlib|bz2|lzma|fromhex|unhexlify|binascii|rot.?13"
    rb"|map\(\s*chr|(chr\([^)]{1,12}\)\s*\+\s*){2}|clipboard|winreg|crontab|/etc/cron|autostart"
    rb"|systemd/user|LaunchAgents|schtasks|\.ssh|\.aws|environ\.(items|copy|values)\("
    rb"|\(\s*os\.environ\s*\)|wallet|Login Data|Cookies|Local State|leveldb|keychain|webhook"
    rb"|telegram|discord|pastebin|paste\.ee|hastebin|ghostbin|rentry|termbin|transfer\.sh"
    rb"|gofile|anonfiles|ngrok|trycloudflare|serveo|loca\.lt|duckdns|no-ip|ddns\.net|://\d"
    rb"|powershell|curl |wget |certutil|mshta|bitsadmin|pyarmor|pytransform|startfile|chmod"
    rb"|\.bashrc|\.zshrc|\.bash_profile|gethostname|getuser|getlogin|platform\.node|uname"
    rb"|[A-Za-z0-9+/=]{256}",
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


def install_files(kind: str, members: list[ArchiveMember]) -> frozenset[str]:
    """Paths whose code runs on install or at interpreter start."""
    found: set[str] = set()
    for member in members:
        _, inner = _root(member.path)
        base = posixpath.basename(inner)
        depth = inner.count("/")
        setup = base == "setup.py" and depth <= 1 and kind != "wheel"
        if setup or base.endswith(".pth") or startup_module(kind, inner):
            found.add(member.path)
        elif base == "pyproject.toml" and depth <= 1:
            found |= _backend_files(member, members)
    return frozenset(found)


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


def _facts(
    member: ArchiveMember, findings: list[PackageFinding], always: bool
) -> ModuleFacts | None:
    """Parse a .py (or a .pth's executable lines) once; None when there is nothing to see."""
    if member.path.endswith(".pth"):
        lines = executable_pth_lines(member.data)
        if not lines:
            return None
        data = "\n".join(text for _, text in lines).encode()
    else:
        data = member.data
        if not always and not TRIGGERS.search(data):
            return None
    parsed = read_source(member.path, data)
    if isinstance(parsed, ModuleFacts):
        return parsed
    if not member.path.endswith(".pth"):
        findings.append(unparsed_finding(member.path, parsed))
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
    info = PackageInfo(
        name=name,
        kind=kind,
        pure=pure,
        paths=frozenset(m.path for m in listed),
        install_files=install_files(kind, listed),
    )
    findings: list[PackageFinding] = archive_findings(report) if report is not None else []
    for member in listed:
        applicable = [r for r in rules if r.applies_to(member.path)]
        if not applicable:
            continue
        facts = None
        if member.path.endswith((".py", ".pth")):
            facts = _facts(member, findings, member.path in info.install_files)
        context = FileContext(member.path, member.data, info, facts)
        for rule in applicable:
            findings.extend(rule.analyse(context))
    ordered = tuple(sorted(findings, key=lambda f: (-f.severity, f.file, f.line, f.rule)))
    assessment = assess(ordered)
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
