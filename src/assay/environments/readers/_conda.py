"""Conda helpers shared by the conda-family readers.

Match specs, archive file names, channel URLs and the marker environment of a
conda platform (subdir).  Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from assay.environments.graph import marker_environment
from assay.environments.model import Origin, OriginKind

ARCHIVE_SUFFIXES = (".conda", ".tar.bz2")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
_PLAIN_VERSION = re.compile(r"^\d+(\.\d+)*$")

# conda subdir -> (sys_platform, platform_system, platform_machine, os_name)
_SUBDIR_MARKERS: dict[str, tuple[str, str, str, str]] = {
    "linux-64": ("linux", "Linux", "x86_64", "posix"),
    "linux-aarch64": ("linux", "Linux", "aarch64", "posix"),
    "linux-ppc64le": ("linux", "Linux", "ppc64le", "posix"),
    "linux-s390x": ("linux", "Linux", "s390x", "posix"),
    "osx-64": ("darwin", "Darwin", "x86_64", "posix"),
    "osx-arm64": ("darwin", "Darwin", "arm64", "posix"),
    "win-64": ("win32", "Windows", "AMD64", "nt"),
    "win-arm64": ("win32", "Windows", "ARM64", "nt"),
}


@dataclass(frozen=True, slots=True)
class MatchSpec:
    """A conda match spec, split into what assay needs.

    ``version`` is set only when the spec names exactly one version (``==1.2``,
    ``=1.2=build``, or the space form ``name 1.2``); otherwise ``constraint``
    keeps the version part as written (conda's ``=1.2`` means ``1.2.*``).
    """

    name: str
    version: str | None
    constraint: str | None
    build: str | None
    channel: str | None
    subdir: str | None


class MatchSpecError(ValueError):
    """A match spec that conda itself would refuse."""


_SUBDIRS = frozenset(_SUBDIR_MARKERS) | {"noarch"}
# conda's own split of "<version><sep><build>" (models/match_spec.py, _parse_version_plus_build)
_VERSION_BUILD = re.compile(r"((?:.+?)[^><!,|]?)(?:(?<![=!|,<>~])(?:[ =])([^-=,|<>~]+?))?$")


def _split_brackets(spec: str) -> tuple[str, dict[str, str]]:
    """``numpy[version='>=1.2',build=py*]`` -> ("numpy", {"version": ">=1.2", ...})."""
    if "[" not in spec:
        return spec, {}
    if not spec.endswith("]"):
        raise MatchSpecError(f"unbalanced brackets in match spec {spec!r}")
    body, _, inner = spec[:-1].partition("[")
    fields: dict[str, str] = {}
    for key, quoted1, quoted2, bare in re.findall(
        r"""(\w+)\s*=\s*(?:'([^']*)'|"([^"]*)"|([^,\]]*))""", inner
    ):
        fields[key] = (quoted1 or quoted2 or bare).strip()
    return body.strip(), fields


def parse_match_spec(text: str) -> MatchSpec:
    """Parse one ``dependencies:`` entry of an environment file.

    Follows conda's reading: ``=1.2`` is fuzzy (``1.2*``), ``==1.2``, ``=1.2=build``
    and the space form ``name 1.2 [build]`` name one version.
    """
    spec = text.split("#", 1)[0].strip()
    if not spec:
        raise MatchSpecError("empty match spec")
    channel: str | None = None
    subdir: str | None = None
    if "::" in spec:
        channel, _, spec = spec.rpartition("::")
        channel, spec = channel.strip(), spec.strip()
        if "/" in channel and channel.rsplit("/", 1)[1] in _SUBDIRS:
            channel, subdir = channel.rsplit("/", 1)
    spec, fields = _split_brackets(spec)
    match = re.match(r"^([^\s=<>!~]+)\s*(.*)$", spec)
    if match is None or not _NAME.match(match.group(1)):
        raise MatchSpecError(f"invalid package name in match spec {text.strip()!r}")
    name, rest = match.group(1), match.group(2).strip()
    channel = fields.get("channel") or channel
    subdir = fields.get("subdir") or subdir
    if rest and "version" in fields:
        raise MatchSpecError(f"version given twice in match spec {text.strip()!r}")
    written = rest or fields.get("version", "")
    version, build = written, fields.get("build")
    if rest:
        split = _VERSION_BUILD.match(rest)
        if split is None:  # pragma: no cover - the pattern matches every non-empty string
            raise MatchSpecError(f"cannot read match spec {text.strip()!r}")
        version, build = split.group(1).strip(), split.group(2) or build
    exact = _exact_version(version, build)
    if build is not None and any(c in build for c in "*?"):
        build = None
    return MatchSpec(
        name=name,
        version=exact,
        constraint=None if exact is not None else (written or None),
        build=build if exact is not None else None,
        channel=channel or None,
        subdir=subdir,
    )


def _exact_version(version: str, build: str | None) -> str | None:
    """The one version ``version`` allows, following conda's translation rules."""
    if version.startswith("=="):
        candidate = version[2:].strip()
    elif version.startswith("="):
        if build is None:
            return None  # "=1.2" means "1.2*"
        candidate = version[1:].strip()
    else:
        candidate = version
    if not candidate or any(c in "*,|<>!~= " for c in candidate):
        return None
    return candidate


def spec_name(spec: str) -> str:
    """The package name of a ``depends`` entry such as ``libzlib >=1.3.1,<2.0a0``."""
    return re.split(r"[\s=<>!~\[]", spec.strip(), maxsplit=1)[0].rpartition("::")[2]


def is_virtual(name: str) -> bool:
    """Virtual packages (``__glibc``, ``__osx``) describe the host, not a package."""
    return name.startswith("__")


def python_version_from(version: str | None) -> str | None:
    """``3.11.7`` when ``version`` is a full x.y.z Python version."""
    if version is None or not _PLAIN_VERSION.match(version) or version.count(".") != 2:
        return None
    return version


@dataclass(frozen=True, slots=True)
class Archive:
    """What a conda package URL says: channel, subdir and name-version-build."""

    channel: str | None
    subdir: str | None
    name: str | None
    version: str | None
    build: str | None


def parse_archive_location(location: str) -> Archive:
    """Split ``<channel>/<subdir>/<name>-<version>-<build>.conda`` into its parts."""
    path = unquote(urlsplit(location).path) if "://" in location else location
    parent, _, filename = path.rstrip("/").rpartition("/")
    stem = next((filename[: -len(s)] for s in ARCHIVE_SUFFIXES if filename.endswith(s)), None)
    name = version = build = None
    if stem is not None and stem.count("-") >= 2:
        name, version, build = stem.rsplit("-", 2)
    subdir = parent.rpartition("/")[2] if parent else None
    channel: str | None = None
    if stem is not None and subdir and "://" in location:
        channel = location.split("?", 1)[0].rsplit("/", 2)[0]
    return Archive(
        channel=channel,
        subdir=subdir if stem is not None else None,
        name=name,
        version=version,
        build=build,
    )


def is_archive(location: str) -> bool:
    return location.split("?", 1)[0].endswith(ARCHIVE_SUFFIXES)


def channel_origin(channel: str | None) -> Origin:
    return Origin(kind=OriginKind.CHANNEL, url=channel.rstrip("/") if channel else None)


def subdir_marker_environment(subdir: str | None, python_version: str | None) -> dict[str, str]:
    """PEP 508 marker values for a conda platform (the host's for unknown subdirs)."""
    env = marker_environment(python_version)
    values = _SUBDIR_MARKERS.get(subdir or "")
    if values is not None:
        keys = ("sys_platform", "platform_system", "platform_machine", "os_name")
        env.update(zip(keys, values, strict=True))
    return env


def pypi_url_origin(url: str, name: str, version: str, index: str | None) -> Origin:
    """An index origin when ``url`` is a wheel or sdist of ``name`` ``version``, else a URL."""
    filename = unquote(urlsplit(url).path).rpartition("/")[2]
    wanted = canonicalize_name(name)
    found: tuple[str, Version] | None = None
    try:
        if filename.endswith(".whl"):
            parsed_name, parsed_version, _, _ = parse_wheel_filename(filename)
            found = (parsed_name, parsed_version)
        elif filename.endswith((".tar.gz", ".zip")):
            found = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        found = None
    try:
        same_version = found is not None and found[1] == Version(version)
    except InvalidVersion:
        same_version = False
    if found is not None and found[0] == wanted and same_version:
        return Origin(kind=OriginKind.INDEX, url=index)
    return Origin(kind=OriginKind.URL, url=url)


def vcs_origin(url: str) -> Origin:
    """``git+https://host/repo?rev=v1&subdirectory=x#<commit>`` or ``git+url@commit``."""
    vcs, _, rest = url.partition("+")
    base, _, fragment = rest.partition("#")
    base, _, query = base.partition("?")
    params = dict(p.partition("=")[::2] for p in query.split("&") if p)
    commit = fragment or None
    requested = params.get("rev") or params.get("tag") or params.get("branch")
    scheme_sep = base.find("://")
    at = base.rfind("@")
    if at > base.find("/", scheme_sep + 3 if scheme_sep >= 0 else 0) > 0:
        base, rev = base[:at], base[at + 1 :]
        requested = requested or rev
        if commit is None and re.fullmatch(r"[0-9a-f]{40}", rev):
            commit = rev
    return Origin(
        kind=OriginKind.VCS,
        url=base,
        vcs=vcs,
        commit=commit,
        requested_revision=requested,
        subdirectory=params.get("subdirectory"),
    )


_HEX_LENGTHS = {"md5": 32, "sha256": 64}


def hash_error(algorithm: str, value: object) -> str | None:
    """Why ``value`` is not a hex digest of ``algorithm``, or None when it is one."""
    if not isinstance(value, str):
        return f"{algorithm} must be a string, found {type(value).__name__}"
    length = _HEX_LENGTHS.get(algorithm)
    if not re.fullmatch(r"[0-9a-fA-F]+", value) or (length is not None and len(value) != length):
        size = f"{length}-digit " if length is not None else ""
        return f"{algorithm} {value!r} is not a {size}hex digest"
    return None


def item_lines(text: str, key: str) -> list[int]:
    """Line numbers where the items of the top-level YAML list ``key:`` start.

    YAML loaders drop positions; lock files are machine-written with one list
    item per ``- `` line at a fixed indent, so a scan finds them.
    """
    lines = text.splitlines()
    starts: list[int] = []
    inside = False
    indent: str | None = None
    for number, line in enumerate(lines, start=1):
        if not inside:
            inside = line.rstrip() == f"{key}:"
            continue
        if line and not line[0].isspace() and not line.startswith("-"):
            break  # the next top-level key
        stripped = line.lstrip(" ")
        if stripped.startswith("- ") or stripped == "-":
            lead = line[: len(line) - len(stripped)]
            if indent is None:
                indent = lead
            if lead == indent:
                starts.append(number)
    return starts
