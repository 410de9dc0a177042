"""Reads a pixi lock file (``pixi.lock``, rattler_lock formats 5 and 6).

The ``default`` environment is read for every platform it lists; each package
gets the platform it is locked for.  conda name, version, build, subdir and
channel come from the record or, as rattler does, from the archive URL
(``<channel>/<subdir>/<name>-<version>-<build>.conda``).  pixi.lock does not
record which packages the manifest asked for, so ``requested`` is None.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from assay.environments import licenses
from assay.environments.graph import requirement_edges
from assay.environments.model import (
    Ecosystem,
    Environment,
    Hash,
    HashSource,
    Origin,
    OriginKind,
    Package,
    Source,
)
from assay.environments.ports import EnvironmentReader, ReaderError
from assay.environments.readers._conda import (
    channel_origin,
    hash_error,
    is_archive,
    is_virtual,
    item_lines,
    parse_archive_location,
    pypi_url_origin,
    python_version_from,
    spec_name,
    subdir_marker_environment,
    vcs_origin,
)
from assay.environments.readers._files import (
    decode,
    digest,
    parse_yaml,
    read_bytes,
    require_list,
    require_mapping,
    sniff_file,
)

SUPPORTED_VERSIONS = (5, 6)
ENVIRONMENT = "default"
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")


@dataclass(frozen=True, slots=True)
class _Record:
    kind: str  # "conda" or "pypi"
    location: str
    fields: dict[str, Any]
    line: int | None


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


class PixiLockReader(EnvironmentReader):
    """A pixi.lock: the ``default`` environment's conda and PyPI packages per platform."""

    format_name: ClassVar[str] = "pixi-lock"
    description: ClassVar[str] = "pixi lock file (pixi.lock, formats 5 and 6)"

    def sniff(self, path: Path) -> bool:
        return sniff_file(
            path,
            named=lambda name: name == "pixi.lock",
            content=lambda text: text.startswith(b"version:") and b"\nenvironments:" in text,
        )

    def read(self, path: Path) -> Environment:
        data = read_bytes(path)
        text = decode(path, data)
        document = parse_yaml(path, text)
        if document is None:
            raise ReaderError(path, "empty file: no lock in it")
        root = require_mapping(path, document, "a pixi lock file")
        version = root.get("version")
        if version is None:
            raise ReaderError(path, "no `version`: not a pixi lock file")
        if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
            raise ReaderError(
                path,
                f"pixi lock format version {version!r} is not supported "
                f"(this reader reads versions {', '.join(map(str, SUPPORTED_VERSIONS))})",
                line=_line_of(text, "version:"),
            )
        environments = require_mapping(path, root.get("environments"), "`environments`")
        if ENVIRONMENT not in environments:
            names = ", ".join(sorted(map(str, environments))) or "none"
            raise ReaderError(path, f"no `{ENVIRONMENT}` environment (found: {names})")
        env = require_mapping(path, environments[ENVIRONMENT], f"environment `{ENVIRONMENT}`")
        records = self._records(path, text, int(version), root.get("packages"))
        by_platform = require_mapping(path, env.get("packages"), "`packages` of the environment")
        channels = [
            self._channel(path, c)
            for c in require_list(path, env.get("channels", []), "`channels`")
        ]
        indexes = [str(i) for i in require_list(path, env.get("indexes") or [], "`indexes`")]
        resolved: dict[str, list[tuple[_Record, tuple[str, ...]]]] = {}
        for platform, selectors in sorted(by_platform.items(), key=lambda item: str(item[0])):
            items = require_list(path, selectors, f"packages of platform {platform}")
            resolved[str(platform)] = [
                self._resolve(path, text, records, str(platform), s) for s in items
            ]
        packages: list[Package] = []
        pythons: dict[str, str | None] = {}
        for platform, entries in resolved.items():
            python = next(
                (
                    self._conda_version(path, r)
                    for r, _ in entries
                    if r.kind == "conda" and self._conda_name(path, r) == "python"
                ),
                None,
            )
            pythons[platform] = python_version_from(python)
            index = indexes[0] if len(indexes) == 1 and not env.get("find-links") else None
            seen: set[tuple[str, str]] = set()
            for record, extras in entries:
                package = (
                    self._conda_package(path, record, platform)
                    if record.kind == "conda"
                    else self._pypi_package(
                        path,
                        record,
                        platform,
                        extras=extras,
                        python_version=pythons[platform],
                        index=index,
                    )
                )
                key = (package.ecosystem.value, package.canonical_name)
                if key in seen:
                    raise ReaderError(
                        path,
                        f"{package.name} is locked twice for platform {platform}",
                        line=record.line,
                    )
                seen.add(key)
                packages.append(package)
        versions = set(pythons.values())
        properties = [
            ("environment", ENVIRONMENT),
            ("environments", ", ".join(sorted(map(str, environments)))),
            ("platforms", ", ".join(resolved)),
            ("lock_version", str(version)),
        ]
        if channels:
            properties.append(("channels", ", ".join(channels)))
        if indexes:
            properties.append(("indexes", ", ".join(indexes)))
        properties.extend(_extra_properties(env))
        notes = []
        others = sorted(str(name) for name in environments if name != ENVIRONMENT)
        if others:
            notes.append(
                f"only the `{ENVIRONMENT}` environment is read; also locked: {', '.join(others)}"
            )
        return Environment(
            source=Source(kind=self.format_name, path=str(path), digest=digest(data)),
            packages=tuple(packages),
            python_version=next(iter(versions)) if len(versions) == 1 else None,
            platform=next(iter(resolved)) if len(resolved) == 1 else None,
            name=ENVIRONMENT,
            notes=tuple(notes),
            properties=tuple(properties),
        )

    # -- the packages list ---------------------------------------------------

    def _records(self, path: Path, text: str, version: int, value: Any) -> list[_Record]:
        items = require_list(path, value if value is not None else [], "`packages`")
        lines = item_lines(text, "packages")
        if len(lines) != len(items):
            lines = []
        records: list[_Record] = []
        for index, item in enumerate(items):
            line = lines[index] if lines else None
            if not isinstance(item, dict):
                raise ReaderError(
                    path, f"package must be a mapping, found {type(item).__name__}", line=line
                )
            if version == 5:
                kind = item.get("kind")
                location = item.get("url", item.get("path"))
            else:
                kind = "conda" if "conda" in item else "pypi" if "pypi" in item else None
                location = item.get(kind) if kind else None
            if kind not in {"conda", "pypi"}:
                raise ReaderError(path, f"package of unknown kind {kind!r}", line=line)
            if not isinstance(location, str) or not location:
                raise ReaderError(path, "package has no location (url or path)", line=line)
            records.append(_Record(str(kind), location, item, line))
        return records

    @staticmethod
    def _channel(path: Path, value: Any) -> str:
        if isinstance(value, dict) and isinstance(value.get("url"), str):
            return str(value["url"])
        if isinstance(value, str):
            return value
        raise ReaderError(path, f"channel {value!r} must have a `url`")

    def _resolve(
        self, path: Path, text: str, records: list[_Record], platform: str, selector: Any
    ) -> tuple[_Record, tuple[str, ...]]:
        if not isinstance(selector, dict) or not ({"conda", "pypi"} & set(selector)):
            raise ReaderError(
                path, f"platform {platform}: {selector!r} is neither a conda nor a pypi selector"
            )
        kind = "conda" if "conda" in selector else "pypi"
        location = selector[kind]
        candidates = [r for r in records if r.kind == kind and r.location == location]
        if kind == "conda":
            for key in ("name", "version", "build", "subdir"):
                if key in selector:
                    candidates = [
                        r for r in candidates if self._conda_field(r, key) == selector[key]
                    ]
        if not candidates:
            raise ReaderError(
                path,
                f"environment `{ENVIRONMENT}`, platform {platform} refers to a {kind} package "
                f"that is not in `packages`: {location}",
                line=_line_of(text, str(location)),
            )
        extras = selector.get("extras") or []
        if not isinstance(extras, list) or not all(isinstance(e, str) for e in extras):
            raise ReaderError(path, f"extras of {location} must be a list of strings")
        return candidates[0], tuple(extras)

    # -- conda packages ------------------------------------------------------

    @staticmethod
    def _conda_field(record: _Record, key: str) -> Any:
        if key in record.fields:
            return record.fields[key]
        archive = parse_archive_location(record.location)
        return {
            "name": archive.name,
            "version": archive.version,
            "build": archive.build,
            "subdir": archive.subdir,
            "channel": archive.channel,
        }.get(key)

    def _text(self, path: Path, record: _Record, key: str, *, required: bool) -> str | None:
        value = self._conda_field(record, key) if record.kind == "conda" else record.fields.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            shown = "missing" if value is None else f"{type(value).__name__} {value!r}"
            raise ReaderError(
                path,
                f"{record.location}: `{key}` must be a non-empty string ({shown})",
                line=record.line,
            )
        return value

    def _conda_name(self, path: Path, record: _Record) -> str:
        return self._text(path, record, "name", required=True) or ""

    def _conda_version(self, path: Path, record: _Record) -> str:
        return self._text(path, record, "version", required=True) or ""

    def _hashes(self, path: Path, record: _Record) -> tuple[Hash, ...]:
        hashes: list[Hash] = []
        for algorithm in ("md5", "sha256"):
            value = record.fields.get(algorithm)
            if value is None:
                continue
            problem = hash_error(algorithm, value)
            if problem is not None:
                raise ReaderError(path, f"{record.location}: {problem}", line=record.line)
            hashes.append(Hash(algorithm, str(value)))
        return tuple(hashes)

    def _string_list(self, path: Path, record: _Record, key: str) -> list[str]:
        value = record.fields.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ReaderError(
                path, f"{record.location}: `{key}` must be a list of strings", line=record.line
            )
        return value

    def _conda_package(self, path: Path, record: _Record, platform: str) -> Package:
        name = self._conda_name(path, record)
        license_text = record.fields.get("license")
        hashes = self._hashes(path, record)
        if is_archive(record.location):
            channel = self._text(path, record, "channel", required=False)
            origin = channel_origin(channel)
        elif "://" in record.location:
            origin = Origin(kind=OriginKind.URL, url=record.location)
        else:
            origin = Origin(kind=OriginKind.DIRECTORY, path=record.location)
        return Package(
            name=name,
            version_raw=self._conda_version(path, record),
            ecosystem=Ecosystem.CONDA,
            hashes=hashes,
            hash_source=HashSource.LOCK if hashes else None,
            origin=origin,
            installer="pixi",
            requested=None,
            license=licenses.from_text(license_text, "license")
            if isinstance(license_text, str)
            else None,
            dependencies=tuple(
                n
                for d in self._string_list(path, record, "depends")
                if not is_virtual(n := spec_name(d))
            ),
            platform=platform,
            build=self._text(path, record, "build", required=False),
        )

    # -- PyPI packages -------------------------------------------------------

    def _pypi_package(
        self,
        path: Path,
        record: _Record,
        platform: str,
        *,
        extras: tuple[str, ...],
        python_version: str | None,
        index: str | None,
    ) -> Package:
        name = self._text(path, record, "name", required=True) or ""
        version = self._text(path, record, "version", required=True) or ""
        location = record.location
        editable = record.fields.get("editable") is True
        if location.startswith(_VCS_PREFIXES):
            origin = vcs_origin(location)
        elif location.startswith(("http://", "https://")):
            origin = pypi_url_origin(location, name, version, index)
        else:
            origin = Origin(
                kind=OriginKind.DIRECTORY, path=location.removeprefix("file://"), editable=editable
            )
        hashes = self._hashes(path, record)
        requires = self._string_list(path, record, "requires_dist")
        return Package(
            name=name,
            version_raw=version,
            ecosystem=Ecosystem.PYPI,
            hashes=hashes,
            hash_source=HashSource.LOCK if hashes else None,
            origin=origin,
            installer="pixi",
            requested=None,
            extras=extras,
            dependencies=requirement_edges(
                requires, subdir_marker_environment(platform, python_version), extras
            ),
            platform=platform,
        )


def _extra_properties(env: dict[str, Any]) -> list[tuple[str, str]]:
    """``find-links`` locations and solve ``options`` of the environment, as written."""
    properties: list[tuple[str, str]] = []
    links = env.get("find-links")
    if isinstance(links, list):
        for link in links:
            location = link.get("url", link.get("path")) if isinstance(link, dict) else link
            properties.append(("find-links", str(location)))
    options = env.get("options")
    if isinstance(options, dict):
        properties.extend((f"options.{key}", str(value)) for key, value in sorted(options.items()))
    return properties
