"""pip's JSON: ``pip inspect`` (installed packages) and ``pip install --report``.

Both are format version "1" and carry each distribution's core metadata in
its JSON form plus the marker ``environment`` pip ran in.  Dependencies come
from ``requires_dist`` evaluated with that environment, restricted to packages
present; the extras a package is installed with are the report's
``requested_extras`` plus every extra another present package asks for
(propagated until nothing changes).  ``pip inspect`` origins come from each
``direct_url`` (PEP 610); without one, a package installed by pip or uv came
from an index (PEP 610 says a direct URL is always recorded), otherwise the
origin is unknown.  Report hashes come from ``download_info.archive_info``.
Summary, authors, maintainers and links come from the same metadata object.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from packaging.markers import UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from assay.environments import core_metadata, licenses
from assay.environments.graph import requirement_edges
from assay.environments.model import (
    Environment,
    Hash,
    HashSource,
    License,
    Origin,
    OriginKind,
    Package,
    Source,
)
from assay.environments.ports import EnvironmentReader, ReaderError
from assay.environments.readers._direct_url import from_direct_url
from assay.environments.readers._files import (
    decode,
    digest,
    head,
    optional_str,
    parse_json,
    read_bytes,
    require_list,
    require_mapping,
    require_str,
)

_VERSION = re.compile(rb'"version"\s*:\s*"1"')
_INSTALLED = re.compile(rb'"installed"\s*:')
_INSTALL = re.compile(rb'"install"\s*:')
_INDEX_INSTALLERS = frozenset({"pip", "uv"})


@dataclass(frozen=True, slots=True)
class _Dist:
    """One distribution before the graph is known."""

    package: Package
    requires: tuple[str, ...]
    requested_extras: tuple[str, ...]


def _str_list(path: Path, value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = require_list(path, value, what)
    return tuple(require_str(path, item, f"{what}[{i}]") for i, item in enumerate(items))


@dataclass(frozen=True, slots=True)
class _Metadata:
    name: str
    version: str
    requires: tuple[str, ...]
    license: License | None
    details: core_metadata.Details


def _metadata(path: Path, value: Any, what: str) -> _Metadata:
    """Name, version, requires_dist, license and details of a JSON core-metadata object."""
    meta = require_mapping(path, value, what)
    name = require_str(path, meta.get("name"), f"{what}.name")
    version = require_str(path, meta.get("version"), f"{what}.version")
    if not name.strip() or not version.strip():
        raise ReaderError(path, f"{what} has an empty name or version")
    requires = _str_list(path, meta.get("requires_dist"), f"{what}.requires_dist")
    license_ = licenses.from_metadata(
        optional_str(path, meta.get("license_expression"), f"{what}.license_expression"),
        optional_str(path, meta.get("license"), f"{what}.license"),
        _str_list(path, meta.get("classifier"), f"{what}.classifier"),
    )

    def text(key: str) -> str | None:
        return optional_str(path, meta.get(key), f"{what}.{key}")

    details = core_metadata.details(
        summary=text("summary"),
        author=text("author"),
        author_email=text("author_email"),
        maintainer=text("maintainer"),
        maintainer_email=text("maintainer_email"),
        home_page=text("home_page"),
        download_url=text("download_url"),
        project_url=_str_list(path, meta.get("project_url"), f"{what}.project_url"),
    )
    return _Metadata(name, version, requires, license_, details)


def _environment(path: Path, document: dict[str, Any]) -> dict[str, str]:
    env = require_mapping(path, document.get("environment"), "environment")
    for key, value in env.items():
        require_str(path, value, f"environment.{key}")
    return dict(env)


def _applies(req: Requirement, env: Mapping[str, str], extras: set[str]) -> bool:
    if req.marker is None:
        return True
    try:
        return any(req.marker.evaluate({**env, "extra": e}) for e in ("", *sorted(extras)))
    except (UndefinedComparison, UndefinedEnvironmentName):
        return True


def _extras(dists: list[_Dist], env: Mapping[str, str]) -> dict[str, set[str]]:
    """Extras each present package is installed with: requested plus asked for by others."""
    extras: dict[str, set[str]] = {}
    for dist in dists:
        wanted = extras.setdefault(dist.package.canonical_name, set())
        wanted.update(canonicalize_name(e) for e in dist.requested_extras)
    parsed: list[tuple[str, list[Requirement]]] = []
    for dist in dists:
        reqs: list[Requirement] = []
        for line in dist.requires:
            try:
                reqs.append(Requirement(line))
            except InvalidRequirement:
                continue  # graph.requirement_edges skips these too
        parsed.append((dist.package.canonical_name, reqs))
    changed = True
    while changed:
        changed = False
        for name, reqs in parsed:
            for req in reqs:
                target = extras.get(canonicalize_name(req.name))
                if target is None or not req.extras or not _applies(req, env, extras[name]):
                    continue
                new = {canonicalize_name(e) for e in req.extras} - target
                if new:
                    target.update(new)
                    changed = True
    return extras


def _build(
    path: Path,
    data: bytes,
    document: dict[str, Any],
    *,
    format_name: str,
    dists: list[_Dist],
    notes: list[str],
) -> Environment:
    env = _environment(path, document)
    extras = _extras(dists, env)
    present = set(extras)
    packages = []
    for dist in dists:
        name = dist.package.canonical_name
        deps = requirement_edges(dist.requires, env, sorted(extras[name]))
        kept = tuple(d for d in deps if d in present and d != name)
        packages.append(replace(dist.package, extras=tuple(extras[name]), dependencies=kept))
    machine, system = env.get("platform_machine"), env.get("sys_platform")
    pip_version = optional_str(path, document.get("pip_version"), "pip_version")
    return Environment(
        source=Source(kind=format_name, path=str(path), digest=digest(data)),
        packages=tuple(packages),
        python_version=env.get("python_full_version") or env.get("python_version"),
        platform=f"{system}-{machine}" if system and machine else system or None,
        notes=tuple(notes),
        properties=(("pip-version", pip_version),) if pip_version else (),
    )


def _load(path: Path, key: str, tool: str) -> tuple[bytes, dict[str, Any], list[Any]]:
    data = read_bytes(path)
    document = require_mapping(path, parse_json(path, decode(path, data)), "the document")
    version = document.get("version")
    if version != "1":
        raise ReaderError(path, f"unsupported {tool} format version {version!r} (expected '1')")
    return data, document, require_list(path, document.get(key), key)


def _sniff(path: Path, key: re.Pattern[bytes]) -> bool:
    try:
        if not path.is_file() or path.suffix.lower() != ".json":
            return False
    except OSError:
        return False
    start = head(path, 1024)
    return bool(_VERSION.search(start) and key.search(start))


def _optional_bool(path: Path, value: Any, what: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ReaderError(path, f"{what} must be true or false, found {type(value).__name__}")


class PipInspectReader(EnvironmentReader):
    """The JSON ``pip inspect`` prints for an environment."""

    format_name: ClassVar[str] = "pip-inspect"
    description: ClassVar[str] = "`pip inspect` JSON report of an installed environment"

    def sniff(self, path: Path) -> bool:
        return _sniff(path, _INSTALLED)

    def read(self, path: Path) -> Environment:
        data, document, installed = _load(path, "installed", "pip inspect")
        dists = []
        for index, raw in enumerate(installed):
            what = f"installed[{index}]"
            item = require_mapping(path, raw, what)
            meta = _metadata(path, item.get("metadata"), f"{what}.metadata")
            installer = optional_str(path, item.get("installer"), f"{what}.installer")
            hashes: tuple[Hash, ...] = ()
            if item.get("direct_url") is not None:
                origin, hashes = from_direct_url(path, item["direct_url"], f"{what}.direct_url")
            elif installer is not None and installer.strip().lower() in _INDEX_INSTALLERS:
                origin = Origin(kind=OriginKind.INDEX)
            else:
                origin = Origin(kind=OriginKind.UNKNOWN)
            package = Package(
                name=meta.name,
                version_raw=meta.version,
                hashes=hashes,
                hash_source=HashSource.REPORT if hashes else None,
                origin=origin,
                installer=installer.strip() if installer else None,
                requested=_optional_bool(path, item.get("requested"), f"{what}.requested"),
                license=meta.license,
                **meta.details,
            )
            dists.append(_Dist(package, meta.requires, ()))
        return _build(path, data, document, format_name=self.format_name, dists=dists, notes=[])


class PipReportReader(EnvironmentReader):
    """The JSON ``pip install --report`` writes (what pip would install)."""

    format_name: ClassVar[str] = "pip-report"
    description: ClassVar[str] = "`pip install --report` JSON installation report"

    def sniff(self, path: Path) -> bool:
        return _sniff(path, _INSTALL)

    def read(self, path: Path) -> Environment:
        data, document, install = _load(path, "install", "pip install --report")
        dists = []
        yanked: list[str] = []
        for index, raw in enumerate(install):
            what = f"install[{index}]"
            item = require_mapping(path, raw, what)
            meta = _metadata(path, item.get("metadata"), f"{what}.metadata")
            origin, hashes = from_direct_url(
                path, item.get("download_info"), f"{what}.download_info"
            )
            if not _optional_bool(path, item.get("is_direct"), f"{what}.is_direct"):
                origin = Origin(kind=OriginKind.INDEX)  # the URL is an index's file, not a request
            if _optional_bool(path, item.get("is_yanked"), f"{what}.is_yanked"):
                yanked.append(f"{meta.name} {meta.version}")
            package = Package(
                name=meta.name,
                version_raw=meta.version,
                hashes=hashes,
                hash_source=HashSource.REPORT if hashes else None,
                origin=origin,
                installer="pip",
                requested=_optional_bool(path, item.get("requested"), f"{what}.requested"),
                license=meta.license,
                **meta.details,
            )
            extras = _str_list(path, item.get("requested_extras"), f"{what}.requested_extras")
            dists.append(_Dist(package, meta.requires, extras))
        notes = (
            [f"pip would install yanked release(s): {', '.join(sorted(yanked))}"] if yanked else []
        )
        return _build(path, data, document, format_name=self.format_name, dists=dists, notes=notes)
