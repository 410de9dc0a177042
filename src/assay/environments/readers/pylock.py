"""Reads PEP 751 lock files: ``pylock.toml`` and ``pylock.<name>.toml``.

Every ``[[packages]]`` entry is kept, including several entries for one name
(a multi-use lock narrows them down with markers at install time).  The hashes
of every listed artifact (sdist, wheels, archive) are kept.  A lock file does
not say which packages were asked for, so ``requested`` is ``None``.  The
dependency graph comes from ``packages.dependencies`` or, when a locker keeps it
in its own tool table instead (``[packages.tool.pdm] dependencies``), from there.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from packaging.utils import canonicalize_name

from assay.environments.model import (
    Environment,
    Hash,
    HashSource,
    Origin,
    OriginKind,
    Package,
    Source,
)
from assay.environments.ports import EnvironmentReader
from assay.environments.readers import _lock_support as ls
from assay.environments.readers._files import sniff_file

_FILE_NAME = re.compile(r"^pylock\.([^.]+\.)?toml$")
_SUPPORTED_MAJOR = 1
_SUPPORTED_MINOR = 0
_SOURCES = ("vcs", "directory", "archive")


def _version_parts(doc: ls.LockDocument, raw: Any) -> tuple[int, int]:
    if raw is None:
        doc.fail("no lock-version (a PEP 751 lock file must start with lock-version = '1.0')")
    text = ls.string(doc, raw, "lock-version")
    match = re.fullmatch(r"(\d+)\.(\d+)", text.strip())
    if match is None:
        doc.fail(f"lock-version {text!r} is not of the form major.minor")
    return int(match.group(1)), int(match.group(2))


def _file_hashes(doc: ls.LockDocument, value: Any, what: str, index: int) -> list[Hash]:
    entry = ls.table(doc, value, what, index)
    ls.opt_string(doc, entry.get("url"), f"{what} url", index)
    ls.opt_string(doc, entry.get("path"), f"{what} path", index)
    ls.opt_string(doc, entry.get("name"), f"{what} name", index)
    if "hashes" not in entry:
        doc.fail(f"{what} has no hashes", index)
    return ls.hash_table(doc, entry["hashes"], f"{what} hashes", index)


def _origin(
    doc: ls.LockDocument, entry: dict[str, Any], label: str, index: int
) -> tuple[Origin, list[Hash]]:
    present: list[str] = [key for key in _SOURCES if key in entry]
    artifacts: list[str] = [key for key in ("sdist", "wheels") if key in entry]
    if len(present) > 1 or (present and artifacts):
        clash = ", ".join(present + artifacts)
        doc.fail(f"{label} names more than one source ({clash}); they are exclusive", index)
    if "vcs" in entry:
        vcs = ls.table(doc, entry["vcs"], f"{label} vcs", index)
        url = ls.opt_string(doc, vcs.get("url"), f"{label} vcs.url", index)
        path = ls.opt_string(doc, vcs.get("path"), f"{label} vcs.path", index)
        if url is None and path is None:
            doc.fail(f"{label} vcs needs a url or a path", index)
        if "commit-id" not in vcs:
            doc.fail(f"{label} vcs has no commit-id", index)
        origin = Origin(
            kind=OriginKind.VCS,
            vcs=ls.string(doc, vcs.get("type"), f"{label} vcs.type", index),
            url=url,
            path=path,
            commit=ls.string(doc, vcs["commit-id"], f"{label} vcs.commit-id", index),
            requested_revision=ls.opt_string(
                doc, vcs.get("requested-revision"), f"{label} vcs.requested-revision", index
            ),
            subdirectory=ls.opt_string(
                doc, vcs.get("subdirectory"), f"{label} vcs.subdirectory", index
            ),
        )
        return origin, []
    if "directory" in entry:
        directory = ls.table(doc, entry["directory"], f"{label} directory", index)
        origin = Origin(
            kind=OriginKind.DIRECTORY,
            path=ls.string(doc, directory.get("path"), f"{label} directory.path", index),
            editable=ls.opt_bool(doc, directory.get("editable"), f"{label} editable", index),
            subdirectory=ls.opt_string(
                doc, directory.get("subdirectory"), f"{label} directory.subdirectory", index
            ),
        )
        return origin, []
    if "archive" in entry:
        archive = ls.table(doc, entry["archive"], f"{label} archive", index)
        hashes = _file_hashes(doc, archive, f"{label} archive", index)
        url = ls.opt_string(doc, archive.get("url"), f"{label} archive.url", index)
        path = ls.opt_string(doc, archive.get("path"), f"{label} archive.path", index)
        if url is None and path is None:
            doc.fail(f"{label} archive needs a url or a path", index)
        subdirectory = ls.opt_string(
            doc, archive.get("subdirectory"), f"{label} archive.subdirectory", index
        )
        if url is not None:
            return Origin(kind=OriginKind.URL, url=url, subdirectory=subdirectory), hashes
        return Origin(kind=OriginKind.DIRECTORY, path=path, subdirectory=subdirectory), hashes
    hashes = []
    if "sdist" in entry:
        hashes += _file_hashes(doc, entry["sdist"], f"{label} sdist", index)
    for wheel in ls.array(doc, entry.get("wheels", []), f"{label} wheels", index):
        hashes += _file_hashes(doc, wheel, f"{label} wheel", index)
    index_url = ls.opt_string(doc, entry.get("index"), f"{label} index", index)
    if not artifacts and index_url is None:
        return Origin(), hashes
    return Origin(kind=OriginKind.INDEX, url=index_url), hashes


def _dependencies(doc: ls.LockDocument, entry: dict[str, Any], label: str, index: int) -> list[str]:
    if "dependencies" in entry:
        names: list[str] = []
        for item in ls.array(doc, entry["dependencies"], f"{label} dependencies", index):
            ref = ls.table(doc, item, f"{label} dependency", index)
            dep = ls.string(doc, ref.get("name"), f"{label} dependency name", index)
            names.append(canonicalize_name(dep))
        return names
    tool = ls.table(doc, entry.get("tool", {}), f"{label} tool", index)
    pdm = ls.table(doc, tool.get("pdm", {}), f"{label} tool.pdm", index)
    return [
        ls.requirement_name(doc, line, f"{label} tool.pdm dependency", index)
        for line in ls.array(doc, pdm.get("dependencies", []), f"{label} dependencies", index)
    ]


def _package(doc: ls.LockDocument, raw: Any, index: int) -> Package:
    entry = ls.table(doc, raw, f"package #{index + 1}", index)
    name = ls.package_name(doc, entry, index)
    label = ls.entry_label(entry, index)
    ls.opt_string(doc, entry.get("requires-python"), f"{label} requires-python", index)
    origin, hashes = _origin(doc, entry, label, index)
    return Package(
        name=name,
        version_raw=ls.opt_string(doc, entry.get("version"), f"{label} version", index),
        hashes=tuple(hashes),
        hash_source=HashSource.LOCK if hashes else None,
        origin=origin,
        markers=ls.opt_string(doc, entry.get("marker"), f"{label} marker", index),
        dependencies=tuple(_dependencies(doc, entry, label, index)),
    )


class PylockReader(EnvironmentReader):
    """``pylock.toml`` (PEP 751): every package entry, source and artifact hash."""

    format_name: ClassVar[str] = "pylock"
    description: ClassVar[str] = "PEP 751 lock file (pylock.toml, pylock.<name>.toml)"

    def sniff(self, path: Path) -> bool:
        return sniff_file(
            path,
            named=lambda name: _FILE_NAME.match(name) is not None,
            suffixes=(".toml",),
            content=lambda start: b"\nlock-version" in b"\n" + start and b"[[packages]]" in start,
        )

    def read(self, path: Path) -> Environment:
        doc = ls.load_lock(path, "packages")
        data = doc.data
        major, minor = _version_parts(doc, data.get("lock-version"))
        if major != _SUPPORTED_MAJOR:
            doc.fail(
                f"unsupported lock-version {major}.{minor}; this reader understands"
                f" {_SUPPORTED_MAJOR}.x"
            )
        notes: list[str] = []
        if minor > _SUPPORTED_MINOR:
            notes.append(
                f"lock-version {major}.{minor} is newer than {_SUPPORTED_MAJOR}."
                f"{_SUPPORTED_MINOR}; keys added since then are not read"
            )
        properties: list[tuple[str, str]] = [("lock-version", f"{major}.{minor}")]
        created_by = ls.opt_string(doc, data.get("created-by"), "created-by")
        if created_by is None:
            notes.append("the lock does not say which tool created it (created-by is missing)")
        else:
            properties.append(("created-by", created_by))
        requires_python = ls.opt_string(doc, data.get("requires-python"), "requires-python")
        if requires_python is not None:
            properties.append(("requires-python", requires_python))
        for key, prop in (
            ("environments", "environment"),
            ("extras", "extra"),
            ("dependency-groups", "dependency-group"),
            ("default-groups", "default-group"),
        ):
            properties.extend((prop, value) for value in ls.strings(doc, data.get(key), key))
        if "packages" not in data:
            doc.fail("no [[packages]] array (required by PEP 751)")
        packages = [
            _package(doc, raw, index)
            for index, raw in enumerate(ls.array(doc, data["packages"], "packages"))
        ]
        unversioned = sum(1 for package in packages if not package.pinned)
        if unversioned:
            notes.append(ls.unversioned_note(unversioned, "source trees carry no fixed version"))
        sourceless = sorted(p.name for p in packages if p.origin.kind is OriginKind.UNKNOWN)
        if sourceless:
            notes.append(
                f"no source (vcs, directory, archive, sdist or wheels) for: {', '.join(sourceless)}"
            )
        return Environment(
            source=Source(kind=self.format_name, path=str(path), digest=doc.digest),
            packages=tuple(packages),
            notes=tuple(notes),
            properties=tuple(properties),
        )
