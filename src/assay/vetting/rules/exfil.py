"""Exfiltration endpoints and second stages.

Detection patterns name services by URL *shape* (a chat webhook path, a bot API
path, paste and tunnelling hosts): these are what stolen data is sent to or a
second stage is fetched from; legitimate libraries rarely hard-code them.
Download-then-execute is a fetch and a run (exec, a process, ``os.startfile``,
``os.chmod``) in the same function, or both at module or install level.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from assay.advisories.severity import Level
from assay.vetting.pysource import CHR_CHAIN, DECODED, DOWNLOADED, Call, ModuleFacts
from assay.vetting.rules.base import (
    EXFILTRATION,
    IMPORT,
    INSTALL,
    LIBRARY,
    NETWORK,
    SECOND_STAGE,
    FileContext,
    PackageFinding,
    Rule,
    matches,
    not_installed,
    small_package,
)
from assay.vetting.rules.capabilities import DYNAMIC_CALLS, NETWORK_CALLS, PROCESS_CALLS

WEBHOOKS = re.compile(
    r"(discord(app)?\.com/api/webhooks/|api\.telegram\.org/bot|hooks\.slack\.com/services/"
    r"|webhook\.site/|pipedream\.net|requestbin|interact\.sh|oast\.(fun|me|pro|live|site|online)"
    r"|burpcollaborator\.net|canarytokens|oastify\.com|interactsh\.com|dnslog\.cn|ceye\.io"
    r"|dnshook\.site|requestcatcher\.com|requestrepo\.com|beeceptor\.com|hookbin\.com"
    r"|mockbin\.(org|io)|mockapi\.io|webhook\.cool|000webhostapp\.com"
    r"|\b\d{8,10}:AA[A-Za-z0-9_-]{33}\b|\b[MN][A-Za-z\d]{23,25}\.[\w-]{6}\.[\w-]{27,38}\b)",
    re.IGNORECASE,
)
PASTE_SITES = re.compile(
    r"(pastebin\.com/raw|paste\.ee/|hastebin\.com|ghostbin|rentry\.co|transfer\.sh|anonfiles"
    r"|gofile\.io|file\.io/|termbin\.com|controlc\.com|dpaste\.(com|org)/)",
    re.IGNORECASE,
)
TUNNELS = re.compile(
    r"(ngrok\.io|ngrok-free\.(app|dev)|ngrok\.(app|dev)|trycloudflare\.com|serveo\.net|\.loca\.lt\b"
    r"|localhost\.run|portmap\.io|playit\.gg|duckdns\.org|no-ip\.(com|org)|ddns\.net)",
    re.IGNORECASE,
)
RAW_IP_URL = re.compile(r"\b(https?|ftp|tcp)://(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})")
SHELL_FETCH = re.compile(
    r"((curl|wget)\b[^\n]{0,300}https?://[^\n]{0,300}\|\s*(sudo\s+)?"
    r"((ba|z)?sh|python[0-9.]*|perl|ruby|node|php)\b"
    r"|(curl|wget)\b[^\n]{0,300}https?://[^\n]{0,300}(&&|;)\s*"
    r"(chmod\s+\+x|nohup|osascript|(ba|z)?sh\s|python[0-9.]*\s|\./)"
    r"|powershell[^\n]{0,200}(\s-e(nc|ncodedcommand)?\s|iex\b|invoke-expression|downloadstring"
    r"|downloadfile)|invoke-webrequest|certutil[^\n]{0,80}-urlcache|mshta\s+https?"
    r"|bitsadmin[^\n]{0,80}/transfer|/dev/tcp/\d)",
    re.IGNORECASE,
)
RUNNERS = (*PROCESS_CALLS, "os.chmod", *DYNAMIC_CALLS)
FETCHERS = (
    "wget.download",  # the wget package from the index, not the program
    "urllib.request.urlopen",
    "urllib.request.urlretrieve",
    "urllib.urlopen",
    "urllib.urlretrieve",
    "urllib2.urlopen",
    "requests.get",
    "requests.post",
    "httpx.get",
    "httpx.Client",
    "requests.Session",
)


# public DNS resolvers (DNS-over-HTTPS, connectivity checks): addresses everyone knows
WELL_KNOWN = frozenset(
    {"1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4", "9.9.9.9", "149.112.112.112", "208.67.222.222"}
)


def public_ip_in(value: str) -> str | None:
    """The first URL to a public IP address literal in ``value``, if any."""
    for match in RAW_IP_URL.finditer(value):
        if _public_ip(match.groups()[1:]):
            return match.group(0)
    return None


def _public_ip(parts: tuple[str, ...]) -> bool:
    octets = [int(p) for p in parts]
    if any(o > 255 for o in octets) or ".".join(parts) in WELL_KNOWN:
        return False
    first, second = octets[0], octets[1]
    private = (
        first in {0, 10, 127}
        or (first == 192 and second == 168)
        or (first == 172 and 16 <= second <= 31)
        or (first == 169 and second == 254)
    )
    return not private


class _TextRule(Rule):
    """Matches string constants of parsed Python files."""

    pattern: re.Pattern[str] = re.compile("(?!)")
    install_level: Level = Level.HIGH

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None:
            if context.unparsed:
                yield from self._lines(context)
            return
        if not self.pattern.search(facts.joined_strings()):
            return
        for value, line in facts.strings:
            found = self.accept(value)
            if found:
                where = INSTALL if context.install_time else LIBRARY
                level = self.install_level if where == INSTALL else self.severity
                yield self.finding(context, line, where=where, severity=level, detail=found)
                return

    def _lines(self, context: FileContext) -> Iterator[PackageFinding]:
        """A file that does not parse: the same patterns over its lines (comments too)."""
        text = context.text()
        if not self.pattern.search(text):
            return
        for number, line in enumerate(text.splitlines(), start=1):
            found = self.accept(line)
            if found:
                where = INSTALL if context.install_time else LIBRARY
                level = self.install_level if where == INSTALL else self.severity
                yield self.finding(
                    context, number, where=where, severity=level, detail=found, snippet=line[:120]
                )
                return

    def accept(self, value: str) -> str | None:
        match = self.pattern.search(value)
        return match.group(0)[:80] if match else None


class Webhook(_TextRule):
    rule_id = "exfil-webhook"
    category = EXFILTRATION
    severity = Level.MEDIUM
    install_level = Level.HIGH
    explanation = "hard-codes a chat webhook or request-capture endpoint (a common drop box)"
    pattern = WEBHOOKS


class PasteSite(_TextRule):
    rule_id = "exfil-paste-site"
    category = SECOND_STAGE
    severity = Level.MEDIUM
    explanation = "refers to a paste or anonymous file-sharing site"
    pattern = PASTE_SITES


class Tunnel(_TextRule):
    rule_id = "exfil-tunnel-host"
    category = EXFILTRATION
    severity = Level.MEDIUM
    explanation = "refers to a tunnelling or dynamic-DNS host"
    pattern = TUNNELS


class RawIpUrl(_TextRule):
    rule_id = "exfil-raw-ip"
    category = NETWORK
    severity = Level.LOW
    install_level = Level.HIGH  # install-time code has no business with a bare address
    explanation = "connects to a public IP address literal instead of a host name"
    pattern = RAW_IP_URL

    def accept(self, value: str) -> str | None:
        return public_ip_in(value)

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        for found in super().analyse(context):
            yield _contacted(found, context)


def _contacted(found: PackageFinding, context: FileContext) -> PackageFinding:
    """A bare address in shipped code that the same file talks to: medium, high if small.

    High needs a small package and the address as a value of its own (a URL
    constant, not prose such as a docstring's example proxy).
    """
    facts = context.facts
    if found.where != LIBRARY or facts is None or not_installed(context.path):
        return found
    if not any(matches(c.name, NETWORK_CALLS) for c in facts.calls):
        return found
    alone = any(
        not any(ch.isspace() for ch in value.strip()) and public_ip_in(value)
        for value, _ in facts.strings
    )
    level = Level.HIGH if alone and small_package(context.package) else Level.MEDIUM
    return replace(found, severity=level, explanation=f"{found.explanation}, and sends to it")


def public_ip_url(facts: ModuleFacts) -> bool:
    """Whether any string constant holds a URL to a public IP address literal."""
    if not RAW_IP_URL.search(facts.joined_strings()):
        return False
    return any(public_ip_in(value) for value, _ in facts.strings)


class ShellFetch(_TextRule):
    rule_id = "second-stage-shell-fetch"
    category = SECOND_STAGE
    severity = Level.MEDIUM
    install_level = Level.CRITICAL
    explanation = "holds a shell command that downloads and runs something"
    pattern = SHELL_FETCH

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        for found in super().analyse(context):
            yield _placed(found, context)


def _placed(found: PackageFinding, context: FileContext) -> PackageFinding:
    """A fetch command in a module that starts a built command when imported runs then."""
    runner = _import_time_runner(context)
    if found.where != LIBRARY or not runner or not_installed(context.path):
        return found
    detail = f"{found.explanation}; started at line {runner}"
    return replace(found, where=IMPORT, severity=Level.HIGH, explanation=detail)


def _import_time_runner(context: FileContext) -> int:
    """The line of a process started with a computed command on import (0: none)."""
    facts = context.facts
    if facts is None:
        return 0
    for call in facts.calls:
        built = matches(call.name, PROCESS_CALLS) and not call.literal_args
        if built and context.where(call) == IMPORT:
            return call.line
    return 0


class DownloadExecute(Rule):
    """A download and a run (exec, process, startfile, chmod) in the same scope."""

    rule_id = "second-stage-download-execute"
    category = SECOND_STAGE
    severity = Level.HIGH
    explanation = "downloads something and runs it"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None:
            return
        for call in facts.calls:  # downloaded data straight into exec/eval
            if matches(call.name, DYNAMIC_CALLS) and DOWNLOADED in call.origins:
                where = context.where(call)
                level = {INSTALL: Level.CRITICAL, IMPORT: Level.HIGH}.get(where, Level.MEDIUM)
                if DECODED in call.origins and not not_installed(context.path):
                    level = max(level, Level.HIGH)  # fetched, decoded and run: a hidden stage
                yield self.finding(
                    context, call.line, where=where, severity=level, detail=call.name
                )
                return
        scopes: dict[str | None, tuple[int, int]] = {}
        fetched_anywhere = ran_program = ran_anything = 0
        program_url = any(PROGRAM_URL.search(value) for value, _ in facts.strings)
        raw_ip = public_ip_url(facts)
        starts_download = _scopes_starting_a_download(facts, bool(_DROPS.search(context.data)))
        for call in facts.calls:
            scope = None if call.top_level else call.function
            fetched, ran = scopes.get(scope, (0, 0))
            program = _runs_program(call)
            if matches(call.name, FETCHERS) and not fetched:
                fetched = fetched_anywhere = call.line
            elif matches(call.name, RUNNERS) and not ran and (not call.literal_args or program):
                ran = ran_anything = call.line
                ran_program = ran_program or (call.line if program else 0)
            scopes[scope] = (fetched, ran)
            if fetched and ran:
                where = context.where(call)
                level = {INSTALL: Level.CRITICAL, LIBRARY: Level.MEDIUM}.get(where, self.severity)
                shipped = not not_installed(context.path)
                dropped = program or scope in starts_download or raw_ip  # raw_ip: bare address
                dropped = dropped or bool(program_url and _DROPS.search(context.data))
                if where == LIBRARY and shipped and dropped:
                    level = self.severity  # fetched, written to a file and started
                yield self.finding(
                    context, ran, where=where, severity=level, detail=f"fetch at line {fetched}"
                )
                return
        started = ran_program or (program_url and ran_anything)
        if fetched_anywhere and started and _DROPS.search(context.data):
            line = ran_program or ran_anything
            detail = f"fetch at line {fetched_anywhere}, a program started at line {line}"
            level = Level.MEDIUM if not_installed(context.path) else self.severity
            yield self.finding(context, line, where=LIBRARY, severity=level, detail=detail)


PROGRAM_URL = re.compile(
    r"^https?://\S+\.(exe|bat|cmd|vbs|ps1|scr|msi|elf|sh|bin)(\?\S*)?$", re.IGNORECASE
)
_NOT_A_FILE = frozenset({"url", "self", "headers", "timeout", "reporthook", "data"})
PROGRAM = re.compile(r"\.(exe|bat|cmd|vbs|ps1|scr|msi|pyw)\b", re.IGNORECASE)
_DROPS = re.compile(rb"open\([^)\n]{0,200}['\"](wb|ab|w\+b)['\"]|urlretrieve|\.write_bytes\(")


def _scopes_starting_a_download(facts: ModuleFacts, writes_bytes: bool) -> set[str | None]:
    """Scopes whose process call starts the file a download there saved (same local name).

    Saved files: the target of ``urlretrieve``/``wget.download``, or a file
    ``open``ed in a module that writes bytes.  A named tool run on the file
    (``tar xf path``) does not count; dotted names and modules never match.
    """
    saved: dict[str | None, set[str]] = {}
    for call in facts.calls:
        writes = call.name is not None and call.name.endswith(("urlretrieve", "wget.download"))
        if writes or (call.name in {"open", "io.open"} and writes_bytes):
            scope = None if call.top_level else call.function
            saved.setdefault(scope, set()).update(
                n for n in call.arg_names if "." not in n and n not in facts.aliases
            )
    started: set[str | None] = set()
    for call in facts.calls:
        scope = None if call.top_level else call.function
        runs = scope in saved and matches(call.name, PROCESS_CALLS) and not call.first_arg
        if runs and call.arg_names & saved[scope] - _NOT_A_FILE - facts.imports:
            started.add(scope)
    return started


def _runs_program(call: Call) -> bool:
    """Starts a program file by name (``os.startfile``, ``launcher.exe``, ``x.bat``)."""
    if call.name == "os.startfile":
        return True
    return bool(call.first_arg and PROGRAM.search(call.first_arg))


WRITERS = ("tempfile.NamedTemporaryFile", "tempfile.mkstemp", "tempfile.mktemp")


class DropAndRun(Rule):
    """A temporary file written and the Python interpreter started in the same scope."""

    rule_id = "second-stage-drop-run"
    category = SECOND_STAGE
    severity = Level.HIGH
    explanation = "writes a temporary file and runs it with the Python interpreter"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None:
            return
        writers = {
            None if c.top_level else c.function for c in facts.calls if matches(c.name, WRITERS)
        }
        for call in facts.calls:
            scope = None if call.top_level else call.function
            if (
                scope in writers
                and matches(call.name, PROCESS_CALLS)
                and any(n.startswith("sys.executable") for n in call.arg_names)
            ):
                where = context.where(call)
                level = Level.MEDIUM if where == LIBRARY else self.severity
                if public_ip_url(facts) or SHELL_FETCH.search(facts.joined_strings()):
                    level = max(level, self.severity)  # the dropped script fetches from an IP
                yield self.finding(
                    context, call.line, where=where, severity=level, detail=call.name
                )
                return


class HiddenEndpoint(Rule):
    """A request whose address is decoded at run time (base64, hex, chr chains)."""

    rule_id = "exfil-hidden-endpoint"
    category = EXFILTRATION
    severity = Level.HIGH
    explanation = "sends a request to an address that is decoded at run time, hiding where"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None:
            return
        for call in facts.calls:
            hidden = call.origins & {DECODED, CHR_CHAIN} and DOWNLOADED not in call.origins
            if hidden and matches(call.name, NETWORK_CALLS) and ".auth." not in (call.name or ""):
                if context.where(call) == LIBRARY and not not_installed(context.path):
                    # data: URLs and decoded settings reach requests in libraries too
                    yield replace(self.at_call(context, call), severity=Level.MEDIUM)
                    return
                # tests build addresses on purpose
                yield self.at_call(context, call, under_tests=Level.LOW)
                return


RULES: tuple[Rule, ...] = (
    HiddenEndpoint(),
    Webhook(),
    PasteSite(),
    Tunnel(),
    RawIpUrl(),
    ShellFetch(),
    DownloadExecute(),
    DropAndRun(),
)
