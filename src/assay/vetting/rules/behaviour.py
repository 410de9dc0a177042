"""Behaviour that hides itself: decoded commands, encoded scripts, mangled code, reverse shells.

* A process started with a command that is decoded at run time
  (``os.system(b64decode(...))``) hides what it runs from a reader.
* A literal that base64- or hex-decodes to a shell command or Python code is a
  script kept out of sight (benign packages embed images and keys, not commands).
* Machine-mangled identifiers (``OO0O0OO0``, ``IlIlIl``) are the
  signature of source obfuscators.
* A socket whose descriptors are handed to a shell (``os.dup2`` or
  ``pty.spawn``) is a reverse shell: whoever is at the other end gets a prompt.
* ``pip install NAME`` run by setup.py or on import installs software that the
  package's metadata does not declare, outside the resolver, hashes, lock file
  and any curated index: how droppers fetch their tooling unseen.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from collections.abc import Iterator

from assay.advisories.severity import Level
from assay.vetting.pysource import CHR_CHAIN, DECODED, DOWNLOADED
from assay.vetting.rules.base import (
    INSTALL,
    LIBRARY,
    OBFUSCATION,
    PROCESS,
    SECOND_STAGE,
    FileContext,
    PackageFinding,
    Rule,
    file_place,
    matches,
)
from assay.vetting.rules.capabilities import PROCESS_CALLS, SUSPICIOUS_COMMAND
from assay.vetting.rules.exfil import SHELL_FETCH, WEBHOOKS


class DecodeThenRun(Rule):
    """A process started with a command decoded at run time."""

    rule_id = "obfuscation-decode-run"
    category = OBFUSCATION
    severity = Level.HIGH
    explanation = "starts a process with a command that is decoded at run time"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None:
            return
        for call in facts.calls:
            if not call.origins & {DECODED, CHR_CHAIN} or DOWNLOADED in call.origins:
                continue
            if matches(call.name, PROCESS_CALLS):
                yield self.at_call(context, call)
                return


_BASE64 = re.compile(r"^[A-Za-z0-9+/_\-\s]{24,}={0,2}$")
_HEX = re.compile(r"^(?:[0-9a-fA-F]{2}){16,}$")
CODE_MARKERS = re.compile(
    r"(\bimport\s+(os|sys|subprocess|socket|base64|requests|urllib|ctypes|zlib)\b|\bexec\(|\beval\("
    r"|os\.system|subprocess\.|\bpowershell\b|\bcurl\s|\bwget\s|/bin/(ba)?sh\b|cmd(\.exe)?\s+/c"
    r"|https?://)",
    re.IGNORECASE,
)
# a download command kept out of sight (curl.exe --output x --url https://...)
DOWNLOADER = re.compile(
    r"\b(curl|wget)(\.exe)?\s[^\n]{0,200}(https?|ftp)://|invoke-webrequest|downloadfile\(",
    re.IGNORECASE,
)
MAX_DECODED = 256 * 1024
HIDDEN_URL = re.compile(r"\s*(https?|ftp|wss?)://\S+\s*$")  # an endpoint kept out of sight


def decode_literal(value: str) -> str | None:
    """The text a base64 or hex literal stands for (None: not encoded text)."""
    compact = value.strip()
    raw: bytes | None = None
    try:
        if _HEX.match(compact):
            raw = bytes.fromhex(compact)
        elif _BASE64.match(compact) and len(compact) <= MAX_DECODED:
            cleaned = "".join(compact.split())
            raw = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), altchars=b"-_")
    except (ValueError, binascii.Error):
        return None
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text[:4096])
    return text if printable >= 0.95 * min(len(text), 4096) else None


class EncodedCommand(Rule):
    """A base64/hex literal that decodes to a shell command or Python code."""

    rule_id = "obfuscation-encoded-command"
    category = OBFUSCATION
    severity = Level.MEDIUM
    explanation = "holds a shell command or code encoded as base64 or hex"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None or not (b"b64" in context.data or b"hex" in context.data):
            return
        for value, line in facts.strings:
            if len(value) < 24 or " " in value.strip():
                continue
            text = decode_literal(value)
            if text is None:
                continue
            strong = (
                SHELL_FETCH.search(text)
                or WEBHOOKS.search(text)
                or HIDDEN_URL.match(text)
                or DOWNLOADER.search(text)
            )
            found = strong or SUSPICIOUS_COMMAND.search(text) or CODE_MARKERS.search(text)
            if not found:
                continue
            where = file_place(context)
            level = Level.HIGH if strong else self.severity
            if where == LIBRARY:
                level = Level.LOW
            detail = f"decodes to ...{found.group(0)[:40]}..."
            yield self.finding(context, line, where=where, severity=level, detail=detail)
            return


MANGLED = re.compile(r"\b(?:[O0]*O[O0]*0[O0]*|[Il1]*I[Il1]*l[Il1]*)\b")


class MangledNames(Rule):
    """Identifiers made of look-alike characters only: the mark of source obfuscators."""

    rule_id = "obfuscation-mangled-names"
    category = OBFUSCATION
    severity = Level.MEDIUM
    explanation = "uses machine-mangled identifiers (a source obfuscator's output)"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        if context.facts is None:
            return
        counts = Counter(m for m in MANGLED.findall(context.text()) if len(m) >= 5)
        names = {name for name, count in counts.items() if count >= 2}
        if len(names) >= 4:
            where = file_place(context)
            level = Level.LOW if where == LIBRARY else self.severity
            detail = f"{len(names)} names like {min(names)[:20]}"
            yield self.finding(context, 1, where=where, severity=level, detail=detail)


SHELLS = re.compile(r"^(/bin/|/usr/bin/)?(ba|z|da)?sh$|^(cmd|powershell)(\.exe)?$", re.IGNORECASE)


class ReverseShell(Rule):
    """A socket connection handed to a shell (``os.dup2`` of its descriptors, ``pty.spawn``)."""

    rule_id = "second-stage-reverse-shell"
    category = SECOND_STAGE
    severity = Level.HIGH
    explanation = "connects a shell to a network socket (a reverse shell)"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None or b"socket" not in context.data:
            return
        scopes: dict[str | None, set[str]] = {}
        for call in facts.calls:
            scope = None if call.top_level else call.function
            seen = scopes.setdefault(scope, set())
            if matches(call.name, ("socket.socket", "socket.create_connection")):
                seen.add("socket")
            elif call.name in {"os.dup2", "os.dup"}:
                seen.add("dup")
            elif matches(call.name, (*PROCESS_CALLS, "pty.spawn")) and _shell(call.first_arg):
                seen.add("shell")
            if "socket" in seen and "shell" in seen and ("dup" in seen or call.name == "pty.spawn"):
                yield self.at_call(context, call)
                return


def _shell(command: str | None) -> bool:
    if not command:
        return False
    words = command.split()
    return bool(words) and bool(SHELLS.match(words[0])) and "-c" not in words[1:2]


PIP_INSTALL = re.compile(
    r"(^|\s|/)(pip[0-9.]*(\.exe)?|-m\s+pip)\s+install\s+"
    r"(-(?!r\b|e\b|-requirement\b|-editable\b)[-\w]+\s+)*"
    r"(?!\.(\s|$)|-e\b|--editable\b|-r\b|--requirement\b)[A-Za-z0-9]",
    re.IGNORECASE,
)


class UndeclaredInstall(Rule):
    """``pip install NAME`` started by install-time or import-time code."""

    rule_id = "capability-undeclared-install"
    category = PROCESS
    severity = Level.MEDIUM
    explanation = "installs other packages itself, outside its declared dependencies"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None or b"install" not in context.data:
            return
        for call in facts.calls:
            if not (call.first_arg and matches(call.name, PROCESS_CALLS)):
                continue
            if not PIP_INSTALL.search(call.first_arg):
                continue
            where = context.where(call)
            if where == LIBRARY:
                continue  # an optional integration installing its extra on request
            level = Level.HIGH if where == INSTALL else self.severity
            detail = call.first_arg[:80]
            yield self.finding(context, call.line, where=where, severity=level, detail=detail)
            return


RULES: tuple[Rule, ...] = (
    DecodeThenRun(),
    EncodedCommand(),
    MangledNames(),
    ReverseShell(),
    UndeclaredInstall(),
)
