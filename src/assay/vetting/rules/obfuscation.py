"""Obfuscation: code that hides what it runs.

Decoding (base64, zlib, bz2, lzma, hex, rot13, reversed strings, ``chr`` chains)
is normal on its own (images, fixtures); it matters when the result feeds
``exec``/``eval``/``compile``/``marshal.loads``.  Long high-entropy literals are
weighed by scoring together with dynamic code in the same file.  Packers
(pyarmor) and ``.pyc`` files without their source hide the code from review;
``getattr(os, 'sys' + 'tem')`` and ``__import__('subprocess')`` hide calls from
readers and from naive scanners.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections import Counter
from collections.abc import Iterator

from assay.advisories.severity import Level
from assay.vetting.pysource import CHR_CHAIN, DECODED, DOWNLOADED
from assay.vetting.rules.base import (
    IMPORT,
    INSTALL,
    LIBRARY,
    OBFUSCATION,
    PACKAGE,
    FileContext,
    PackageFinding,
    Rule,
    file_place,
    matches,
    not_installed,
)
from assay.vetting.rules.capabilities import DYNAMIC_CALLS, NETWORK_CALLS, PROCESS_CALLS

EXEC_SINKS = ("exec", "eval", "compile", "builtins.exec", "builtins.eval")
ENTROPY_BITS = 5.0  # bits per character; English ~4.2, hex 4.0, base64 of random bytes ~6.0
ENTROPY_MIN_LENGTH = 256  # shorter literals (keys, hashes, small icons) are not reported
PACKER_MARKERS = (
    "__pyarmor__",
    "pyarmor_runtime",
    "pytransform",
    "__pyarmor_enter",
    "sourcedefender",
)
# Source obfuscators stamp their output with module variables like these
OBFUSCATOR_STAMPS = re.compile(rb"^__(obfuscator|obfuscated_by|obf)__\s*=", re.MULTILINE)
# exec/eval bound to another name: how obfuscators hide the one call that matters (not
# compile: modules such as regex define a compile of their own and alias it)
CODE_BUILTINS = frozenset({"exec", "eval", "builtins.exec", "builtins.eval"})
_HONEST_ALIAS = re.compile(r"exec|eval|compile|run|code", re.IGNORECASE)


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text`` (0 for an empty string)."""
    if not text:
        return 0.0
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


class DecodeThenExec(Rule):
    """Decoded data (base64, zlib, hex, rot13, reversal, chr chains) passed to exec/eval."""

    rule_id = "obfuscation-decode-exec"
    category = OBFUSCATION
    severity = Level.HIGH
    explanation = "runs code that is decoded at run time"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None:
            return
        for call in facts.calls:
            if not matches(call.name, EXEC_SINKS) or call.first_arg is not None:
                continue
            if call.origins & {DECODED, CHR_CHAIN} and DOWNLOADED not in call.origins:
                yield self.at_call(context, call)  # tests and docs build code on purpose
                return


class HighEntropyString(Rule):
    """A long literal with the character statistics of encoded or encrypted data."""

    rule_id = "obfuscation-high-entropy"
    category = OBFUSCATION
    severity = Level.LOW
    explanation = "holds a long high-entropy string (encoded or encrypted data)"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None:
            return
        for value, line in facts.strings:
            if len(value) < ENTROPY_MIN_LENGTH or value.count(" ") > len(value) // 50:
                continue
            bits = shannon_entropy(value[:65536])
            if bits >= ENTROPY_BITS:
                where = INSTALL if context.install_time else LIBRARY
                if where == LIBRARY and not not_installed(context.path):
                    where = IMPORT  # shipped data: combines with import-time execution
                detail = f"{len(value)} characters at {bits:.2f} bits/char"
                yield self.finding(context, line, where=where, detail=detail, snippet=value[:60])
                return


class Packer(Rule):
    """pyarmor and similar runtime packers."""

    rule_id = "obfuscation-packer"
    category = OBFUSCATION
    severity = Level.MEDIUM
    explanation = "uses a code packer that hides the source from review"

    def applies_to(self, path: str) -> bool:
        return path.endswith((".py", ".pth"))

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None:
            return
        names = {*facts.imports, *(s for s, _ in facts.strings if len(s) < 64)}
        stamp = OBFUSCATOR_STAMPS.search(context.data[:65536])
        if stamp:
            where = INSTALL if context.install_time else file_place(context)
            level = Level.HIGH if where == INSTALL else self.severity
            level = Level.LOW if where == LIBRARY else level
            line = context.data.count(b"\n", 0, stamp.start()) + 1
            detail = "an obfuscator's stamp"
            yield self.finding(context, line, where=where, severity=level, detail=detail)
            return
        for marker in PACKER_MARKERS:
            if any(marker in n for n in names) or f"{marker}(".encode() in context.data[:4096]:
                where = INSTALL if context.install_time else LIBRARY
                level = Level.HIGH if where == INSTALL else self.severity  # a packed setup.py
                yield self.finding(context, 1, where=where, severity=level, detail=marker)
                return


class PycWithoutSource(Rule):
    """Compiled .pyc files whose .py is not in the package."""

    rule_id = "obfuscation-pyc-only"
    category = OBFUSCATION
    severity = Level.MEDIUM
    explanation = "ships compiled bytecode without the source it was compiled from"

    def applies_to(self, path: str) -> bool:
        return path.endswith(".pyc")

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        directory, base = posixpath.split(context.path)
        stem = base.split(".", 1)[0]
        candidates = {posixpath.join(directory, stem + ".py")}
        if posixpath.basename(directory) == "__pycache__":
            candidates.add(posixpath.join(posixpath.dirname(directory), stem + ".py"))
        if not candidates & context.package.paths:
            yield self.finding(context, 0, where=PACKAGE, snippet=base)


class HiddenCall(Rule):
    """A process, network or exec call reached through __import__/getattr/import_module."""

    rule_id = "obfuscation-hidden-call"
    category = OBFUSCATION
    severity = Level.MEDIUM
    explanation = "reaches a dangerous function through dynamic lookup, hiding the call"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None:
            return
        for call in facts.calls:
            if call.hidden and matches(call.name, (*PROCESS_CALLS, *NETWORK_CALLS, *DYNAMIC_CALLS)):
                where = context.where(call)
                level = Level.HIGH if where == INSTALL else self.severity
                yield self.finding(
                    context, call.line, where=where, severity=level, detail=call.name
                )
                return


class AliasedExec(Rule):
    """``exec``/``eval`` bound to an unrelated name (``Statistics, _x = exec, str``)."""

    rule_id = "obfuscation-aliased-exec"
    category = OBFUSCATION
    severity = Level.MEDIUM
    explanation = "binds exec or eval to an unrelated name, hiding where code is run"

    def analyse(self, context: FileContext) -> Iterator[PackageFinding]:
        facts = context.facts
        if facts is None or not (b"exec" in context.data or b"eval" in context.data):
            return
        for alias, target in sorted(facts.aliases.items()):
            if target in CODE_BUILTINS and not _HONEST_ALIAS.search(alias):
                where = file_place(context)
                level = {INSTALL: Level.HIGH, LIBRARY: Level.LOW}.get(where, self.severity)
                line = _assignment_line(facts.lines, alias)
                detail = f"{alias} = {target}"
                yield self.finding(context, line, where=where, severity=level, detail=detail)
                return


def _assignment_line(lines: tuple[str, ...], name: str) -> int:
    pattern = re.compile(rf"(^|[\s,(]){re.escape(name)}\b[^=\n]*=")
    return next((n for n, text in enumerate(lines, start=1) if pattern.search(text)), 1)


RULES: tuple[Rule, ...] = (
    AliasedExec(),
    DecodeThenExec(),
    HighEntropyString(),
    Packer(),
    PycWithoutSource(),
    HiddenCall(),
)
