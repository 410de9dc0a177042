"""Capability rules: what code could do (network, processes, dynamic code, secrets, ...).

A capability alone is normal in library code (a large library spawning ``git`` or
opening sockets); these rules therefore grade by *where* the call runs: install
time is worse than import time, which is worse than inside a function.  Scoring
(:mod:`assay.vetting.scoring`) raises the risk only when capabilities combine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from assay.advisories.severity import Level
from assay.vetting.pysource import COMPUTED, DECODED, DOWNLOADED, LOCAL_FILE
from assay.vetting.rules.base import (
    CLIPBOARD,
    DYNAMIC_CODE,
    IMPORT,
    INSTALL,
    LIBRARY,
    LOCAL_CODE,
    NETWORK,
    PERSISTENCE,
    PROCESS,
    RECON,
    SENSITIVE,
    FileContext,
    PackageFinding,
    Rule,
    matches,
    not_installed,
    small_package,
)

BY_WHERE = {INSTALL: Level.MEDIUM, IMPORT: Level.LOW, LIBRARY: Level.NONE}

NETWORK_CALLS = (
    "wget.download",
    "socket.socket",
    "socket.create_connection",
    "socket.gethostbyname",
    "socket.getaddrinfo",
    "http.client",
    "urllib.request.urlopen",
    "urllib.request.urlretrieve",
    "urllib.request.Request",
    "urllib.urlopen",
    "urllib.urlretrieve",
    "urllib2.urlopen",
    "requests",
    "httpx",
    "aiohttp.ClientSession",
    "aiohttp.request",
    "urllib3.PoolManager",
    "dns.resolver",
    "ftplib.FTP",
    "smtplib.SMTP",
    "smtplib.SMTP_SSL",
)
PROCESS_CALLS = (
    "subprocess",
    "os.system",
    "os.popen",
    "os.spawnl",
    "os.spawnv",
    "os.spawnlp",
    "os.spawnvp",
    "os.execv",
    "os.execl",
    "os.execvp",
    "os.execlp",
    "os.startfile",
    "pty.spawn",
    "commands.getoutput",
    "asyncio.create_subprocess_shell",
    "asyncio.create_subprocess_exec",
)
DYNAMIC_CALLS = (
    "exec",
    "eval",
    "compile",
    "marshal.loads",
    "__import__",
    "importlib.import_module",
    "builtins.exec",
    "builtins.eval",
    "types.FunctionType",
)
CLIPBOARD_CALLS = ("pyperclip", "win32clipboard", "clipboard", "tkinter.Tk.clipboard_get")

SENSITIVE_PATHS = re.compile(
    r"(\.ssh[/\\](id_|authorized_keys|known_hosts)|\.aws[/\\]credentials|\.docker[/\\]config"
    r"|\.kube[/\\]config|\.git-credentials|\.netrc|\.pypirc|\.npmrc|gcloud[/\\]credentials"
    r"|Login Data|Local State|Cookies|User Data[/\\]|\.mozilla[/\\]firefox|key4\.db|logins\.json"
    r"|wallet\.dat|Exodus|Electrum|MetaMask|Atomic[/\\]|Ethereum[/\\]keystore|leveldb"
    r"|discord[/\\]|Local Storage|/etc/shadow|keychain)",
    re.IGNORECASE,
)
PERSISTENCE_TEXT = re.compile(
    r"(crontab|/etc/cron|CurrentVersion\\+Run|Start Menu\\+Programs\\+Startup|\.config/autostart"
    r"|systemd/user|LaunchAgents|schtasks|\.bashrc|\.bash_profile|\.zshrc|\.profile\b)",
    re.IGNORECASE,
)


class _CallRule(Rule):
    """A capability found by call names; severity from where the call runs."""

    calls: tuple[str, ...] = ()

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None:
            return
        seen: set[str] = set()
        for call in facts.calls:
            if matches(call.name, self.calls):
                where = context.where(call)
                if where in seen:  # one finding per place kind and file is enough
                    continue
                seen.add(where)
                yield self.finding(
                    context, call.line, where=where, severity=BY_WHERE[where], detail=call.name
                )


# calls that send a request or resolve a name right away (not a session or client object)
REQUESTS_NOW = (
    *("requests.get", "requests.post", "requests.put", "requests.request", "requests.head"),
    *("urllib.request.urlopen", "urllib.request.Request", "urllib.request.urlretrieve"),
    *("socket.gethostbyname", "socket.getaddrinfo", "socket.create_connection"),
)


class NetworkAccess(_CallRule):
    rule_id = "capability-network"
    category = NETWORK
    explanation = "opens network connections or resolves names"
    calls = NETWORK_CALLS

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        for finding in super().analyse(context):
            if finding.where == IMPORT and context.facts is not None:
                beacon = next(
                    (
                        c
                        for c in context.facts.calls
                        if c.first_arg
                        and "." in c.first_arg
                        and matches(c.name, REQUESTS_NOW)
                        and context.where(c) == IMPORT
                    ),
                    None,
                )
                if beacon is not None:
                    detail = f"{beacon.name} of {(beacon.first_arg or '')[:60]!r} when imported"
                    yield self.finding(
                        context, beacon.line, where=IMPORT, severity=Level.HIGH, detail=detail
                    )
                    continue
            yield finding


# programs a build legitimately starts from setup.py (version control, compilers, build tools)
BUILD_TOOLS = frozenset(
    {
        *("git", "hg", "svn", "make", "gmake", "cmake", "ninja", "meson", "scons", "bazel"),
        *("gcc", "cc", "g++", "c++", "clang", "clang++", "cl", "nvcc", "gfortran", "ld", "ar"),
        *("cython", "swig", "protoc", "pkg-config", "xcrun", "sw_vers", "uname", "ldconfig"),
        *("python", "python3", "pip", "pip3", "npm", "yarn", "node", "cargo", "rustc", "go"),
        *("sh", "bash", "./configure", "configure", "autoreconf", "mvn", "javac", "dotnet"),
        *("qmake", "pyrcc5", "pyuic5", "sphinx-build", "rm", "cp", "mkdir", "ls", "which"),
        *("llvm-config", "nproc", "sysctl", "lsb_release", "brew", "patch", "tar", "patchelf"),
        *("touch", "cat", "echo", "find", "chmod", "ln", "mv", "install", "strip", "otool"),
        *("install_name_tool", "lipo", "codesign", "sed", "awk", "grep", "xcodebuild", "perl"),
        *("java", "ruby", "gem", "dpkg", "rpm", "env", "test", "true", "cd", "pwd", "ccache"),
    }
)


class ProcessSpawn(_CallRule):
    rule_id = "capability-process"
    category = PROCESS
    explanation = "starts other programs"
    calls = PROCESS_CALLS

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        for finding in super().analyse(context):
            if finding.where == INSTALL and context.facts is not None:
                odd = _unusual_program(context, finding.line)
                if odd:
                    yield self.finding(
                        context,
                        finding.line,
                        where=INSTALL,
                        severity=Level.HIGH,
                        detail=f"{odd!r} at install time (not a build or version-control tool)",
                    )
                    continue
            yield finding


def _unusual_program(context: FileContext, first_line: int) -> str | None:
    """The first install-time literal command that is not a build tool."""
    assert context.facts is not None
    for call in context.facts.calls:
        if call.line < first_line or not call.first_arg or not call.literal_args:
            continue
        if not matches(call.name, PROCESS_CALLS):
            continue
        if context.where(call) != INSTALL:
            continue
        words = call.first_arg.replace("\\", "/").split()
        program = words[0].rsplit("/", 1)[-1].lower() if words else ""
        program = program.removesuffix(".exe")
        if program and program not in BUILD_TOOLS and not program.startswith("python"):
            return words[0][:40]
    return None


class Clipboard(_CallRule):
    rule_id = "capability-clipboard"
    category = CLIPBOARD
    explanation = "reads or writes the clipboard"
    calls = CLIPBOARD_CALLS


SUSPICIOUS_COMMAND = re.compile(
    r"(powershell|cmd(\.exe)?\s+/c|^start\s|\sstart\s|mshta|curl(\.exe)?\s|wget(\.exe)?\s|(ba)?sh\s+-c"
    r"|python[0-9.]*(\.exe)?\s+-c|nohup|chmod\s+\+x|/tmp/|%temp%|appdata|\.vbs\b|\.ps1\b"
    r"|base64\s+-d|/dev/tcp)",
    re.IGNORECASE,
)
# a hidden PowerShell window that also lifts the script policy: evasion, never convenience
EVASIVE_COMMAND = re.compile(
    r"powershell(?=[^\n]{0,300}\s-w(indowstyle)?\s+(h|hidden)\b)"
    r"(?=[^\n]{0,300}\s-(ep|exec|executionpolicy)\s+bypass\b)",
    re.IGNORECASE,
)


class SuspiciousCommand(Rule):
    """A process started with a command line that fetches, hides or starts a dropped file."""

    rule_id = "capability-suspicious-command"
    category = PROCESS
    severity = Level.MEDIUM
    explanation = "starts a command typical of droppers (shells, downloaders, temp files)"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None:
            return
        for call in facts.calls:
            if call.first_arg and matches(call.name, PROCESS_CALLS):
                found = SUSPICIOUS_COMMAND.search(call.first_arg)
                if found:
                    where = context.where(call)
                    level = {INSTALL: Level.HIGH, IMPORT: Level.HIGH}.get(where, self.severity)
                    if EVASIVE_COMMAND.search(call.first_arg) and not not_installed(context.path):
                        level = Level.HIGH
                    yield self.finding(
                        context, call.line, where=where, severity=level, detail=found.group(0)
                    )
                    return


class Recon(_CallRule):
    rule_id = "capability-recon"
    category = RECON
    explanation = "collects the host name, user name or machine identity"
    calls = (
        "socket.gethostname",
        "getpass.getuser",
        "os.getlogin",
        "platform.node",
        "platform.uname",
        "os.uname",
        "uuid.getnode",
    )


class DynamicCode(Rule):
    """exec/eval/compile/marshal/__import__/importlib on input that is not a literal."""

    rule_id = "capability-dynamic-code"
    category = DYNAMIC_CODE
    explanation = "runs code built at run time"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None:
            return
        for call in facts.calls:
            if not matches(call.name, DYNAMIC_CALLS) or call.first_arg is not None:
                continue
            if not call.origins:
                continue
            where = context.where(call)
            origins = call.origins
            if origins & {DECODED, DOWNLOADED}:
                continue  # the obfuscation and second-stage rules report these
            if origins <= {LOCAL_FILE, COMPUTED} and LOCAL_FILE in origins:
                yield PackageFinding(
                    file=context.path,
                    line=call.line,
                    rule=self.rule_id,
                    severity=Level.NONE,
                    category=LOCAL_CODE,
                    where=where,
                    snippet=facts.snippet(call.line),
                    explanation=f"{call.name} of a file's content (common for version files)",
                )
                continue
            elif call.name in {"__import__", "importlib.import_module"}:
                level = Level.NONE
                detail = f"{call.name} of a computed module name"
            else:
                level = BY_WHERE[where]
                detail = f"{call.name} of a computed value"
            yield self.finding(context, call.line, where=where, severity=level, detail=detail)


class SensitiveReads(Rule):
    """Credential files, browser profiles, wallets, and bulk reads of the environment."""

    rule_id = "capability-sensitive-read"
    category = SENSITIVE
    explanation = "refers to credentials or private user data"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None:
            return
        where = INSTALL if context.install_time else LIBRARY
        joined = facts.joined_strings()
        hits = sorted({m.group(0) for m in SENSITIVE_PATHS.finditer(joined)})
        if len(hits) >= 2 or (hits and where == INSTALL):
            line = next(n for s, n in facts.strings if SENSITIVE_PATHS.search(s))
            if where == INSTALL:
                level = Level.HIGH if len(hits) >= 2 else Level.MEDIUM
            else:
                level = Level.MEDIUM if len(hits) >= 4 else Level.LOW
                if level == Level.MEDIUM and small_package(context.package):
                    level = Level.HIGH  # a handful of files that gather credential stores
            yield self.finding(
                context, line, where=where, severity=level, detail=", ".join(hits[:6])
            )
        for line in facts.env_bulk_reads[:1]:
            level = Level.MEDIUM if context.install_time else Level.LOW
            yield self.finding(
                context, line, where=where, severity=level, detail="the whole of os.environ"
            )


class Persistence(Rule):
    """Autostart entries: cron, systemd user units, Run registry keys, shell profiles."""

    rule_id = "capability-persistence"
    category = PERSISTENCE
    explanation = "installs something that starts again later"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None:
            return
        registry = (
            any(matches(c.name, ("winreg.SetValueEx", "_winreg.SetValueEx")) for c in facts.calls)
            or "reg add" in facts.joined_strings().lower()
        )
        if not PERSISTENCE_TEXT.search(facts.joined_strings()):
            return
        for text, line in facts.strings:
            found = PERSISTENCE_TEXT.search(text)
            if found and (registry or "Run" not in found.group(0)):
                level = Level.HIGH if context.install_time else Level.LOW
                where = INSTALL if context.install_time else LIBRARY
                yield self.finding(
                    context, line, where=where, severity=level, detail=found.group(0)
                )
                return


RULES: tuple[Rule, ...] = (
    NetworkAccess(),
    ProcessSpawn(),
    SuspiciousCommand(),
    Recon(),
    Clipboard(),
    DynamicCode(),
    SensitiveReads(),
    Persistence(),
)
