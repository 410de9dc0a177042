"""Reads a conda environment file (``environment.yml``, MLflow's ``conda.yaml``).

An environment file is a request, not a lock: conda match specs are kept as
written.  Only specs that name one version (``==1.2``, ``=1.2=build`` or the
space form ``name 1.2``) are pinned; conda's ``=1.2`` means ``1.2.*`` and stays
unpinned with its constraint.  The ``pip:`` section is read as requirement lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from assay.environments.model import Ecosystem, Environment, Package, Source
from assay.environments.ports import EnvironmentReader, ReaderError
from assay.environments.readers._conda import (
    MatchSpec,
    MatchSpecError,
    channel_origin,
    parse_match_spec,
    python_version_from,
)
from assay.environments.readers._files import (
    decode,
    digest,
    digest_files,
    parse_yaml,
    read_bytes,
    require_list,
    require_mapping,
    require_str,
    sniff_file,
)
from assay.environments.readers._pip_lines import PipSection, pip_section

FILE_NAMES = frozenset({"environment.yml", "environment.yaml", "conda.yaml", "conda.yml"})
# Channel names that switch channels off rather than naming one.
_NOT_CHANNELS = frozenset({"nodefaults"})


def _line_of(text: str, needle: str) -> int | None:
    """The first line holding ``needle`` (YAML loaders drop positions of scalars)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def _python_version(spec: MatchSpec) -> str | None:
    """The x.y.z of a ``python`` spec that fixes it: ``==3.11.7``, ``=3.11.7``, ``3.11.7``."""
    if spec.version is not None:
        return python_version_from(spec.version)
    constraint = spec.constraint or ""
    if constraint.startswith("=") and constraint.count("=") == 1:
        return python_version_from(constraint[1:])  # =3.11.7 is 3.11.7.*, i.e. 3.11.7
    return None


def _digest(path: Path, data: bytes, section: PipSection) -> str:
    """The file's digest, or one over it and the requirement files its pip section includes."""
    if not section.files:
        return digest(data)
    parts = [(path.name, data)]
    for file_path, content in section.files:
        try:
            parts.append((str(file_path.relative_to(path.parent)), content))
        except ValueError:
            parts.append((str(file_path), content))
    return digest_files(parts)


def _channel_notes(
    packages: list[Package], entries: list[Any], default_channel: str | None
) -> list[str]:
    explicit = sum(1 for e in entries if isinstance(e, str) and "::" in e.split("#", 1)[0])
    inferred = sum(1 for p in packages if p.ecosystem is Ecosystem.CONDA) - explicit
    if not inferred:
        return []
    if default_channel is not None:
        note = (
            f"{inferred} conda specs name no channel: attributed to the first listed "
            f"channel {default_channel!r} (conda may take them from any listed channel)"
        )
    else:
        note = (
            f"{inferred} conda specs name no channel and the file lists none: "
            "conda uses its configured default channels"
        )
    return [note]


def _declares_channels_and_dependencies(text: bytes) -> bool:
    keys = {line.split(b":", 1)[0] for line in text.splitlines() if b":" in line}
    return b"dependencies" in keys and b"channels" in keys


class CondaEnvironmentReader(EnvironmentReader):
    """A conda ``environment.yml``: channels, match specs and a ``pip:`` section."""

    format_name: ClassVar[str] = "conda-environment"
    description: ClassVar[str] = "conda environment file (environment.yml, conda.yaml)"

    def sniff(self, path: Path) -> bool:
        return sniff_file(
            path,
            named=lambda name: name.lower() in FILE_NAMES,
            suffixes=(".yml", ".yaml"),
            content=_declares_channels_and_dependencies,
        )

    def read(self, path: Path) -> Environment:
        data = read_bytes(path)
        text = decode(path, data)
        document = parse_yaml(path, text)
        if document is None:
            raise ReaderError(path, "empty file: no environment in it")
        root = require_mapping(path, document, "an environment file")
        name = root.get("name")
        if name is not None and not isinstance(name, str):
            raise ReaderError(path, "`name` must be a string", line=_line_of(text, "name:"))
        channels = self._channels(path, text, root.get("channels"))
        if "dependencies" not in root:
            raise ReaderError(path, "no `dependencies` list: not a conda environment file")
        entries = root["dependencies"]
        if entries is None:
            entries = []
        if not isinstance(entries, list):
            raise ReaderError(
                path,
                f"`dependencies` must be a list, found {type(entries).__name__}",
                line=_line_of(text, "dependencies:"),
            )
        default_channel = next((c for c in channels if c not in _NOT_CHANNELS), None)
        packages: list[Package] = []
        notes: list[str] = []
        pip_lines: list[str] | None = None
        python_version: str | None = None
        for entry in entries:
            if isinstance(entry, dict):
                pip_lines = self._pip_entry(path, text, entry, pip_lines)
                continue
            spec = self._spec(path, text, entry)
            if spec.name.lower() == "python":
                python_version = _python_version(spec)
            packages.append(
                Package(
                    name=spec.name,
                    version_raw=spec.version,
                    ecosystem=Ecosystem.CONDA,
                    specifier=spec.constraint,
                    origin=channel_origin(spec.channel or default_channel),
                    installer="conda",
                    requested=True,
                    platform=spec.subdir,
                    build=spec.build,
                )
            )
        notes.extend(_channel_notes(packages, entries, default_channel))
        section = pip_section(path, text, pip_lines or [])
        packages.extend(section.packages)
        notes.extend(section.notes)
        unpinned = sum(1 for p in packages if not p.pinned)
        if unpinned:
            notes.append(f"{unpinned} of {len(packages)} requirements are not pinned to a version")
        properties = [("channels", ", ".join(channels))] if channels else []
        properties.extend((f"pip.{key}", value or "true") for key, value in section.options)
        prefix = root.get("prefix")
        if isinstance(prefix, str):
            properties.append(("prefix", prefix))
        return Environment(
            source=Source(
                kind=self.format_name, path=str(path), digest=_digest(path, data, section)
            ),
            packages=tuple(packages),
            python_version=python_version,
            name=name,
            notes=tuple(notes),
            properties=tuple(properties),
        )

    @staticmethod
    def _spec(path: Path, text: str, entry: Any) -> MatchSpec:
        if not isinstance(entry, str):
            raise ReaderError(
                path,
                f"dependency {entry!r} must be a match spec string, found {type(entry).__name__}",
                line=_line_of(text, str(entry)),
            )
        try:
            return parse_match_spec(entry)
        except MatchSpecError as exc:
            raise ReaderError(path, str(exc), line=_line_of(text, entry)) from None

    @staticmethod
    def _channels(path: Path, text: str, value: Any) -> list[str]:
        if value is None:
            return []
        items = require_list(path, value, "`channels`")
        for item in items:
            if not isinstance(item, str) or not item.strip():
                raise ReaderError(
                    path,
                    f"channel {item!r} must be a non-empty string",
                    line=_line_of(text, "channels:"),
                )
        return [item.strip() for item in items]

    @staticmethod
    def _pip_entry(
        path: Path, text: str, entry: dict[str, Any], seen: list[str] | None
    ) -> list[str]:
        if set(entry) != {"pip"}:
            keys = ", ".join(sorted(str(k) for k in entry))
            raise ReaderError(
                path,
                f"a mapping in `dependencies` must be `pip:` only, found: {keys}",
                line=_line_of(text, f"{next(iter(entry), '')}:"),
            )
        lines = entry["pip"] if entry["pip"] is not None else []
        lines = require_list(path, lines, "the `pip:` section")
        for line in lines:
            require_str(path, line, f"pip requirement {line!r}")
        return [*(seen or []), *lines]
