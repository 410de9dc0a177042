"""Helpers shared by the TOML lock readers (``pylock.toml``, ``uv.lock``, ``pdm.lock``).

Lock files carry no positions once parsed, so :class:`LockDocument` remembers
the line of every ``[[package]]``-style header: an error about the fifth
package can then name the line where that package starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qs, urlsplit, urlunsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from assay.environments.model import Hash
from assay.environments.ports import ReaderError
from assay.environments.readers._files import decode, digest, parse_toml, read_bytes

_HEX = re.compile(r"[0-9a-fA-F]+")
_ALGORITHM = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class LockDocument:
    """A parsed TOML lock file, its digest, and where each package table starts."""

    path: Path
    data: dict[str, Any]
    digest: str
    package_lines: tuple[int, ...]

    def fail(self, message: str, index: int | None = None) -> NoReturn:
        """Raise a ReaderError, naming the line of package ``index`` when it is known."""
        line = None
        if index is not None and 0 <= index < len(self.package_lines):
            line = self.package_lines[index]
        raise ReaderError(self.path, message, line=line)


def load_lock(path: Path, header: str) -> LockDocument:
    """Read and parse ``path``; ``header`` is the array-of-tables key (``package``)."""
    raw = read_bytes(path)
    text = decode(path, raw)
    data = parse_toml(path, text)
    wanted = f"[[{header}]]"
    lines = tuple(
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if line.split("#", 1)[0].strip() == wanted
    )
    entries = data.get(header)
    if not isinstance(entries, list) or len(entries) != len(lines):
        lines = ()  # written as an inline array: positions are unknown
    return LockDocument(path=path, data=data, digest=digest(raw), package_lines=lines)


def entry_label(entry: dict[str, Any], index: int) -> str:
    """``package 'name'`` when the entry has a usable name, else ``package #n``."""
    name = entry.get("name")
    return f"package {name!r}" if isinstance(name, str) and name else f"package #{index + 1}"


def table(doc: LockDocument, value: Any, what: str, index: int | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        doc.fail(f"{what} must be a table, found {type(value).__name__}", index)
    return value


def array(doc: LockDocument, value: Any, what: str, index: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        doc.fail(f"{what} must be an array, found {type(value).__name__}", index)
    return value


def string(doc: LockDocument, value: Any, what: str, index: int | None = None) -> str:
    if not isinstance(value, str):
        doc.fail(f"{what} must be a string, found {type(value).__name__}", index)
    return value


def opt_string(doc: LockDocument, value: Any, what: str, index: int | None = None) -> str | None:
    return None if value is None else string(doc, value, what, index)


def opt_bool(doc: LockDocument, value: Any, what: str, index: int | None = None) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        doc.fail(f"{what} must be true or false, found {type(value).__name__}", index)
    return value


def strings(doc: LockDocument, value: Any, what: str, index: int | None = None) -> list[str]:
    """An optional array of strings (missing means empty)."""
    if value is None:
        return []
    return [string(doc, item, f"{what} entry", index) for item in array(doc, value, what, index)]


def package_name(doc: LockDocument, entry: dict[str, Any], index: int) -> str:
    name = entry.get("name")
    if name is None:
        doc.fail(f"package #{index + 1} has no name", index)
    name = string(doc, name, f"package #{index + 1} name", index)
    if not name.strip():
        doc.fail(f"package #{index + 1} has an empty name", index)
    return name


def hash_value(doc: LockDocument, algorithm: str, value: Any, what: str, index: int) -> Hash:
    value = string(doc, value, what, index)
    if not _ALGORITHM.fullmatch(algorithm) or not _HEX.fullmatch(value):
        doc.fail(f"{what} is not an algorithm and hex digest: {algorithm}:{value}", index)
    return Hash(algorithm, value)


def hash_string(doc: LockDocument, value: Any, what: str, index: int) -> Hash:
    """A ``sha256:<hex>`` string (uv.lock, pdm.lock)."""
    text = string(doc, value, what, index)
    algorithm, sep, hexdigest = text.partition(":")
    if not sep:
        doc.fail(f"{what} is not of the form algorithm:hex: {text!r}", index)
    return hash_value(doc, algorithm, hexdigest, what, index)


def hash_table(doc: LockDocument, value: Any, what: str, index: int) -> list[Hash]:
    """A ``{sha256 = "<hex>"}`` table with at least one entry (pylock.toml)."""
    hashes = table(doc, value, what, index)
    if not hashes:
        doc.fail(f"{what} is empty; at least one hash is required", index)
    return [hash_value(doc, alg, val, f"{what} {alg}", index) for alg, val in hashes.items()]


def requirement_name(doc: LockDocument, value: Any, what: str, index: int) -> str:
    """The canonical project name of a PEP 508 requirement string."""
    text = string(doc, value, what, index)
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement as exc:
        doc.fail(f"{what} is not a valid requirement: {text!r} ({exc})", index)


@dataclass(frozen=True, slots=True)
class GitReference:
    """A git URL as locks write it: ``<url>?rev=<ref>&subdirectory=<dir>#<commit>``."""

    url: str
    requested_revision: str | None
    commit: str | None
    subdirectory: str | None


def parse_git_url(raw: str) -> GitReference:
    parts = urlsplit(raw.removeprefix("git+"))
    query = parse_qs(parts.query)
    revision = None
    for key in ("rev", "tag", "branch"):
        if query.get(key):
            revision = query[key][0]
            break
    subdirectory = query["subdirectory"][0] if query.get("subdirectory") else None
    url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return GitReference(
        url=url,
        requested_revision=revision,
        commit=parts.fragment or None,
        subdirectory=subdirectory,
    )


def unversioned_note(count: int, why: str) -> str:
    noun = "package has" if count == 1 else "packages have"
    return f"{count} {noun} no version in the lock ({why})"
