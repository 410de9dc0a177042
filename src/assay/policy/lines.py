"""Where each key of a TOML document is written, so errors can name the line.

A light line scanner, not a second parser: it follows ``[table]`` and
``[[array]]`` headers and ``key = value`` lines (dotted and quoted keys too).
A value inside an inline table or a multi-line array is reported at the line
of the key that holds it.  ``line(path)`` falls back to the nearest enclosing
key or header that was found.
"""

from __future__ import annotations

import re

_KEY_LINE = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_PART = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")

Path = tuple[str | int, ...]


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in _PART.findall(dotted))


class KeyLines:
    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        arrays: dict[tuple[str, ...], int] = {}
        current: Path = ()
        depth = 0  # open brackets of a multi-line value
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if depth > 0:
                depth = max(0, depth + _balance(line))
                continue
            if not line or line.startswith("#"):
                continue
            if line.startswith("[["):
                name = _parts(line[2 : line.find("]]")])
                index = arrays.get(name, -1) + 1
                arrays[name] = index
                current = (*name, index)
                self._lines.setdefault(current, number)
                continue
            if line.startswith("["):
                current = _parts(line[1 : line.find("]")])
                self._lines.setdefault(current, number)
                continue
            match = _KEY_LINE.match(raw)
            if match is None:
                continue
            key_path = (*current, *_parts(match.group(1)))
            for end in range(len(current) + 1, len(key_path) + 1):
                self._lines.setdefault(key_path[:end], number)
            depth = max(0, _balance(raw[match.end() :]))

    def line(self, path: Path) -> int | None:
        """The line of ``path`` or of its nearest enclosing key; None when none is known."""
        for end in range(len(path), 0, -1):
            found = self._lines.get(path[:end])
            if found is not None:
                return found
        return None


def _balance(value: str) -> int:
    """Open minus closed brackets outside strings and comments (for multi-line values)."""
    count = 0
    quote = ""
    for char in value:
        if quote:
            if char == quote:
                quote = ""
            continue
        if char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "[{":
            count += 1
        elif char in "]}":
            count -= 1
    return count
