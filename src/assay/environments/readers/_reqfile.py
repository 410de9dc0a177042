"""pip's requirements-file syntax: logical lines, options, includes, annotations.

This follows pip's own parser (``pip._internal.req.req_file``): lines ending
in ``\\`` are joined with the next one unless it is a comment line; comments
start at a ``#`` at the start of a line or after whitespace; a line is split into
requirement text and options at the first token starting with ``-``; ``-r``
and ``-c`` files are read relative to the including file, and ``-r`` inside a
``-c`` file still gives requirements (as in pip).  Unlike pip, a file ending
inside a continuation is an error (it is how truncated files look), remote
(``http``) include files are never fetched, and ``${VAR}`` is not expanded.

pip-compile and ``uv pip compile`` annotations (``# via x``, ``# via`` followed by
``#   x`` lines, or an inline ``# via x, y``) are collected per requirement.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, replace
from pathlib import Path

from assay.environments.model import Hash
from assay.environments.ports import ReaderError
from assay.environments.readers._direct_url import file_url_path
from assay.environments.readers._files import decode, read_bytes

_COMMENT = re.compile(r"(^|\s+)#.*$")
_VIA_ITEM = re.compile(r"^\s{2,}(\S.*)$")
_UNSAFE_HEADER = "the following packages are considered to be unsafe"
_STRONG_HASHES = ("sha256", "sha384", "sha512")
_HEX = re.compile(r"[0-9a-fA-F]+")
_MAX_INCLUDE_DEPTH = 32
_MAX_FILES = 512

# pip's requirements-file options (pip 26): long name -> key, and which take a value.
_VALUE_OPTIONS = {
    "--index-url": "index-url",
    "--extra-index-url": "extra-index-url",
    "--find-links": "find-links",
    "--trusted-host": "trusted-host",
    "--requirement": "requirement",
    "--constraint": "constraint",
    "--editable": "editable",
    "--no-binary": "no-binary",
    "--only-binary": "only-binary",
    "--all-releases": "all-releases",
    "--only-final": "only-final",
    "--use-feature": "use-feature",
    "--hash": "hash",
    "--config-settings": "config-settings",
}
_FLAG_OPTIONS = {
    "--no-index": "no-index",
    "--pre": "pre",
    "--prefer-binary": "prefer-binary",
    "--require-hashes": "require-hashes",
    "--no-require-hashes": "no-require-hashes",
}
_SHORT_OPTIONS = {
    "-i": "index-url",
    "-f": "find-links",
    "-r": "requirement",
    "-c": "constraint",
    "-e": "editable",
    "-C": "config-settings",
}
_PER_REQUIREMENT = frozenset({"hash", "config-settings"})
KNOWN_OPTION_PREFIXES = tuple(_VALUE_OPTIONS) + tuple(_FLAG_OPTIONS) + tuple(_SHORT_OPTIONS)


@dataclass(frozen=True, slots=True)
class RequirementLine:
    """One requirement (or ``-e`` value) with where it was written and what annotates it."""

    path: Path
    line: int
    text: str
    editable: bool
    constraint: bool
    hashes: tuple[Hash, ...] = ()
    via: tuple[str, ...] | None = None  # None: no ``# via`` annotation at all
    lead_comments: tuple[str, ...] = ()  # comment lines directly above (pip freeze uses them)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class ParsedFiles:
    """Everything a requirements file (and its includes) says."""

    requirements: tuple[RequirementLine, ...]
    options: tuple[tuple[str, str], ...]  # global options in order: (key, value)
    files: tuple[tuple[Path, bytes], ...]  # every file read, the main file first
    unsafe: tuple[str, ...]  # pip-compile's commented-out "unsafe" packages
    skipped_includes: tuple[str, ...]  # include lines not followed (follow_includes=False)


def _split_comment(number: int, text: str) -> tuple[int, str, str | None]:
    match = _COMMENT.search(text)
    if match is None:
        return number, text.strip(), None
    return number, text[: match.start()].strip(), match.group().lstrip()[1:]


def logical_lines(path: Path, text: str) -> list[tuple[int, str, str | None]]:
    """(first line number, content without comment, comment text after ``#`` or None)."""
    result: list[tuple[int, str, str | None]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        comment_line = _COMMENT.match(raw) is not None
        if raw.endswith("\\") and not comment_line:
            if not pending:
                start = number
            pending.append(raw[:-1])
            continue
        if pending:
            joined = "".join(pending) + ("" if comment_line else raw)
            pending = []
            result.append(_split_comment(start, joined))
            if not comment_line:
                continue
        result.append(_split_comment(number, raw))
    if pending:
        raise ReaderError(path, "file ends inside a '\\' line continuation", line=start)
    return result


def _break_args_options(content: str) -> tuple[str, str]:
    """pip's split: requirement text up to the first token starting with ``-``."""
    tokens = content.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]).strip(), " ".join(tokens[index:])
    return content.strip(), ""


def _long_option(path: Path, number: int, name: str) -> str:
    if name in _VALUE_OPTIONS or name in _FLAG_OPTIONS:
        return name
    matches = [o for o in (*_VALUE_OPTIONS, *_FLAG_OPTIONS) if o.startswith(name)]
    if len(matches) == 1:  # optparse accepts unambiguous abbreviations
        return matches[0]
    raise ReaderError(path, f"unknown option {name!r}", line=number)


def parse_options(path: Path, number: int, text: str) -> list[tuple[str, str]]:
    """``(key, value)`` pairs of an options string; flags have value ``""``."""
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise ReaderError(path, f"cannot split options: {exc}", line=number) from None
    result: list[tuple[str, str]] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.startswith("--"):
            name, eq, value = token.partition("=")
            name = _long_option(path, number, name)
            if name in _FLAG_OPTIONS:
                if eq:
                    raise ReaderError(path, f"option {name} takes no value", line=number)
                result.append((_FLAG_OPTIONS[name], ""))
                continue
            key, has_value = _VALUE_OPTIONS[name], bool(eq)
        elif token.startswith("-") and token[:2] in _SHORT_OPTIONS:
            name, value = token[:2], token[2:]
            key, has_value = _SHORT_OPTIONS[name], bool(value)
        elif token.startswith("-"):
            raise ReaderError(path, f"unknown option {token!r}", line=number)
        else:
            raise ReaderError(path, f"unexpected {token!r} among options", line=number)
        if not has_value:
            if index >= len(tokens):
                raise ReaderError(path, f"option {name} needs a value", line=number)
            value = tokens[index]
            index += 1
        result.append((key, value))
    return result


def parse_hash(path: Path, number: int, value: str) -> Hash:
    algorithm, sep, digest = value.partition(":")
    if not sep or not _HEX.fullmatch(digest):
        raise ReaderError(path, f"--hash must look like sha256:<hex>, found {value!r}", line=number)
    if algorithm not in _STRONG_HASHES:
        allowed = ", ".join(_STRONG_HASHES)
        raise ReaderError(path, f"--hash algorithm must be one of {allowed}", line=number)
    return Hash(algorithm, digest)


class _Parser:
    def __init__(self, follow_includes: bool) -> None:
        self.follow_includes = follow_includes
        self.requirements: list[RequirementLine] = []
        self.via: dict[int, list[str]] = {}
        self.options: list[tuple[str, str]] = []
        self.files: list[tuple[Path, bytes]] = []
        self.unsafe: list[str] = []
        self.skipped: list[str] = []

    def parse(self, path: Path, constraint: bool, stack: tuple[Path, ...]) -> None:
        data = read_bytes(path)
        self.files.append((path, data))
        current: int | None = None  # index of the requirement annotations attach to
        in_via = in_unsafe = False
        lead: list[str] = []
        for number, content, comment in logical_lines(path, decode(path, data)):
            if content:
                in_via = in_unsafe = False
                current = self._line(
                    path, number, content, constraint=constraint, stack=stack, lead=tuple(lead)
                )
                lead = []
                if current is not None and comment is not None:
                    self._inline_via(current, comment)
                continue
            if comment is None:  # blank line
                in_via = in_unsafe = False
                lead = []
                continue
            stripped = comment.strip()
            if in_via and current is not None and (item := _VIA_ITEM.match(comment)):
                self.via[current].append(item.group(1).strip())
            elif stripped == "via" and current is not None:
                self.via.setdefault(current, [])
                in_via = True
            elif stripped.startswith("via ") and current is not None:
                self._inline_via(current, comment)
            elif _UNSAFE_HEADER in stripped.lower():
                in_unsafe, in_via = True, False
            elif in_unsafe and stripped:
                self.unsafe.append(stripped)
            else:
                in_via = False
                lead.append(stripped)

    def _inline_via(self, index: int, comment: str) -> None:
        stripped = comment.strip()
        if stripped.startswith("via "):
            items = [i.strip() for i in stripped[4:].split(",") if i.strip()]
            self.via.setdefault(index, []).extend(items)

    def _line(
        self,
        path: Path,
        number: int,
        content: str,
        *,
        constraint: bool,
        stack: tuple[Path, ...],
        lead: tuple[str, ...],
    ) -> int | None:
        args, option_text = _break_args_options(content)
        options = parse_options(path, number, option_text) if option_text else []
        editables = [value for key, value in options if key == "editable"]
        per_requirement = [(k, v) for k, v in options if k in _PER_REQUIREMENT]
        global_options = [(k, v) for k, v in options if k not in _PER_REQUIREMENT | {"editable"}]
        if args or editables:
            if global_options:
                raise ReaderError(
                    path,
                    f"option --{global_options[0][0]} cannot follow a requirement",
                    line=number,
                )
            if len(editables) + bool(args) > 1:
                raise ReaderError(path, "more than one requirement on one line", line=number)
            hashes = tuple(parse_hash(path, number, v) for k, v in per_requirement if k == "hash")
            requirement = RequirementLine(
                path=path,
                line=number,
                text=args or editables[0],
                editable=bool(editables),
                constraint=constraint,
                hashes=hashes,
                lead_comments=lead,
            )
            self.requirements.append(requirement)
            return len(self.requirements) - 1
        if per_requirement:
            key = per_requirement[0][0]
            raise ReaderError(path, f"option --{key} must follow a requirement", line=number)
        for key, value in global_options:
            if key in ("requirement", "constraint"):
                self._include(path, number, value, key == "constraint", stack)
            else:
                self.options.append((key, value))
        return None

    def _include(
        self, path: Path, number: int, target: str, constraint: bool, stack: tuple[Path, ...]
    ) -> None:
        flag = "-c" if constraint else "-r"
        if not self.follow_includes:
            self.skipped.append(f"{flag} {target}")
            return
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", target) and not target.startswith("file:"):
            raise ReaderError(path, f"remote file {flag} {target} is not fetched", line=number)
        if target.startswith("file:"):
            target_path = Path(file_url_path(target))
        else:
            target_path = path.parent / target
        resolved = target_path.resolve()
        if resolved in stack:
            chain = " -> ".join(p.name for p in (*stack, resolved))
            raise ReaderError(path, f"{flag} {target} is an include cycle ({chain})", line=number)
        if len(stack) >= _MAX_INCLUDE_DEPTH or len(self.files) >= _MAX_FILES:
            raise ReaderError(path, f"{flag} {target}: too many nested include files", line=number)
        if not target_path.is_file():
            reason = "is not a file" if target_path.exists() else "does not exist"
            raise ReaderError(path, f"{flag} {target}: {target_path} {reason}", line=number)
        self.parse(target_path, constraint, (*stack, resolved))

    def result(self) -> ParsedFiles:
        requirements = tuple(
            replace(r, via=tuple(self.via[i])) if i in self.via else r
            for i, r in enumerate(self.requirements)
        )
        return ParsedFiles(
            requirements=requirements,
            options=tuple(self.options),
            files=tuple(self.files),
            unsafe=tuple(self.unsafe),
            skipped_includes=tuple(self.skipped),
        )


def parse_files(path: Path, *, follow_includes: bool = True) -> ParsedFiles:
    """Parse ``path`` and (when asked) every file it includes with ``-r`` / ``-c``."""
    parser = _Parser(follow_includes)
    parser.parse(path, constraint=False, stack=(path.resolve(),))
    return parser.result()
