"""Direct references shared by pip's formats: URL strings and ``direct_url.json`` data.

Requirement lines (``name @ url``, ``-e git+...#egg=name``, ``pip freeze``
output) and pip's JSON (PEP 610 ``direct_url`` / ``download_info`` objects)
both describe where a package came from.  Both are turned into an
:class:`Origin` plus the artifact hashes they carry.  Credentials inside URLs
are never copied: passwords (and, for HTTP, user names, which are often tokens)
are replaced with ``***``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit
from urllib.request import url2pathname

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from assay.environments.model import Hash, Origin, OriginKind
from assay.environments.ports import ReaderError
from assay.environments.readers._files import optional_str, require_mapping, require_str

VCS_NAMES = frozenset({"git", "hg", "svn", "bzr"})
_HASH_NAMES = frozenset({"md5", "sha1", "sha224", "sha256", "sha384", "sha512"})
_HEX = re.compile(r"[0-9a-fA-F]+")
_COMMIT = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")
ARCHIVE_SUFFIXES = (
    ".whl",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tar",
    ".zip",
)


@dataclass(frozen=True, slots=True)
class DirectReference:
    """What a URL string says: origin, fragment hashes, ``#egg=`` name, filename version."""

    origin: Origin
    hashes: tuple[Hash, ...]
    egg: str | None
    filename_name: str | None
    filename_version: str | None


def redact(url: str) -> str:
    """``url`` without secrets in its user-info part."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    if parts.scheme.split("+")[-1] in ("http", "https"):
        safe = "***"
    else:
        safe = f"{user}:***" if has_password else user
    return urlunsplit(parts._replace(netloc=f"{safe}@{host}"))


def is_vcs_url(text: str) -> bool:
    scheme = text.split(":", 1)[0].lower()
    return "+" in scheme and scheme.split("+", 1)[0] in VCS_NAMES


def _fragment(fragment: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in fragment.split("&"):
        key, eq, value = item.partition("=")
        if eq:
            params[key.strip().lower()] = unquote(value.strip())
    return params


def _hashes_from(path: Path, params: dict[str, str], line: int | None) -> tuple[Hash, ...]:
    found: list[Hash] = []
    for key, value in params.items():
        if key in _HASH_NAMES:
            if not _HEX.fullmatch(value):
                raise ReaderError(path, f"URL fragment {key}= is not a hex digest", line=line)
            found.append(Hash(key, value))
    return tuple(found)


def _filename_version(url_path: str) -> tuple[str | None, str | None]:
    """Name and version from a wheel or sdist file name (both are normative there)."""
    filename = unquote(url_path.rstrip("/").rsplit("/", 1)[-1])
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return str(name), str(version)
        if filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            return str(name), str(version)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None, None
    return None, None


def file_url_path(url: str) -> str:
    """The local path of a ``file:`` URL (``file:/x`` and ``file:///x`` alike)."""
    return url2pathname(urlsplit(url).path)


def parse_url(path: Path, url: str, *, editable: bool, line: int | None) -> DirectReference:
    """A direct reference from a URL as requirement lines write it."""
    bare, _, fragment = url.partition("#")
    params = _fragment(fragment)
    hashes = _hashes_from(path, params, line)
    subdirectory = params.get("subdirectory")
    egg = params.get("egg")
    scheme = bare.split(":", 1)[0].lower() if ":" in bare else ""
    if is_vcs_url(bare):
        vcs, inner = bare.split("+", 1)
        parts = urlsplit(inner)
        revision = None
        if "@" in parts.path:
            repo_path, revision = parts.path.rsplit("@", 1)
            parts = parts._replace(path=repo_path)
        commit = revision if revision and _COMMIT.fullmatch(revision) else None
        origin = Origin(
            kind=OriginKind.VCS,
            url=redact(urlunsplit(parts)),
            vcs=vcs.lower(),
            commit=commit.lower() if commit else None,
            requested_revision=revision or None,
            subdirectory=subdirectory,
            editable=editable,
        )
        return DirectReference(origin, hashes, egg, None, None)
    name, version = _filename_version(urlsplit(bare).path)
    if scheme == "file":
        origin = Origin(
            kind=OriginKind.DIRECTORY,
            url=bare,
            path=file_url_path(bare),
            subdirectory=subdirectory,
            editable=editable,
        )
    elif scheme in ("http", "https", "ftp"):
        origin = Origin(kind=OriginKind.URL, url=redact(bare), subdirectory=subdirectory)
    else:
        raise ReaderError(path, f"unsupported URL scheme in {redact(url)!r}", line=line)
    return DirectReference(origin, hashes, egg, name, version)


def parse_local_path(location: str, *, editable: bool) -> DirectReference:
    """A direct reference to a local directory or archive, as written (not resolved)."""
    bare, _, fragment = location.partition("#")
    params = _fragment(fragment)
    name, version = _filename_version(bare)
    origin = Origin(
        kind=OriginKind.DIRECTORY,
        path=bare,
        subdirectory=params.get("subdirectory"),
        editable=editable,
    )
    return DirectReference(origin, (), params.get("egg"), name, version)


def name_matches(expected: str, found: str | None) -> bool:
    return found is not None and canonicalize_name(found) == canonicalize_name(expected)


def _archive_hashes(path: Path, info: dict[str, Any], what: str) -> tuple[Hash, ...]:
    found: set[Hash] = set()
    hashes = info.get("hashes")
    if hashes is not None:
        for algorithm, value in require_mapping(path, hashes, f"{what}.hashes").items():
            digest = require_str(path, value, f"{what}.hashes.{algorithm}")
            if not _HEX.fullmatch(digest):
                raise ReaderError(path, f"{what}.hashes.{algorithm} is not a hex digest")
            found.add(Hash(algorithm, digest))
    legacy = optional_str(path, info.get("hash"), f"{what}.hash")
    if legacy is not None:
        algorithm, eq, digest = legacy.partition("=")
        if not eq or not _HEX.fullmatch(digest):
            raise ReaderError(path, f"{what}.hash must look like 'sha256=<hex>'")
        found.add(Hash(algorithm, digest))
    return tuple(sorted(found))


def from_direct_url(path: Path, value: Any, what: str) -> tuple[Origin, tuple[Hash, ...]]:
    """Origin and archive hashes from a PEP 610 ``direct_url`` / pip ``download_info`` object."""
    data = require_mapping(path, value, what)
    url = require_str(path, data.get("url"), f"{what}.url")
    subdirectory = optional_str(path, data.get("subdirectory"), f"{what}.subdirectory")
    is_file = url.lower().startswith("file:")
    if "vcs_info" in data:
        vcs_info = require_mapping(path, data["vcs_info"], f"{what}.vcs_info")
        origin = Origin(
            kind=OriginKind.VCS,
            url=redact(url),
            vcs=require_str(path, vcs_info.get("vcs"), f"{what}.vcs_info.vcs"),
            commit=require_str(path, vcs_info.get("commit_id"), f"{what}.vcs_info.commit_id"),
            requested_revision=optional_str(
                path, vcs_info.get("requested_revision"), f"{what}.vcs_info.requested_revision"
            ),
            subdirectory=subdirectory,
        )
        return origin, ()
    if "archive_info" in data:
        info = require_mapping(path, data["archive_info"], f"{what}.archive_info")
        hashes = _archive_hashes(path, info, f"{what}.archive_info")
        if is_file:
            local = Origin(
                kind=OriginKind.DIRECTORY,
                url=url,
                path=file_url_path(url),
                subdirectory=subdirectory,
            )
            return local, hashes
        return Origin(kind=OriginKind.URL, url=redact(url), subdirectory=subdirectory), hashes
    if "dir_info" in data:
        info = require_mapping(path, data["dir_info"], f"{what}.dir_info")
        editable = info.get("editable", False)
        if not isinstance(editable, bool):
            raise ReaderError(path, f"{what}.dir_info.editable must be true or false")
        local_path = file_url_path(url) if is_file else None
        origin = Origin(
            kind=OriginKind.DIRECTORY,
            url=url if is_file else redact(url),
            path=local_path,
            subdirectory=subdirectory,
            editable=editable,
        )
        return origin, ()
    raise ReaderError(path, f"{what} has none of vcs_info, archive_info, dir_info")
