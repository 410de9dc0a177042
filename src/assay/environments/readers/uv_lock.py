"""Reads ``uv.lock``, uv's universal lock file (``version = 1``).

Every ``[[package]]`` entry becomes a package, including every version of a
name that the resolution forked on.  The project (and workspace members) are
the roots: they are kept with ``requested=None`` and named in the
``root-package`` property; packages that a root depends on directly -- through
its dependencies, any of its extras or any of its dependency groups -- are
``requested=True``, the rest ``False``.  A root's ``dependencies`` likewise
cover its extras and groups, so the whole lock forms one graph.

uv.lock records markers on edges only.  A package's ``markers`` is the
condition under which some path from a root reaches it (see
``_marker_paths``); a root's extras and groups count as selected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
from assay.environments.readers._marker_paths import propagate, render

_SOURCE_KINDS = ("registry", "git", "url", "path", "directory", "editable", "virtual")
_LOCAL_KINDS = frozenset({"path", "directory", "editable", "virtual"})
_ROOT_KINDS = frozenset({"directory", "editable", "virtual"})


@dataclass(frozen=True, slots=True)
class _Edge:
    name: str  # canonical
    version: str | None
    source: Any
    marker: str | None
    extras: tuple[str, ...]


@dataclass(slots=True)
class _Node:
    index: int
    name: str
    version: str | None
    kind: str
    location: str
    source: dict[str, Any]
    origin: Origin
    hashes: list[Hash]
    base: list[_Edge]
    optional: dict[str, list[_Edge]]
    groups: dict[str, list[_Edge]]
    fork_markers: list[str]
    extras: set[str] = field(default_factory=set)
    canonical: str = field(init=False)

    def __post_init__(self) -> None:
        self.canonical = canonicalize_name(self.name)


def _origin(doc: ls.LockDocument, kind: str, source: dict[str, Any], index: int) -> Origin:
    value = ls.string(doc, source[kind], f"source.{kind}", index)
    subdirectory = ls.opt_string(doc, source.get("subdirectory"), "source.subdirectory", index)
    if kind == "registry":
        if "://" in value:
            return Origin(kind=OriginKind.INDEX, url=value)
        return Origin(kind=OriginKind.INDEX, path=value)
    if kind == "git":
        ref = ls.parse_git_url(value)
        if ref.commit is None:
            doc.fail(f"git source {value!r} has no #<commit>", index)
        return Origin(
            kind=OriginKind.VCS,
            vcs="git",
            url=ref.url,
            commit=ref.commit,
            requested_revision=ref.requested_revision,
            subdirectory=ref.subdirectory or subdirectory,
        )
    if kind == "url":
        return Origin(kind=OriginKind.URL, url=value, subdirectory=subdirectory)
    return Origin(
        kind=OriginKind.DIRECTORY,
        path=value,
        editable=kind == "editable",
        subdirectory=subdirectory,
    )


def _edges(doc: ls.LockDocument, value: Any, what: str, index: int) -> list[_Edge]:
    edges = []
    for item in ls.array(doc, value if value is not None else [], what, index):
        entry = ls.table(doc, item, f"{what} entry", index)
        name = ls.string(doc, entry.get("name"), f"{what} entry name", index)
        edges.append(
            _Edge(
                name=canonicalize_name(name),
                version=ls.opt_string(doc, entry.get("version"), f"{what} {name} version", index),
                source=entry.get("source"),
                marker=ls.opt_string(doc, entry.get("marker"), f"{what} {name} marker", index),
                extras=tuple(ls.strings(doc, entry.get("extra"), f"{what} {name} extra", index)),
            )
        )
    return edges


def _edge_map(doc: ls.LockDocument, value: Any, what: str, index: int) -> dict[str, list[_Edge]]:
    groups = ls.table(doc, value if value is not None else {}, what, index)
    return {
        canonicalize_name(key): _edges(doc, edges, f"{what}.{key}", index)
        for key, edges in groups.items()
    }


def _hashes(doc: ls.LockDocument, entry: dict[str, Any], label: str, index: int) -> list[Hash]:
    found: list[Hash] = []
    if "sdist" in entry:
        sdist = ls.table(doc, entry["sdist"], f"{label} sdist", index)
        if "hash" in sdist:
            found.append(ls.hash_string(doc, sdist["hash"], f"{label} sdist hash", index))
    for item in ls.array(doc, entry.get("wheels", []), f"{label} wheels", index):
        wheel = ls.table(doc, item, f"{label} wheel", index)
        if "hash" in wheel:
            found.append(ls.hash_string(doc, wheel["hash"], f"{label} wheel hash", index))
    return found


def _node(doc: ls.LockDocument, raw: Any, index: int) -> _Node:
    entry = ls.table(doc, raw, f"package #{index + 1}", index)
    name = ls.package_name(doc, entry, index)
    label = ls.entry_label(entry, index)
    version = ls.opt_string(doc, entry.get("version"), f"{label} version", index)
    if "source" not in entry:
        doc.fail(f"{label} has no source", index)
    source = ls.table(doc, entry["source"], f"{label} source", index)
    kinds = [kind for kind in _SOURCE_KINDS if kind in source]
    if len(kinds) != 1:
        doc.fail(f"{label} source must name exactly one of {', '.join(_SOURCE_KINDS)}", index)
    kind = kinds[0]
    return _Node(
        index=index,
        name=name,
        version=version,
        kind=kind,
        location=ls.string(doc, source[kind], f"{label} source.{kind}", index),
        source=source,
        origin=_origin(doc, kind, source, index),
        hashes=_hashes(doc, entry, label, index),
        base=_edges(doc, entry.get("dependencies"), f"{label} dependencies", index),
        optional=_edge_map(
            doc, entry.get("optional-dependencies"), f"{label} optional-dependencies", index
        ),
        groups=_edge_map(doc, entry.get("dev-dependencies"), f"{label} dev-dependencies", index),
        fork_markers=ls.strings(
            doc, entry.get("resolution-markers"), f"{label} resolution-markers", index
        ),
    )


def _resolve(
    doc: ls.LockDocument, by_name: dict[str, list[_Node]], owner: _Node, edge: _Edge
) -> int:
    """The index of the package an edge points at; uv never writes an ambiguous edge."""
    found = [
        node
        for node in by_name.get(edge.name, ())
        if node.canonical == edge.name
        and (edge.version is None or node.version == edge.version)
        and (edge.source is None or node.source == edge.source)
    ]
    if not found:
        doc.fail(
            f"package {owner.name!r} depends on {edge.name!r}, which is not locked", owner.index
        )
    if len(found) > 1:
        doc.fail(
            f"package {owner.name!r} depends on {edge.name!r}, which matches"
            f" {len(found)} locked entries",
            owner.index,
        )
    return found[0].index


def _manifest_requirements(doc: ls.LockDocument) -> list[str]:
    """Names a ``[manifest]`` lists as requirements (scripts, virtual workspaces)."""
    manifest = ls.table(doc, doc.data.get("manifest", {}), "[manifest]")
    names: list[str] = []
    entries = list(ls.array(doc, manifest.get("requirements", []), "manifest.requirements"))
    groups = ls.table(doc, manifest.get("dependency-groups", {}), "manifest.dependency-groups")
    for group, items in groups.items():
        entries.extend(ls.array(doc, items, f"manifest.dependency-groups.{group}"))
    for item in entries:
        entry = ls.table(doc, item, "manifest requirement")
        names.append(canonicalize_name(ls.string(doc, entry.get("name"), "requirement name")))
    return names


class UvLockReader(EnvironmentReader):
    """``uv.lock``: every locked package, fork and source, with the lock's graph."""

    format_name: ClassVar[str] = "uv-lock"
    description: ClassVar[str] = "uv.lock universal lock file written by uv"

    def sniff(self, path: Path) -> bool:
        return sniff_file(
            path,
            named=lambda name: name == "uv.lock",
            content=lambda start: (
                b"\nversion = 1" in b"\n" + start
                and b"[[package]]" in start
                and b"source = {" in start
            ),
        )

    def read(self, path: Path) -> Environment:
        doc = ls.load_lock(path, "package")
        properties = _properties(doc)
        nodes = [
            _node(doc, raw, index)
            for index, raw in enumerate(ls.array(doc, doc.data.get("package", []), "package"))
        ]
        manifest = ls.table(doc, doc.data.get("manifest", {}), "[manifest]")
        members = {
            canonicalize_name(name)
            for name in ls.strings(doc, manifest.get("members"), "manifest.members")
        }
        roots = [
            node
            for node in nodes
            if node.kind in _ROOT_KINDS and (node.canonical in members or node.location == ".")
        ]
        root_ids = {node.index for node in roots}
        requested = set(_manifest_requirements(doc))
        for node in roots:
            requested.update(edge.name for edge in _all_edges(node))
        outgoing = _walk(doc, nodes, root_ids, requested)
        start = sorted(root_ids) or [node.index for node in nodes if node.canonical in requested]
        conditions, given_up = propagate(start, outgoing)
        packages = []
        for node in nodes:
            marker = render(conditions.get(node.index))
            if marker is None and node.fork_markers:
                marker = _any_of(node.fork_markers)
            packages.append(
                Package(
                    name=node.name,
                    version_raw=node.version,
                    hashes=tuple(node.hashes),
                    hash_source=HashSource.LOCK if node.hashes else None,
                    origin=node.origin,
                    installer="uv",
                    requested=None if node.index in root_ids else node.canonical in requested,
                    markers=marker,
                    extras=() if node.index in root_ids else tuple(node.extras),
                    dependencies=tuple(nodes[t].canonical for t, _ in outgoing[node.index]),
                )
            )
        properties.extend(("root-package", node.canonical) for node in roots)
        notes: list[str] = []
        unreachable = sorted(node.name for node in nodes if node.index not in conditions)
        if unreachable and start:
            notes.append(
                f"{len(unreachable)} locked package(s) are not reachable from the project:"
                f" {', '.join(unreachable)}"
            )
        if given_up:
            notes.append(f"install markers of {given_up} package(s) were too complex to combine")
        unversioned = sum(1 for node in nodes if node.version is None)
        if unversioned:
            notes.append(ls.unversioned_note(unversioned, "dynamic versions of local sources"))
        return Environment(
            source=Source(kind=self.format_name, path=str(path), digest=doc.digest),
            packages=tuple(packages),
            name=roots[0].name if len(roots) == 1 else None,
            notes=tuple(notes),
            properties=tuple(properties),
        )


def _properties(doc: ls.LockDocument) -> list[tuple[str, str]]:
    """The lock version check and the lock-wide facts worth keeping."""
    data = doc.data
    version = data.get("version")
    if version is None:
        doc.fail("no lock version (expected version = 1)")
    if not isinstance(version, int) or isinstance(version, bool) or version != 1:
        doc.fail(f"unsupported uv.lock version {version!r}; this reader understands version 1")
    properties: list[tuple[str, str]] = [("uv-lock-version", str(version))]
    revision = data.get("revision")
    if revision is not None:
        if not isinstance(revision, int) or isinstance(revision, bool):
            doc.fail(f"revision must be an integer, found {type(revision).__name__}")
        properties.append(("uv-lock-revision", str(revision)))
    requires_python = ls.opt_string(doc, data.get("requires-python"), "requires-python")
    if requires_python:
        properties.append(("requires-python", requires_python))
    for key in ("resolution-markers", "supported-markers", "required-markers"):
        properties.extend((key.removesuffix("s"), m) for m in ls.strings(doc, data.get(key), key))
    options = ls.table(doc, data.get("options", {}), "[options]")
    properties.extend(
        (f"option:{key}", str(value))
        for key, value in sorted(options.items())
        if isinstance(value, str | int | bool)
    )
    return properties


def _all_edges(node: _Node) -> list[_Edge]:
    return node.base + _flatten(node.optional) + _flatten(node.groups)


def _walk(
    doc: ls.LockDocument, nodes: list[_Node], root_ids: set[int], requested: set[str]
) -> dict[int, list[tuple[int, str | None]]]:
    """Every node's outgoing ``(target, marker)`` edges.

    Roots take all their extras and groups; any other node the extras that some
    incoming edge activates, found by walking from the roots to a fixed point.
    Nodes the walk never reaches keep their plain dependencies.
    """
    outgoing: dict[int, list[tuple[int, str | None]]] = {}
    by_name: dict[str, list[_Node]] = {}
    for node in nodes:
        by_name.setdefault(node.canonical, []).append(node)
    queue = sorted(root_ids) + [node.index for node in nodes if node.canonical in requested]
    seen: dict[int, frozenset[str]] = {}
    while queue:
        current = nodes[queue.pop()]
        if seen.get(current.index) == frozenset(current.extras):
            continue
        seen[current.index] = frozenset(current.extras)
        if current.index in root_ids:
            edges = _all_edges(current)
        else:
            missing = sorted(extra for extra in current.extras if extra not in current.optional)
            if missing:
                doc.fail(
                    f"package {current.name!r} is asked for extra {missing[0]!r},"
                    " which the lock does not define for it",
                    current.index,
                )
            edges = current.base + [e for x in sorted(current.extras) for e in current.optional[x]]
        targets = []
        for edge in edges:
            target = _resolve(doc, by_name, current, edge)
            nodes[target].extras.update(canonicalize_name(extra) for extra in edge.extras)
            targets.append((target, edge.marker))
            queue.append(target)
        outgoing[current.index] = targets
    for node in nodes:
        if node.index not in outgoing:
            outgoing[node.index] = [(_resolve(doc, by_name, node, e), e.marker) for e in node.base]
    return outgoing


def _flatten(groups: dict[str, list[_Edge]]) -> list[_Edge]:
    return [edge for key in sorted(groups) for edge in groups[key]]


def _any_of(markers: list[str]) -> str:
    if len(markers) == 1:
        return markers[0]
    return " or ".join(f"({marker})" for marker in markers)
