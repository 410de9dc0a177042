"""Code hidden inside a literal: what a reader of the source does not see (pure, bounded).

Droppers keep their real code out of sight: a string handed to ``exec``, a base64
or hex literal, a zlib/gzip/bz2/xz blob (``b'x\\x9c...'``), or one of those inside
another.  :func:`unwrap` peels such layers in memory, never running anything,
and returns the text when it looks like Python source; :func:`parse_hidden`
parses that text (or the longest prefix of it that parses, since obfuscators
often split a blob into several literals and only the first decompresses on its
own).  Every step is bounded: literal size, decoded size, layers, and the
bytes decoded per module (:class:`Budget`).
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import lzma
import re
import warnings
import zlib

MAX_LITERAL = 4 * 1024 * 1024  # longer literals are not unwrapped
MAX_HIDDEN = 256 * 1024  # at most this much hidden text per literal (and per module)
MAX_WORK = 16 * 1024 * 1024  # decoded bytes per module: a file full of bombs stays cheap
MAX_LAYERS = 4  # base64 of zlib of base64 ... at most this deep
MIN_LITERAL = 48  # shorter literals hide no program worth a second look

_BASE64 = re.compile(rb"^[A-Za-z0-9+/_\-\s]+={0,2}$")
_HEX = re.compile(rb"^(?:[0-9a-fA-F]{2})+$")
_ZLIB_HEADERS = frozenset({b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda"})
CODE_HINT = re.compile(
    r"(^|\n|;)\s*(import\s+\w|from\s+[\w.]+\s+import\s|def\s+\w+\s*\(|exec\s*\(|eval\s*\("
    r"|class\s+\w+|try\s*:|if\s+.+:\s*($|\n)|\w+\s*=\s*\S)"
)


def looks_like_code(text: str) -> bool:
    """Printable text with a Python statement shape (an import, a def, an exec, ...)."""
    head = text[:4096]
    if not head.strip():
        return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in head)
    if printable < 0.97 * len(head):
        return False
    return bool(CODE_HINT.search(head)) and ("\n" in head or ";" in head or "(" in head)


def _decompress(data: bytes) -> bytes | None:
    """The (possibly partial) decompressed content of a compressed blob, bounded."""
    try:
        if data[:2] in _ZLIB_HEADERS:
            return zlib.decompressobj().decompress(data, MAX_HIDDEN) or None
        if data[:2] == b"\x1f\x8b":
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, MAX_HIDDEN) or None
        if data[:3] == b"BZh":
            return bz2.BZ2Decompressor().decompress(data, MAX_HIDDEN) or None
        if data[:6] == b"\xfd7zXZ\x00":
            return lzma.LZMADecompressor().decompress(data, MAX_HIDDEN) or None
    except (zlib.error, OSError, lzma.LZMAError, EOFError, ValueError):
        return None
    return None


def _decode(data: bytes) -> bytes | None:
    """Base64 or hex text as the bytes it stands for (None: neither)."""
    compact = b"".join(data.split())
    if len(compact) < MIN_LITERAL:
        return None
    try:
        if _HEX.match(compact):
            return bytes.fromhex(compact.decode("ascii"))
        if _BASE64.match(compact):
            padded = compact + b"=" * (-len(compact) % 4)
            return base64.b64decode(padded, altchars=b"-_" if b"-" in compact else None)
    except (ValueError, binascii.Error):
        return None
    return None


MAX_MERGED_CALLS = 20_000  # calls taken from hidden code per file, all levels together


class Budget:
    """What a file's hidden code may still cost, shared by every literal and nesting level.

    ``left``: bytes still to decode; ``parse_left``: hidden source still to
    parse; ``calls_left``: calls still to take from hidden code.
    """

    def __init__(self, total: int = MAX_WORK) -> None:
        self.left = total
        self.parse_left = MAX_HIDDEN
        self.calls_left = MAX_MERGED_CALLS

    def spend(self, produced: int) -> bool:
        """Record ``produced`` decoded bytes; False once the budget is used up."""
        self.left -= produced
        return self.left >= 0

    def parse(self, size: int) -> bool:
        """Whether ``size`` more characters of hidden source may be parsed (and charge them)."""
        self.parse_left -= size
        return self.parse_left >= 0

    def calls(self, wanted: int) -> int:
        """How many of ``wanted`` calls may still be taken (and charge them)."""
        granted = max(0, min(wanted, self.calls_left))
        self.calls_left -= granted
        return granted


def unwrap(value: str | bytes, budget: Budget | None = None) -> str | None:
    """Python source hidden in ``value`` by encoding and/or compression layers, else None.

    A literal that is already plain source is not "hidden" (None): only text
    reached through at least one decoding or decompression step is returned.
    Each step's output is charged to ``budget``; nothing is decoded once it is
    spent.
    """
    budget = budget if budget is not None else Budget()
    if len(value) < MIN_LITERAL or len(value) > MAX_LITERAL or budget.left <= 0:
        return None
    if isinstance(value, str):
        try:
            data = value.encode("latin-1")  # bytes kept in a str (b'x\x9c' read as text)
        except UnicodeEncodeError:
            return None
    else:
        data = value
    for _ in range(MAX_LAYERS):
        step = _decompress(data) if data[:1] in {b"\x78", b"\x1f", b"B", b"\xfd"} else None
        if step is None:
            step = _decode(data)
        if not step or not budget.spend(len(step)):
            return None
        data = step[:MAX_HIDDEN]
        text = data.decode("utf-8", errors="replace")
        if looks_like_code(text):
            return text
    return None


def parse_hidden(text: str) -> ast.Module | None:
    """The module ``text`` holds, or its longest prefix that parses (two tries); else None."""
    for _ in range(3):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.parse(text)
        except SyntaxError as exc:
            line = (exc.lineno or 0) - 1
            if line <= 0:
                return None
            text = "\n".join(text.splitlines()[:line])
        except (RecursionError, ValueError, MemoryError):
            return None
    return None
