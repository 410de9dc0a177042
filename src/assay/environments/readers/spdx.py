"""SPDX 2.2 and 2.3 JSON documents: the Python packages among ``packages``.

A package is a Python package when one of its ``PACKAGE-MANAGER`` purl
references is ``pkg:pypi`` or ``pkg:conda``; other packages (npm, operating
system, the described application without a purl, ...) are counted in a note.
Relationships give the graph: ``DEPENDS_ON`` and the ``*DEPENDENCY_OF`` family.
``requested`` is True for the described packages and what they depend on
directly, False for the rest, None when no described package has dependencies.
SPDX 3 (JSON-LD) is a different model and is refused with a clear error.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from packageurl import PackageURL

from assay.environments import core_metadata, licenses
from assay.environments.model import (
    Environment,
    Hash,
    HashSource,
    License,
    Origin,
    Package,
    Source,
)
from assay.environments.ports import EnvironmentReader, ReaderError
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

SUPPORTED_VERSIONS = ("SPDX-2.2", "SPDX-2.3")
_NO_VALUE = frozenset({"NOASSERTION", "NONE"})
_PACKAGE_MANAGER = frozenset({"PACKAGE-MANAGER", "PACKAGE_MANAGER"})
# (A, B) means "A depends on B" for DEPENDS_ON and "B depends on A" for the *_OF kinds.
_DEPENDS_ON = frozenset({"DEPENDS_ON"})
_DEPENDENCY_OF = frozenset(
    {
        "DEPENDENCY_OF",
        "RUNTIME_DEPENDENCY_OF",
        "BUILD_DEPENDENCY_OF",
        "DEV_DEPENDENCY_OF",
        "OPTIONAL_DEPENDENCY_OF",
        "PROVIDED_DEPENDENCY_OF",
    }
)
_DOCUMENT = "SPDXRef-DOCUMENT"


def _looks_like_spdx(start: bytes) -> bool:
    if b'"spdxVersion"' in start or b'"SPDXRef-DOCUMENT"' in start:
        return True
    # SPDX 3 JSON-LD: recognised so that reading it says plainly it is not supported.
    return b'"@context"' in start and b"spdx.org/rdf/3" in start


class SpdxReader(EnvironmentReader):
    """Reads an SPDX 2.2/2.3 JSON document."""

    format_name: ClassVar[str] = "spdx"
    description: ClassVar[str] = "SPDX 2.2/2.3 JSON SBOM: its pypi and conda packages"

    def sniff(self, path: Path) -> bool:
        return sniff_file(
            path,
            named=lambda name: name.lower().endswith(".spdx.json"),
            suffixes=(".json", ".jsonld"),
            content=_looks_like_spdx,
        )

    def read(self, path: Path) -> Environment:
        raw = read_bytes(path)
        data = require_mapping(path, parse_json(path, decode(path, raw)), "the document")
        version = _check_version(path, data)
        packages = require_list(path, data.get("packages", []), "packages")
        reading = _Reading(path)
        for index, item in enumerate(packages):
            reading.package(require_mapping(path, item, f"packages[{index}]"), index)
        for key in ("files", "snippets"):
            for index, item in enumerate(require_list(path, data.get(key, []), key)):
                element = require_mapping(path, item, f"{key}[{index}]")
                reading.ids.add(require_str(path, element.get("SPDXID"), f"{key}[{index}].SPDXID"))
        roots = reading.relationships(data)
        return reading.environment(
            Source(kind=self.format_name, path=str(path), digest=digest(raw)),
            roots,
            optional_str(path, data.get("name"), "name"),
            (("sbom.format", version), *(("sbom.tool", t) for t in _tools(path, data))),
        )


def _check_version(path: Path, data: dict[str, Any]) -> str:
    version = data.get("spdxVersion")
    if version is None:
        if "@context" in data or "@graph" in data:
            raise ReaderError(
                path, "SPDX 3 JSON-LD is not supported; export SPDX 2.3 JSON (spdxVersion SPDX-2.3)"
            )
        raise ReaderError(path, "not an SPDX JSON document: no spdxVersion")
    version = require_str(path, version, "spdxVersion")
    if version.startswith("SPDX-3"):
        raise ReaderError(path, f"{version} is not supported; export SPDX 2.3 JSON")
    if version not in SUPPORTED_VERSIONS:
        raise ReaderError(
            path,
            f"unsupported spdxVersion {version!r} (supported: {', '.join(SUPPORTED_VERSIONS)})",
        )
    return version


def _tools(path: Path, data: dict[str, Any]) -> list[str]:
    info = require_mapping(path, data.get("creationInfo", {}), "creationInfo")
    creators = require_list(path, info.get("creators", []), "creationInfo.creators")
    found = []
    for creator in creators:
        text = require_str(path, creator, "creationInfo.creators entry")
        if text.startswith("Tool:"):
            found.append(text.removeprefix("Tool:").strip())
    return found


class _Reading:
    """Kept packages by SPDXID, skipped labels, and the relationship graph."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ids: set[str] = set()
        self.kept: dict[str, Package] = {}
        self.names: dict[str, str] = {}
        self.skipped: list[str] = []
        self.edges: dict[str, list[str]] = {}

    def package(self, entry: dict[str, Any], index: int) -> None:
        path = self.path
        where = f"packages[{index}]"
        spdx_id = require_str(path, entry.get("SPDXID"), f"{where}.SPDXID")
        if entry.get("name") is None:
            raise ReaderError(path, f"{where} ({spdx_id}) has no name")
        name = require_name(path, entry.get("name"), f"{where}.name")
        where = f"{where} ({name})"
        if spdx_id in self.ids:
            raise ReaderError(path, f"{where}: SPDXID {spdx_id!r} is used twice")
        self.ids.add(spdx_id)
        self.names[spdx_id] = name
        version = optional_str(path, entry.get("versionInfo"), f"{where}.versionInfo")
        facts = None
        for purl in _purls(path, entry.get("externalRefs"), where):
            facts = _sbom.purl_facts(purl)
            if facts is not None:
                break
        if facts is None:
            self.skipped.append(_sbom.label(name, version))
            return
        location = optional_str(path, entry.get("downloadLocation"), f"{where}.downloadLocation")
        hashes = _checksums(path, entry.get("checksums"), where)
        self.kept[spdx_id] = Package(
            name=name,
            version_raw=version or facts.version,
            ecosystem=facts.ecosystem,
            hashes=hashes,
            hash_source=HashSource.SBOM if hashes else None,
            origin=facts.origin
            or _location_origin(location)
            or _sbom.default_origin(facts.ecosystem),
            license=_license(path, entry, where),
            platform=facts.platform,
            build=facts.build,
            summary=core_metadata.meaningful(
                optional_str(path, entry.get("summary"), f"{where}.summary")
            ),
            homepage=_stated(optional_str(path, entry.get("homepage"), f"{where}.homepage")),
        )

    def relationships(self, data: dict[str, Any]) -> list[str]:
        """Record dependency edges; return the described elements (the roots)."""
        path = self.path
        roots = [
            require_str(path, r, "documentDescribes entry")
            for r in require_list(path, data.get("documentDescribes", []), "documentDescribes")
        ]
        document = data.get("SPDXID", _DOCUMENT)
        items = require_list(path, data.get("relationships", []), "relationships")
        for index, item in enumerate(items):
            where = f"relationships[{index}]"
            rel = require_mapping(path, item, where)
            left = require_str(path, rel.get("spdxElementId"), f"{where}.spdxElementId")
            kind = require_str(path, rel.get("relationshipType"), f"{where}.relationshipType")
            right = require_str(path, rel.get("relatedSpdxElement"), f"{where}.relatedSpdxElement")
            if kind == "DESCRIBES" and left == document:
                roots.append(right)
            elif kind == "DESCRIBED_BY" and right == document:
                roots.append(left)
            elif kind in _DEPENDS_ON:
                self.edges.setdefault(left, []).append(right)
            elif kind in _DEPENDENCY_OF:
                self.edges.setdefault(right, []).append(left)
        return list(dict.fromkeys(roots))

    def environment(
        self,
        source: Source,
        roots: list[str],
        document_name: str | None,
        properties: tuple[tuple[str, str], ...],
    ) -> Environment:
        direct = {target for root in roots for target in self.edges.get(root, [])}
        has_graph = any(root in self.edges for root in roots)
        packages = []
        for spdx_id, package in self.kept.items():
            requested: bool | None = None
            if spdx_id in roots or spdx_id in direct:
                requested = True
            elif has_graph:
                requested = False
            deps = {
                self.kept[t].canonical_name for t in self.edges.get(spdx_id, []) if t in self.kept
            }
            deps.discard(package.canonical_name)
            packages.append(replace(package, requested=requested, dependencies=tuple(deps)))
        notes = []
        unpinned = [p.name for p in packages if not p.pinned]
        if unpinned:
            notes.append(_sbom.names_note(len(unpinned), "packages have no version", unpinned))
        if self.skipped:
            notes.append(
                _sbom.names_note(
                    len(self.skipped),
                    "packages skipped: no pypi or conda package URL",
                    self.skipped,
                )
            )
        unknown = {t for ts in self.edges.values() for t in ts} | set(roots)
        unknown = {t for t in unknown - self.ids if not t.startswith("DocumentRef-")}
        unknown -= _NO_VALUE
        if unknown:
            notes.append(_sbom.names_note(len(unknown), "relationships name no package", unknown))
        described = [r for r in roots if r in self.ids]
        return Environment(
            source=source,
            packages=tuple(packages),
            name=self._root_name(described) or document_name,
            notes=tuple(notes),
            properties=properties,
        )

    def _root_name(self, described: list[str]) -> str | None:
        if len(described) != 1:
            return None
        root = described[0]
        if root in self.kept:
            return self.kept[root].name
        return self.names.get(root)


def _stated(value: str | None) -> str | None:
    """A value unless it is SPDX's NOASSERTION or NONE (or a placeholder)."""
    value = core_metadata.meaningful(value)
    return None if value is None or value.upper() in ("NOASSERTION", "NONE") else value


def _purls(path: Path, value: Any, where: str) -> list[PackageURL]:
    found = []
    for item in require_list(path, value if value is not None else [], f"{where}.externalRefs"):
        ref = require_mapping(path, item, f"{where}.externalRefs entry")
        category = require_str(path, ref.get("referenceCategory"), f"{where} referenceCategory")
        kind = require_str(path, ref.get("referenceType"), f"{where} referenceType")
        locator = require_str(path, ref.get("referenceLocator"), f"{where} referenceLocator")
        if category in _PACKAGE_MANAGER and kind == "purl":
            found.append(_sbom.parse_purl(path, locator, where))
    return found


def _checksums(path: Path, value: Any, where: str) -> tuple[Hash, ...]:
    hashes = []
    for item in require_list(path, value if value is not None else [], f"{where}.checksums"):
        checksum = require_mapping(path, item, f"{where}.checksums entry")
        algorithm = require_str(path, checksum.get("algorithm"), f"{where} checksum algorithm")
        content = require_str(path, checksum.get("checksumValue"), f"{where} checksumValue")
        hashes.append(_sbom.hash_of(path, algorithm, content, f"{where}.checksums"))
    return tuple(hashes)


def _location_origin(location: str | None) -> Origin | None:
    """``git+...`` is a VCS checkout and ``file:`` a local path; an http(s) download
    location of a purl-identified package is where the index served it, so it says
    nothing the purl does not."""
    if location is None or location in _NO_VALUE:
        return None
    if _sbom.is_vcs_url(location):
        return _sbom.vcs_origin(location)
    if location.startswith("file:"):
        return _sbom.location_origin(location)
    return None


def _license(path: Path, entry: dict[str, Any], where: str) -> License | None:
    for key in ("licenseConcluded", "licenseDeclared"):
        text = optional_str(path, entry.get(key), f"{where}.{key}")
        if text is not None and text.strip() and text.strip() not in _NO_VALUE:
            return licenses.from_text(text, "sbom")
    return None
