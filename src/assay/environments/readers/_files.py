"""Safe, bounded file loading shared by every reader.

Each loader turns every way a file can be bad (missing, unreadable, too big,
wrong encoding, malformed, nested too deeply, YAML aliases) into a
:class:`ReaderError` naming the file and, where the format has lines, the line.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import tomli

from assay.environments.ports import ReaderError

MAX_FILE_BYTES = int(os.environ.get("ASSAY_MAX_FILE_BYTES", str(256 * 1024 * 1024)))
MAX_NESTING = 64


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes, or a ReaderError saying why not.

    Only regular files are read: a FIFO, socket or device is refused before any
    read, so a path such as ``mkfifo requirements.txt`` cannot hang a command.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ReaderError(path, "no such file") from None
    except PermissionError:
        raise ReaderError(path, "permission denied") from None
    except OSError as exc:
        raise ReaderError(path, f"cannot read: {exc.strerror or exc}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise ReaderError(path, "is a directory, expected a file")
        raise ReaderError(path, "not a regular file (a FIFO, socket or device)")
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise ReaderError(path, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ReaderError(path, f"file is larger than the {limit} byte limit")
    return data


def decode(path: Path, data: bytes) -> str:
    """UTF-8 text (a BOM is allowed); a bad byte is reported with its line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ReaderError(path, "not valid UTF-8 text", line=line) from None


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    return decode(path, read_bytes(path, limit))


def head(path: Path, size: int = 4096) -> bytes:
    """The first ``size`` bytes, or ``b""`` when the file cannot be read (for sniffing)."""
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError:
        return b""


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def digest_files(parts: Iterable[tuple[str, bytes]]) -> str:
    """A digest over (relative path, content) pairs, independent of their order."""
    outer = hashlib.sha256()
    for rel, content in sorted(parts, key=lambda item: item[0]):
        outer.update(rel.encode("utf-8") + b"\0" + hashlib.sha256(content).digest())
    return "sha256:" + outer.hexdigest()


def _check_depth(path: Path, value: Any, *, yaml_aliases: bool = False) -> None:
    """Reject documents nested deeper than MAX_NESTING and, for YAML, alias re-use.

    Only YAML can make one node appear twice (``&a`` / ``*a``); JSON and TOML
    parsers build a fresh object per value, so they skip the identity check.
    """
    seen: set[int] = set()
    if not isinstance(value, dict | list):
        return
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            raise ReaderError(path, f"nested more than {MAX_NESTING} levels deep")
        if yaml_aliases:
            if id(node) in seen:
                raise ReaderError(path, "uses YAML aliases, which lock files never need")
            seen.add(id(node))
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def parse_json(path: Path, text: str) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReaderError(path, f"invalid JSON: {exc.msg}", line=exc.lineno) from None
    except RecursionError:
        raise ReaderError(path, "JSON nested too deeply") from None
    _check_depth(path, value)
    return value


def load_json(path: Path) -> Any:
    return parse_json(path, read_text(path))


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    try:
        value = tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        message = str(exc).split(" (at line", 1)[0].replace(" (at end of document)", "")
        if line is None and "(at line " in str(exc):
            line = int(str(exc).split("(at line ", 1)[1].split(",", 1)[0])
        if line is None and "(at end of document)" in str(exc):
            line = text.count("\n") + 1
        raise ReaderError(path, f"invalid TOML: {message}", line=line) from None
    except RecursionError:
        raise ReaderError(path, "TOML nested too deeply") from None
    _check_depth(path, value)
    return value


def load_toml(path: Path) -> dict[str, Any]:
    return parse_toml(path, read_text(path))


def parse_yaml(path: Path, text: str) -> Any:
    import yaml  # noqa: PLC0415 - imported on first use: most commands never read YAML

    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        value = yaml.load(text, Loader=loader)  # noqa: S506 - CSafeLoader/SafeLoader only
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ReaderError(path, f"invalid YAML: {exc.problem or exc.context}", line=line) from None
    except yaml.YAMLError as exc:
        raise ReaderError(path, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise ReaderError(path, "YAML nested too deeply") from None
    _check_depth(path, value, yaml_aliases=True)
    return value


def load_yaml(path: Path) -> Any:
    return parse_yaml(path, read_text(path))


def require_mapping(path: Path, value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ReaderError(path, f"{what} must be a mapping, found {type(value).__name__}")
    return value


def require_list(path: Path, value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ReaderError(path, f"{what} must be a list, found {type(value).__name__}")
    return value


def require_str(path: Path, value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ReaderError(path, f"{what} must be a string, found {type(value).__name__}")
    return value


def require_name(path: Path, value: Any, what: str) -> str:
    """A package name: a string with something other than white space in it."""
    name = require_str(path, value, what)
    if not name.strip():
        raise ReaderError(path, f"{what} is empty")
    return name


def optional_str(path: Path, value: Any, what: str) -> str | None:
    return None if value is None else require_str(path, value, what)


def sniff_file(
    path: Path,
    *,
    named: Callable[[str], bool],
    content: Callable[[bytes], bool],
    suffixes: tuple[str, ...] = (),
) -> bool:
    """The shape of every file reader's ``sniff``; never raises.

    True for a regular file whose name the format owns (``named``), or whose
    name ends with one of ``suffixes`` (any name when empty, compared in lower
    case) and whose first bytes satisfy ``content``.
    """
    try:
        if not path.is_file():
            return False
    except OSError:
        return False
    if named(path.name):
        return True
    if suffixes and not path.name.lower().endswith(suffixes):
        return False
    return content(head(path))
