"""Minimum elements of an SBOM: NTIA (2021) and CISA (2025), for any CycloneDX or SPDX JSON.

Pure: takes the parsed JSON document (CycloneDX 1.x, SPDX 2.x or SPDX 3
JSON-LD, from any generator) and says, per component and for the document,
which elements are present.

NTIA minimum elements: supplier name, component name, version, other unique
identifiers, dependency relationship, author of SBOM data, timestamp.
CISA 2025 minimum elements: SBOM author, software producer, component name,
component version, software identifiers, component hash, license, dependency
relationship, tool name, timestamp, generation context.

Per-component elements are scored by the share of components that carry them,
document elements as present or not; a framework's score is the mean over its
elements (0-100).  What counts as present, per format, is in ``docs/sbom.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# element key -> label
COMPONENT_ELEMENTS = {
    "supplier": "supplier name / software producer",
    "name": "component name",
    "version": "component version",
    "identifier": "unique identifier (purl, CPE, SWID, SWHID, OmniBOR)",
    "dependencies": "dependency relationship",
    "hash": "component hash",
    "license": "license",
}
DOCUMENT_ELEMENTS = {
    "author": "author of SBOM data",
    "timestamp": "timestamp",
    "tool": "tool name",
    "generation-context": "generation context (lifecycle phase)",
}
NTIA = ("supplier", "name", "version", "identifier", "dependencies", "author", "timestamp")
CISA_2025 = (
    "author",
    "supplier",
    "name",
    "version",
    "identifier",
    "hash",
    "license",
    "dependencies",
    "tool",
    "timestamp",
    "generation-context",
)
FRAMEWORKS = {"ntia": NTIA, "cisa-2025": CISA_2025}
_EPOCH_PREFIX = "1970-01-01T00:00:00"
_NO_VALUE = frozenset({"", "NOASSERTION"})


class UnsupportedDocumentError(ValueError):
    """The JSON is not a CycloneDX or SPDX document this checker understands."""


@dataclass(frozen=True, slots=True)
class ComponentCheck:
    ref: str
    name: str
    version: str | None
    present: frozenset[str]

    def missing(self, elements: Iterable[str]) -> tuple[str, ...]:
        return tuple(e for e in elements if e in COMPONENT_ELEMENTS and e not in self.present)


@dataclass(frozen=True, slots=True)
class CheckReport:
    format: str  # "CycloneDX 1.6", "SPDX-2.3", "SPDX 3.0.1"
    components: tuple[ComponentCheck, ...]
    document: frozenset[str]  # document elements present
    notes: tuple[str, ...] = ()

    def coverage(self, element: str) -> float:
        """Share (0-1) of components with a component element; 1/0 for document elements."""
        if element in DOCUMENT_ELEMENTS:
            return 1.0 if element in self.document else 0.0
        if not self.components:
            return 0.0
        return sum(element in c.present for c in self.components) / len(self.components)

    def count(self, element: str) -> int:
        return sum(element in c.present for c in self.components)

    def score(self, framework: str) -> float:
        elements = FRAMEWORKS[framework]
        return round(100 * sum(self.coverage(e) for e in elements) / len(elements), 1)

    def missing(self, framework: str) -> tuple[str, ...]:
        """The framework's elements that are not present everywhere."""
        return tuple(e for e in FRAMEWORKS[framework] if self.coverage(e) < 1.0)

    def complete(self, framework: str) -> bool:
        return not self.missing(framework)


def check_document(data: Any) -> CheckReport:
    """Evaluate a parsed CycloneDX or SPDX JSON document."""
    if not isinstance(data, dict):
        raise UnsupportedDocumentError("the document is not a JSON object")
    if data.get("bomFormat") == "CycloneDX":
        return _cyclonedx(data)
    if isinstance(data.get("spdxVersion"), str):
        return _spdx2(data)
    if "@context" in data and "spdx" in str(data.get("@context")).lower():
        return _spdx3(data)
    raise UnsupportedDocumentError("neither CycloneDX (bomFormat) nor SPDX (spdxVersion, @context)")


# -- helpers -------------------------------------------------------------------------------


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() not in _NO_VALUE else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _named(value: Any) -> bool:
    return _str(_dict(value).get("name")) is not None


def _timestamp_ok(value: Any) -> bool:
    text = _str(value)
    return text is not None and not text.startswith(_EPOCH_PREFIX)


# -- CycloneDX -----------------------------------------------------------------------------


def _cdx_components(items: Iterable[Any]) -> Iterable[dict[str, Any]]:
    stack = list(_list(items))[::-1]
    while stack:
        component = _dict(stack.pop())
        yield component
        stack.extend(reversed(_list(component.get("components"))))


def _cdx_present(component: Mapping[str, Any], in_graph: set[str]) -> frozenset[str]:
    present = set()
    if (
        _named(component.get("supplier"))
        or _named(component.get("manufacturer"))
        or any(_named(a) for a in _list(component.get("authors")))
        or _str(component.get("author"))
        or _str(component.get("publisher"))
    ):
        present.add("supplier")
    if _str(component.get("name")):
        present.add("name")
    if _str(component.get("version")):
        present.add("version")
    if any(
        _str(component.get(k)) or _list(component.get(k))
        for k in ("purl", "cpe", "omniborId", "swhid")
    ) or _dict(component.get("swid")).get("tagId"):
        present.add("identifier")
    hashed_refs = any(
        _list(r.get("hashes")) for r in map(_dict, _list(component.get("externalReferences")))
    )
    if _list(component.get("hashes")) or hashed_refs:
        present.add("hash")
    if any(
        _dict(x).get("expression") or _dict(x).get("license")
        for x in _list(component.get("licenses"))
    ):
        present.add("license")
    if _str(component.get("bom-ref")) in in_graph:
        present.add("dependencies")
    return frozenset(present)


def _cyclonedx(data: dict[str, Any]) -> CheckReport:
    metadata = _dict(data.get("metadata"))
    in_graph: set[str] = set()
    for entry in map(_dict, _list(data.get("dependencies"))):
        if isinstance(entry.get("ref"), str):
            in_graph.add(entry["ref"])
        in_graph.update(t for t in _list(entry.get("dependsOn")) if isinstance(t, str))
    roots = [metadata["component"]] if isinstance(metadata.get("component"), dict) else []
    components = tuple(
        ComponentCheck(
            ref=_str(c.get("bom-ref")) or _str(c.get("purl")) or str(c.get("name")),
            name=str(c.get("name") or ""),
            version=_str(c.get("version")),
            present=_cdx_present(c, in_graph),
        )
        for c in _cdx_components([*roots, *_list(data.get("components"))])
    )
    document = set()
    if (
        any(_named(a) for a in _list(metadata.get("authors")))
        or _named(metadata.get("manufacturer"))
        or _named(metadata.get("manufacture"))
    ):
        document.add("author")
    if _timestamp_ok(metadata.get("timestamp")):
        document.add("timestamp")
    tools = metadata.get("tools")
    tool_items = (
        [*_list(tools.get("components")), *_list(tools.get("services"))]
        if isinstance(tools, dict)
        else _list(tools)
    )
    if any(_named(t) for t in tool_items):
        document.add("tool")
    if any(
        _dict(x).get("phase") or _dict(x).get("name") for x in _list(metadata.get("lifecycles"))
    ):
        document.add("generation-context")
    return CheckReport(
        format=f"CycloneDX {data.get('specVersion', '?')}",
        components=components,
        document=frozenset(document),
    )


# -- SPDX 2 --------------------------------------------------------------------------------

_SPDX2_GRAPH = frozenset(
    {
        "DEPENDS_ON",
        "DEPENDENCY_OF",
        "DEV_DEPENDENCY_OF",
        "OPTIONAL_DEPENDENCY_OF",
        "BUILD_DEPENDENCY_OF",
        "RUNTIME_DEPENDENCY_OF",
        "TEST_DEPENDENCY_OF",
        "PROVIDED_DEPENDENCY_OF",
        "CONTAINS",
        "CONTAINED_BY",
        "DESCRIBES",
        "DESCRIBED_BY",
    }
)
_SPDX2_IDENTIFIERS = frozenset({"purl", "cpe22Type", "cpe23Type", "swid", "swh", "gitoid"})


def _present(checks: dict[str, Any]) -> frozenset[str]:
    return frozenset(key for key, ok in checks.items() if ok)


def _spdx2_present(package: dict[str, Any], in_graph: set[str]) -> frozenset[str]:
    supplier = _str(package.get("supplier")) or _str(package.get("originator")) or ""
    refs = map(_dict, _list(package.get("externalRefs")))
    return _present(
        {
            "supplier": supplier.split(":", 1)[-1].strip() not in _NO_VALUE,
            "name": _str(package.get("name")),
            "version": _str(package.get("versionInfo")),
            "identifier": any(r.get("referenceType") in _SPDX2_IDENTIFIERS for r in refs),
            "hash": _list(package.get("checksums")),
            "license": _str(package.get("licenseDeclared"))
            or _str(package.get("licenseConcluded")),
            "dependencies": isinstance(package.get("SPDXID"), str)
            and package["SPDXID"] in in_graph,
        }
    )


def _spdx2(data: dict[str, Any]) -> CheckReport:
    in_graph: set[str] = {d for d in _list(data.get("documentDescribes")) if isinstance(d, str)}
    for rel in map(_dict, _list(data.get("relationships"))):
        if rel.get("relationshipType") in _SPDX2_GRAPH:
            for key in ("spdxElementId", "relatedSpdxElement"):
                if isinstance(rel.get(key), str) and rel[key] != "SPDXRef-DOCUMENT":
                    in_graph.add(rel[key])
    components = [
        ComponentCheck(
            ref=str(package.get("SPDXID", "")),
            name=str(package.get("name") or ""),
            version=_str(package.get("versionInfo")),
            present=_spdx2_present(package, in_graph),
        )
        for package in map(_dict, _list(data.get("packages")))
    ]
    info = _dict(data.get("creationInfo"))
    creators = [c for c in _list(info.get("creators")) if isinstance(c, str)]
    document = set()
    if any(c.startswith(("Person:", "Organization:")) for c in creators):
        document.add("author")
    if any(c.startswith("Tool:") for c in creators):
        document.add("tool")
    if _timestamp_ok(info.get("created")):
        document.add("timestamp")
    return CheckReport(
        format=str(data.get("spdxVersion")),
        components=tuple(components),
        document=frozenset(document),
        notes=("SPDX 2 has no field for the generation context (lifecycle phase)",),
    )


# -- SPDX 3 --------------------------------------------------------------------------------


def _spdx3_links(graph: list[dict[str, Any]]) -> tuple[set[str], set[str]]:
    """Elements in the dependency graph (or SBOM roots), and elements with a license."""
    linked: set[str] = set()
    licensed: set[str] = set()
    for rel in (o for o in graph if o.get("type") == "Relationship"):
        kind, source = rel.get("relationshipType"), rel.get("from")
        if not isinstance(source, str):
            continue
        if kind in ("hasDeclaredLicense", "hasConcludedLicense"):
            licensed.add(source)
        elif kind in ("dependsOn", "contains", "describes"):
            linked.add(source)
            linked.update(t for t in _list(rel.get("to")) if isinstance(t, str))
    for o in graph:
        if o.get("type") in ("software_Sbom", "SpdxDocument"):
            linked.update(r for r in _list(o.get("rootElement")) if isinstance(r, str))
    return linked, licensed


def _spdx3(data: dict[str, Any]) -> CheckReport:
    graph = [_dict(o) for o in _list(data.get("@graph"))]
    by_id: dict[str, dict[str, Any]] = {}
    for o in graph:
        ident = o.get("spdxId") or o.get("@id")
        if isinstance(ident, str):
            by_id[ident] = o
    linked, licensed = _spdx3_links(graph)
    components = []
    for package in (o for o in graph if o.get("type") == "software_Package"):
        ident = str(package.get("spdxId", ""))
        supplied_by = package.get("suppliedBy")
        supplier = by_id.get(supplied_by, {}) if isinstance(supplied_by, str) else {}
        present = _present(
            {
                "supplier": _str(supplier.get("name")),
                "name": _str(package.get("name")),
                "version": _str(package.get("software_packageVersion")),
                "identifier": _str(package.get("software_packageUrl"))
                or _list(package.get("externalIdentifier")),
                "hash": any(
                    _dict(v).get("type") == "Hash" for v in _list(package.get("verifiedUsing"))
                ),
                "license": ident in licensed,
                "dependencies": ident in linked,
            }
        )
        components.append(
            ComponentCheck(
                ident,
                str(package.get("name") or ""),
                _str(package.get("software_packageVersion")),
                present,
            )
        )
    document = set()
    infos = [o for o in graph if o.get("type") == "CreationInfo"]
    for info in infos:
        agents = [by_id.get(a) for a in _list(info.get("createdBy")) if isinstance(a, str)]
        if any(
            a is not None and a.get("type") in ("Person", "Organization", "Agent") for a in agents
        ):
            document.add("author")
        if _list(info.get("createdUsing")):
            document.add("tool")
        if _timestamp_ok(info.get("created")):
            document.add("timestamp")
    if any(_list(o.get("software_sbomType")) for o in graph if o.get("type") == "software_Sbom"):
        document.add("generation-context")
    return CheckReport(
        format="SPDX 3.0.1", components=tuple(components), document=frozenset(document)
    )
