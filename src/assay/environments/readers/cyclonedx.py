"""CycloneDX JSON SBOMs (spec 1.4 to 1.7): the Python packages among the components.

Components whose package URL is ``pkg:pypi`` or ``pkg:conda`` become packages;
components of other types (npm, files, operating systems, ...) are not Python
packages and are counted in a note.  Python SBOM generators (``cyclonedx-py``,
``uv export``) write local and unpublished Python packages without a purl;
those are kept as PyPI packages when the document or the component shows it
came from such a generator, and are named in a note.

``requested`` comes from the dependency graph: True for what the root
component (``metadata.component``) depends on directly, False for the rest,
None when the document has no graph or no root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from packaging.utils import canonicalize_name

from assay.environments.model import (
    Ecosystem,
    Environment,
    Hash,
    HashSource,
    License,
    Origin,
    Package,
    Party,
    Source,
)
from assay.environments.ports import EnvironmentReader, ReaderError
from assay.environments.readers import _cyclonedx_fields as fields
from assay.environments.readers import _sbom
from assay.environments.readers._files import (
    decode,
    digest,
    optional_str,
    parse_json,
    read_bytes,
    require_list,
    require_mapping,
    require_name,
    require_str,
    sniff_file,
)

SUPPORTED_SPECS = ("1.4", "1.5", "1.6", "1.7")
MAX_COMPONENT_DEPTH = 16
# Generators whose purl-less library components are local or unpublished Python packages.
PYTHON_GENERATORS = frozenset({"cyclonedx-py", "cyclonedx-bom", "uv"})
_PYTHON_PROPERTIES = ("cdx:python:", "cdx:poetry:", "cdx:pipenv:", "uv:")
_PACKAGE_TYPES = frozenset({"library", "framework", "application"})


@dataclass
class _Entry:
    """A kept component, before its dependencies are known."""

    ref: str | None
    name: str
    version: str | None
    ecosystem: Ecosystem
    origin: Origin
    hashes: list[Hash] = field(default_factory=list)
    license: License | None = None
    extras: list[str] = field(default_factory=list)
    markers: str | None = None
    specifier: str | None = None
    platform: str | None = None
    build: str | None = None
    is_root: bool = False
    summary: str | None = None
    authors: tuple[Party, ...] = ()
    homepage: str | None = None


def _looks_like_cyclonedx(start: bytes) -> bool:
    if b'"bomFormat"' in start and b'"CycloneDX"' in start:
        return True
    # cyclonedx-py sorts keys, so bomFormat comes last; "bom-ref" is CycloneDX's own key.
    return start.lstrip().startswith(b"{") and b'"bom-ref"' in start


class CycloneDxReader(EnvironmentReader):
    """Reads a CycloneDX JSON SBOM."""

    format_name: ClassVar[str] = "cyclonedx"
    description: ClassVar[str] = "CycloneDX JSON SBOM (spec 1.4-1.7): its pypi and conda components"

    def sniff(self, path: Path) -> bool:
        return sniff_file(
            path,
            named=lambda name: name.lower().endswith(".cdx.json") or name.lower() == "bom.json",
            suffixes=(".json",),
            content=_looks_like_cyclonedx,
        )

    def read(self, path: Path) -> Environment:
        raw = read_bytes(path)
        text = decode(path, raw)
        if text.lstrip().startswith("<"):
            raise ReaderError(path, "CycloneDX XML is not supported; export the SBOM as JSON")
        data = require_mapping(path, parse_json(path, text), "the document")
        _check_format(path, data)
        spec = data["specVersion"]
        metadata = require_mapping(path, data.get("metadata", {}), "metadata")
        tools = fields.tools(path, metadata.get("tools"))
        from_python_tool = any(t.split(" ", 1)[0].lower() in PYTHON_GENERATORS for t in tools)
        root = metadata.get("component")
        root = None if root is None else require_mapping(path, root, "metadata.component")
        reading = _Reading(path, from_python_tool)
        if root is not None:
            reading.component(root, "metadata.component", is_root=True)
        reading.walk(require_list(path, data.get("components", []), "components"))
        return reading.environment(
            Source(kind=self.format_name, path=str(path), digest=digest(raw)),
            data.get("dependencies"),
            root,
            (("sbom.format", f"CycloneDX {spec}"), *(("sbom.tool", t) for t in tools)),
        )


def _check_format(path: Path, data: dict[str, Any]) -> None:
    fmt = data.get("bomFormat")
    if fmt != "CycloneDX":
        raise ReaderError(path, f"not a CycloneDX document: bomFormat is {fmt!r}")
    spec = data.get("specVersion")
    if spec not in SUPPORTED_SPECS:
        supported = ", ".join(SUPPORTED_SPECS)
        raise ReaderError(
            path, f"unsupported CycloneDX specVersion {spec!r} (supported: {supported})"
        )


class _Reading:
    """The state of one read: kept entries, skipped labels, bom-refs seen."""

    def __init__(self, path: Path, from_python_tool: bool) -> None:
        self.path = path
        self.from_python_tool = from_python_tool
        self.entries: list[_Entry] = []
        self.refs: set[str] = set()
        self.skipped: list[str] = []
        self.without_purl: list[str] = []

    def walk(self, top: list[Any]) -> None:
        stack = [(item, f"components[{i}]", 1) for i, item in reversed(list(enumerate(top)))]
        while stack:
            value, where, depth = stack.pop()
            if depth > MAX_COMPONENT_DEPTH:
                raise ReaderError(
                    self.path, f"{where}: components nested more than {MAX_COMPONENT_DEPTH} deep"
                )
            component = require_mapping(self.path, value, where)
            self.component(component, where)
            nested = require_list(self.path, component.get("components", []), f"{where}.components")
            stack.extend(
                (child, f"{where}.components[{i}]", depth + 1)
                for i, child in reversed(list(enumerate(nested)))
            )

    def component(self, component: dict[str, Any], where: str, is_root: bool = False) -> None:
        path = self.path
        name = component.get("name")
        if name is None:
            raise ReaderError(path, f"{where} has no name")
        name = require_name(path, name, f"{where}.name")
        where = f"{where} ({name})"
        version = optional_str(path, component.get("version"), f"{where}.version")
        kind = optional_str(path, component.get("type"), f"{where}.type")
        ref = optional_str(path, component.get("bom-ref"), f"{where}.bom-ref")
        if ref is not None:
            if ref in self.refs:
                raise ReaderError(path, f"{where}: bom-ref {ref!r} is used twice")
            self.refs.add(ref)
        purl_text = optional_str(path, component.get("purl"), f"{where}.purl")
        props = fields.properties(path, component.get("properties"), where)
        refs = fields.external_refs(path, component.get("externalReferences"), where)
        keep, facts = self._identify(purl_text, kind, props, refs, where=where, is_root=is_root)
        if not keep:
            if not is_root:
                self.skipped.append(_sbom.label(name, version))
            return
        if facts is None:
            self.without_purl.append(_sbom.label(name, version))
        ecosystem = facts.ecosystem if facts else Ecosystem.PYPI
        entry = _Entry(
            ref=ref,
            name=name,
            version=version or (facts.version if facts else None),
            ecosystem=ecosystem,
            origin=fields.origin_of(facts, refs, props, ecosystem),
            license=fields.license_of(path, component.get("licenses"), where),
            platform=facts.platform if facts else None,
            build=facts.build if facts else None,
            is_root=is_root,
            authors=fields.authors(path, component, where),
            homepage=fields.homepage(refs),
        )
        entry.hashes.extend(fields.hashes(path, component.get("hashes"), refs, where))
        for key, value in props:
            if key == "cdx:python:package:required-extra":
                entry.extras.append(value)
            elif key == "uv:package:marker":
                entry.markers = value
        description = optional_str(path, component.get("description"), f"{where}.description")
        if entry.version is None:
            entry.specifier, marker = fields.requirement_line(description, name)
            entry.markers = entry.markers or marker
        entry.summary = fields.summary(description)
        self.entries.append(entry)

    def _identify(
        self,
        purl_text: str | None,
        kind: str | None,
        props: list[tuple[str, str]],
        refs: list[dict[str, Any]],
        *,
        where: str,
        is_root: bool,
    ) -> tuple[bool, _sbom.PurlFacts | None]:
        """Whether a component is a Python package, and what its purl says if it has one."""
        if purl_text is not None:
            facts = _sbom.purl_facts(_sbom.parse_purl(self.path, purl_text, where))
            return facts is not None, facts
        if is_root or kind not in _PACKAGE_TYPES:
            return False, None
        python_evidence = any(k.startswith(_PYTHON_PROPERTIES) for k, _ in props) or any(
            (r.get("comment") or "").startswith("PackageSource:") for r in refs
        )
        return python_evidence or self.from_python_tool, None

    def environment(
        self,
        source: Source,
        dependencies: Any,
        root: dict[str, Any] | None,
        properties: tuple[tuple[str, str], ...],
    ) -> Environment:
        path = self.path
        notes: list[str] = []
        edges = _edges(path, dependencies)
        if edges is not None:
            dangling = {r for ref, ts in edges.items() for r in (ref, *ts)} - self.refs
            if dangling:
                notes.append(
                    _sbom.names_note(
                        len(dangling), "dependency references name no component", dangling
                    )
                )
        by_ref = {e.ref: canonicalize_name(e.name) for e in self.entries if e.ref is not None}
        root_ref = root.get("bom-ref") if root is not None else None
        direct: set[str] | None = None
        if edges is not None and isinstance(root_ref, str) and root_ref in edges:
            direct = set(edges[root_ref])
        packages = []
        for entry in self.entries:
            deps = [by_ref[t] for t in (edges or {}).get(entry.ref or "", []) if t in by_ref]
            requested = None
            if entry.is_root:
                requested = True
            elif direct is not None:
                requested = entry.ref in direct
            packages.append(
                Package(
                    name=entry.name,
                    version_raw=entry.version,
                    ecosystem=entry.ecosystem,
                    specifier=entry.specifier,
                    hashes=tuple(entry.hashes),
                    hash_source=HashSource.SBOM if entry.hashes else None,
                    origin=entry.origin,
                    requested=requested,
                    markers=entry.markers,
                    extras=tuple(entry.extras),
                    license=entry.license,
                    dependencies=tuple(d for d in deps if d != canonicalize_name(entry.name)),
                    platform=entry.platform,
                    build=entry.build,
                    summary=entry.summary,
                    authors=entry.authors,
                    homepage=entry.homepage,
                )
            )
        unpinned = [_sbom.label(p.name, p.specifier) for p in packages if not p.pinned]
        if unpinned:
            notes.append(_sbom.names_note(len(unpinned), "components have no version", unpinned))
        if self.without_purl:
            notes.append(
                _sbom.names_note(
                    len(self.without_purl),
                    "components have no package URL and are kept as local or unpublished "
                    "Python packages",
                    self.without_purl,
                )
            )
        if self.skipped:
            notes.append(
                _sbom.names_note(
                    len(self.skipped),
                    "components skipped: not pypi or conda packages",
                    self.skipped,
                )
            )
        root_name = root.get("name") if root is not None else None
        return Environment(
            source=source,
            packages=tuple(packages),
            name=root_name if isinstance(root_name, str) else None,
            notes=tuple(notes),
            properties=properties,
        )


def _edges(path: Path, dependencies: Any) -> dict[str, list[str]] | None:
    """``ref -> dependsOn`` from the ``dependencies`` list; None when the document has none."""
    if dependencies is None:
        return None
    edges: dict[str, list[str]] = {}
    for index, item in enumerate(require_list(path, dependencies, "dependencies")):
        where = f"dependencies[{index}]"
        entry = require_mapping(path, item, where)
        ref = require_str(path, entry.get("ref"), f"{where}.ref")
        targets = require_list(path, entry.get("dependsOn", []), f"{where}.dependsOn")
        edges.setdefault(ref, []).extend(
            require_str(path, t, f"{where}.dependsOn entry") for t in targets
        )
    return edges
