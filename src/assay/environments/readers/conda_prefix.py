"""A conda prefix: ``conda-meta/*.json`` records, ``conda-meta/history``, and pip packages.

Conda-installed packages come from the records.  Python packages pip put into
the prefix come from their ``*.dist-info`` directories; metadata directories
that a conda record lists (or whose INSTALLER is ``conda``) belong to conda
packages and are not counted twice; their headers give the conda package of
the same name and version its summary, authors and links.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from assay.environments import licenses
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
    hash_error,
    is_virtual,
    spec_name,
    subdir_marker_environment,
)
from assay.environments.readers._files import (
    decode,
    digest_files,
    optional_str,
    parse_json,
    read_bytes,
    require_list,
    require_mapping,
    require_str,
)
from assay.environments.readers.distinfo import (
    CoreDetails,
    Distribution,
    duplicate_notes,
    find_site_dirs,
    is_metadata_dir,
    link_dependencies,
    metadata_entries,
    read_core_details,
    read_distribution,
    read_installer,
)

_SPECS_LINE = re.compile(r"^#\s*(\w+)\s*specs:\s*(.*)$")
_CMD_LINE = re.compile(r"^#\s*cmd:\s*(.+)$")
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_SPEC_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_ADDING = frozenset({"update", "install", "create"})
_REMOVING = frozenset({"remove", "uninstall"})
# conda options that take a value, for old histories that only have ``# cmd:`` lines.
_VALUED_OPTIONS = frozenset(
    {"-n", "--name", "-p", "--prefix", "-c", "--channel", "--file", "--repodata-fn", "--solver"}
)
_MAX_NOTED = 10


@dataclass(frozen=True, slots=True)
class _Record:
    package: Package
    depends: tuple[str, ...]
    owned: tuple[str, ...]  # metadata directories (relative posix paths) the record installed


def _spec_name(spec: str) -> str | None:
    """``conda-forge::numpy>=1.2`` or ``python=3.11`` -> the package name."""
    match = _SPEC_NAME.match(spec.strip().rsplit("::", 1)[-1].strip())
    return match.group(0).lower() if match else None


def _specs(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("["):
        return [a or b for a, b in _QUOTED.findall(text)]
    return [part for part in text.split(",") if part.strip()]


def _cmd_specs(command: str) -> tuple[str | None, list[str]]:
    """The action and positional specs of an old ``# cmd:`` line (``conda install -c x numpy``)."""
    try:
        argv = shlex.split(command)
    except ValueError:
        argv = command.split()
    if len(argv) < 2 or not argv[0].rsplit("/", 1)[-1].startswith("conda"):
        return None, []
    action, skip = argv[1], False
    specs: list[str] = []
    for arg in argv[2:]:
        if skip:
            skip = False
        elif arg in _VALUED_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            specs.append(arg)
    return action, specs


def requested_names(text: str) -> set[str]:
    """Names the user asked for, replaying ``conda-meta/history`` as conda does."""
    requested: set[str] = set()
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("==>"):
            blocks.append([])
        blocks[-1].append(line.strip())
    for block in blocks:
        found_specs = False
        for line in block:
            match = _SPECS_LINE.match(line)
            if match is None:
                continue
            found_specs = True
            names = {n for s in _specs(match.group(2)) if (n := _spec_name(s))}
            if match.group(1) in _ADDING:
                requested |= names
            elif match.group(1) in _REMOVING:
                requested -= names
        if found_specs:
            continue
        for line in block:
            cmd = _CMD_LINE.match(line)
            if cmd is None:
                continue
            action, specs = _cmd_specs(cmd.group(1))
            names = {n for s in specs if (n := _spec_name(s))}
            if action in _ADDING:
                requested |= names
            elif action in _REMOVING:
                requested -= names
    return requested


def _channel_url(
    channel: str | None, subdir: str | None, url: str | None, fn: str | None
) -> str | None:
    """The channel without its subdir: ``.../conda-forge/linux-64`` -> ``.../conda-forge``."""
    if channel is None and url is not None:
        channel = url.rsplit("/", 1)[0] if fn is None or url.endswith("/" + fn) else url
    if channel is not None and subdir and channel.endswith("/" + subdir):
        return channel[: -len(subdir) - 1]
    return channel


def _owned_dirs(path: Path, files: list[Any]) -> tuple[str, ...]:
    """The metadata directories among a record's ``files`` (prefix-relative posix paths)."""
    owned: set[str] = set()
    for entry in files:
        if not isinstance(entry, str):
            raise ReaderError(path, f"files entry must be a string, found {type(entry).__name__}")
        if ".dist-info" in entry or ".egg-info" in entry:
            parts = entry.split("/")
            for index, part in enumerate(parts):
                if is_metadata_dir(part):
                    owned.add("/".join(parts[: index + 1]))
                    break
    return tuple(sorted(owned))


def _parse_record(path: Path, value: Any, requested: set[str] | None) -> _Record:
    data = require_mapping(path, value, "conda-meta record")
    name = require_str(path, data.get("name"), "name")
    version = require_str(path, data.get("version"), "version")
    if not name or not version:
        raise ReaderError(path, "name and version must not be empty")
    build = optional_str(path, data.get("build"), "build")
    build_number = data.get("build_number")
    if build_number is not None and (
        not isinstance(build_number, int) or isinstance(build_number, bool)
    ):
        raise ReaderError(path, f"build_number must be an integer, found {build_number!r}")
    subdir = optional_str(path, data.get("subdir"), "subdir")
    url = optional_str(path, data.get("url"), "url")
    fn = optional_str(path, data.get("fn"), "fn")
    channel = _channel_url(optional_str(path, data.get("channel"), "channel"), subdir, url, fn)
    hashes: list[Hash] = []
    for algorithm in ("md5", "sha256"):
        digest_value = data.get(algorithm)
        if digest_value is None:
            continue
        problem = hash_error(algorithm, digest_value)
        if problem is not None:
            raise ReaderError(path, problem)
        hashes.append(Hash(algorithm, str(digest_value)))
    depends = tuple(
        require_str(path, item, "depends entry")
        for item in require_list(path, data.get("depends", []), "depends")
    )
    files = require_list(path, data.get("files", []), "files")
    package = Package(
        name=name,
        version_raw=version,
        ecosystem=Ecosystem.CONDA,
        hashes=tuple(hashes),
        hash_source=HashSource.CONDA_META if hashes else None,
        origin=Origin(kind=OriginKind.CHANNEL, url=channel),
        installer="conda",
        requested=None if requested is None else name.lower() in requested,
        license=licenses.from_text(
            optional_str(path, data.get("license"), "license"), "conda-meta"
        ),
        platform=subdir,
        build=build,
    )
    return _Record(package=package, depends=depends, owned=_owned_dirs(path, files))


def _depends_name(spec: str) -> str | None:
    """``libgcc-ng >=11.2.0`` -> ``libgcc-ng``; virtual packages (``__glibc``) -> None."""
    name = spec_name(spec)
    return None if not name or is_virtual(name) else name.lower()


class CondaPrefixReader(EnvironmentReader):
    """Reads a conda prefix: conda's own records plus what pip installed into it."""

    format_name = "conda-prefix"
    description = "A conda environment directory (conda-meta records and pip-installed packages)."

    def sniff(self, path: Path) -> bool:
        try:
            return path.is_dir() and (path / "conda-meta").is_dir()
        except OSError:
            return False

    def read(self, path: Path) -> Environment:
        meta = path / "conda-meta"
        if not path.is_dir():
            raise ReaderError(path, "no such directory" if not path.exists() else "not a directory")
        if not meta.is_dir():
            raise ReaderError(path, "no conda-meta directory: not a conda prefix")
        files: list[tuple[str, bytes]] = []
        notes: list[str] = []
        history = meta / "history"
        requested: set[str] | None = None
        if history.is_file():
            raw = read_bytes(history)
            files.append(("conda-meta/history", raw))
            requested = requested_names(decode(history, raw))
        else:
            notes.append("conda-meta/history is missing: which packages were requested is unknown")
        records: list[_Record] = []
        for record_path in sorted(meta.glob("*.json")):
            raw = read_bytes(record_path)
            files.append((f"conda-meta/{record_path.name}", raw))
            value = parse_json(record_path, decode(record_path, raw))
            records.append(_parse_record(record_path, value, requested))

        owned_details: dict[tuple[str, str | None], CoreDetails] = {}
        distributions = self._pip_distributions(path, records, notes, owned_details)
        for dist in distributions:
            files.extend(dist.files)
        for core in owned_details.values():
            files.extend(core.files)
        records = self._with_details(records, owned_details)

        conda_names = {r.package.canonical_name for r in records}
        installed = conda_names | {d.package.canonical_name for d in distributions}
        python = next((r.package for r in records if r.package.canonical_name == "python"), None)
        python_version = python.version_raw if python is not None else None
        packages = self._link_conda(records, installed, notes)
        subdirs = Counter(
            r.package.platform for r in records if r.package.platform not in (None, "noarch")
        )
        platform = subdirs.most_common(1)[0][0] if subdirs else None
        environment = subdir_marker_environment(platform, python_version)
        packages.extend(link_dependencies(distributions, installed, environment))
        pip_names = {d.package.canonical_name for d in distributions}
        notes.extend(
            f"{name} is installed by both conda and pip (both kept)"
            for name in sorted(conda_names & pip_names)
        )
        notes.extend(duplicate_notes(distributions, path))
        return Environment(
            source=Source(kind=self.format_name, path=str(path), digest=digest_files(files)),
            packages=tuple(packages),
            python_version=python_version,
            platform=platform,
            notes=tuple(notes),
        )

    @staticmethod
    def _link_conda(records: list[_Record], installed: set[str], notes: list[str]) -> list[Package]:
        packages: list[Package] = []
        missing: list[str] = []
        for record in records:
            names = {n for d in record.depends if (n := _depends_name(d)) is not None}
            present = sorted(n for n in names if n in installed)
            missing.extend(f"{record.package.name} -> {n}" for n in sorted(names - installed))
            packages.append(replace(record.package, dependencies=tuple(present)))
        if missing:
            shown = ", ".join(missing[:_MAX_NOTED])
            more = f" and {len(missing) - _MAX_NOTED} more" if len(missing) > _MAX_NOTED else ""
            notes.append(
                f"{len(missing)} conda dependencies are not installed in the prefix: {shown}{more}"
            )
        return packages

    @staticmethod
    def _with_details(
        records: list[_Record],
        owned: dict[tuple[str, str | None], CoreDetails],
    ) -> list[_Record]:
        """Records with the details of the conda-owned metadata of the same name and version."""
        found: list[_Record] = []
        for record in records:
            package = record.package
            core = owned.get((canonicalize_name(package.name), package.version_raw))
            found.append(
                record
                if core is None
                else replace(record, package=replace(package, **core.details))
            )
        return found

    @staticmethod
    def _pip_distributions(
        prefix: Path,
        records: list[_Record],
        notes: list[str],
        owned_details: dict[tuple[str, str | None], CoreDetails],
    ) -> list[Distribution]:
        """Distributions pip installed; conda-owned metadata's details go to ``owned_details``."""
        owned = {d for r in records for d in r.owned}
        conda_names = {r.package.canonical_name for r in records}
        distributions: list[Distribution] = []
        for site in find_site_dirs(prefix):
            rel_root = site.relative_to(prefix).as_posix()
            for entry in metadata_entries(site):
                rel = f"{rel_root}/{entry.name}"
                conda_owned = rel in owned
                if not conda_owned and entry.is_dir() and read_installer(entry) == "conda":
                    # conda's own python package whose record does not list this directory
                    if canonicalize_name(entry.name.split("-", 1)[0]) not in conda_names:
                        notes.append(f"{rel} says INSTALLER conda but no conda-meta record has it")
                    conda_owned = True
                if conda_owned:
                    try:
                        core = read_core_details(entry, rel_root)
                    except ReaderError as exc:
                        notes.append(f"metadata of a conda package not read: {exc}")
                        continue
                    if core is not None:
                        owned_details.setdefault((core.canonical_name, core.version), core)
                    continue
                distributions.append(read_distribution(entry, rel_root))
        return distributions
