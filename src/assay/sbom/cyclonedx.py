"""CycloneDX components and dependency graph from an Environment.

:func:`environment_components` is the reusable part (the AIBOM builder uses it
too): every package becomes a ``library`` component whose ``bom-ref`` is its
purl (made unique with ``#2``, ``#3``... when a multi-platform lock lists one
purl twice), with its hashes (and a property saying where they came from), its
license (one SPDX id, else an SPDX expression, else the raw text as a named
license), supplier and authors, external references and properties.  The
dependency graph follows ``Package.dependencies``.

:mod:`assay.sbom.cyclonedx_bom` wraps these in a ``Bom`` with metadata and
serializes and validates it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cyclonedx.exception.model import InvalidUriException
from cyclonedx.model import (
    AttachedText,
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.contact import OrganizationalContact, OrganizationalEntity
from cyclonedx.model.dependency import Dependency
from cyclonedx.model.license import (
    DisjunctiveLicense,
    LicenseAcknowledgement,
    LicenseExpression,
)
from cyclonedx.spdx import is_supported_id
from packageurl import PackageURL

from assay.environments.model import Environment, License, Origin, OriginKind, Package, Party
from assay.sbom import iri
from assay.sbom.details import supplier_of

PROPERTY_PREFIX = "assay:"
HASH_SOURCE_PROPERTY = "assay:hash:source"

# hashlib-style names (the model's) to CycloneDX algorithm names; others are left out.
HASH_ALGORITHMS: dict[str, HashAlgorithm] = {
    "md5": HashAlgorithm.MD5,
    "sha1": HashAlgorithm.SHA_1,
    "sha256": HashAlgorithm.SHA_256,
    "sha384": HashAlgorithm.SHA_384,
    "sha512": HashAlgorithm.SHA_512,
    "sha3-256": HashAlgorithm.SHA3_256,
    "sha3-384": HashAlgorithm.SHA3_384,
    "sha3-512": HashAlgorithm.SHA3_512,
    "blake2b-256": HashAlgorithm.BLAKE2B_256,
    "blake2b-384": HashAlgorithm.BLAKE2B_384,
    "blake2b": HashAlgorithm.BLAKE2B_512,
    "blake2b-512": HashAlgorithm.BLAKE2B_512,
    "blake3": HashAlgorithm.BLAKE3,
}

# Project-URL labels (lowercased, without spaces, dashes and underscores) to reference types.
_URL_LABELS: dict[str, ExternalReferenceType] = {
    "homepage": ExternalReferenceType.WEBSITE,
    "home": ExternalReferenceType.WEBSITE,
    "website": ExternalReferenceType.WEBSITE,
    "source": ExternalReferenceType.VCS,
    "sourcecode": ExternalReferenceType.VCS,
    "code": ExternalReferenceType.VCS,
    "repository": ExternalReferenceType.VCS,
    "github": ExternalReferenceType.VCS,
    "gitlab": ExternalReferenceType.VCS,
    "documentation": ExternalReferenceType.DOCUMENTATION,
    "docs": ExternalReferenceType.DOCUMENTATION,
    "issues": ExternalReferenceType.ISSUE_TRACKER,
    "issuetracker": ExternalReferenceType.ISSUE_TRACKER,
    "bugtracker": ExternalReferenceType.ISSUE_TRACKER,
    "tracker": ExternalReferenceType.ISSUE_TRACKER,
    "bugs": ExternalReferenceType.ISSUE_TRACKER,
    "changelog": ExternalReferenceType.RELEASE_NOTES,
    "changes": ExternalReferenceType.RELEASE_NOTES,
    "releasenotes": ExternalReferenceType.RELEASE_NOTES,
    "download": ExternalReferenceType.DISTRIBUTION,
    "funding": ExternalReferenceType.SOCIAL,
    "chat": ExternalReferenceType.CHAT,
}


@dataclass(frozen=True, slots=True)
class ComponentGraph:
    """Components keyed by package, for callers that need more than the two lists."""

    components: tuple[Component, ...]
    dependencies: tuple[Dependency, ...]
    by_package: tuple[tuple[Package, Component], ...]

    def component_of(self, package: Package) -> Component:
        for candidate, component in self.by_package:
            if candidate is package:
                return component
        raise KeyError(package.purl)

    def refs_named(self, canonical_name: str) -> tuple[BomRef, ...]:
        return tuple(c.bom_ref for p, c in self.by_package if p.canonical_name == canonical_name)


def environment_components(env: Environment) -> tuple[list[Component], list[Dependency]]:
    """Every package of ``env`` as a CycloneDX component, and the dependency graph.

    Each component gets exactly one ``Dependency`` entry (empty when it depends on
    nothing), so the graph is complete for what the source knows.  The lists are in
    the environment's package order.
    """
    graph = component_graph(env)
    return list(graph.components), list(graph.dependencies)


def component_graph(env: Environment) -> ComponentGraph:
    """Like :func:`environment_components`, keeping which package became which component."""
    taken: dict[str, int] = {}
    pairs: list[tuple[Package, Component]] = []
    for package in env.packages:
        ref = _unique_ref(package.purl, taken)
        pairs.append((package, package_component(package, ref)))
    refs_by_name: dict[str, list[BomRef]] = {}
    for package, component in pairs:
        refs_by_name.setdefault(package.canonical_name, []).append(component.bom_ref)
    dependencies = [
        Dependency(
            ref=component.bom_ref,
            dependencies=[
                Dependency(ref=target)
                for name in package.dependencies
                for target in refs_by_name.get(name, ())
                if target is not component.bom_ref
            ],
        )
        for package, component in pairs
    ]
    return ComponentGraph(
        components=tuple(c for _, c in pairs),
        dependencies=tuple(dependencies),
        by_package=tuple(pairs),
    )


def _unique_ref(purl: str, taken: dict[str, int]) -> str:
    count = taken.get(purl, 0) + 1
    taken[purl] = count
    return purl if count == 1 else f"{purl}#{count}"


def package_component(
    package: Package,
    ref: str | None = None,
    kind: ComponentType = ComponentType.LIBRARY,
) -> Component:
    """One package as a CycloneDX component (``bom-ref`` defaults to the purl)."""
    supplier = supplier_of(package)
    properties = package_properties(package)
    if supplier is not None:
        properties.append(Property(name="assay:supplier:source", value=supplier[1]))
    return Component(
        type=kind,
        name=package.name,
        version=package.version_raw,
        bom_ref=ref or package.purl,
        purl=PackageURL.from_string(package.purl),
        description=package.summary or None,
        hashes=component_hashes(package),
        licenses=component_licenses(package.license),
        supplier=_entity(supplier[0]) if supplier else None,
        authors=[_contact(p) for p in package.authors if p.label],
        external_references=external_references(package),
        properties=properties,
    )


def component_hashes(package: Package) -> list[HashType]:
    return [
        HashType(alg=HASH_ALGORITHMS[h.algorithm], content=h.value)
        for h in package.hashes
        if h.algorithm in HASH_ALGORITHMS
    ]


def component_licenses(lic: License | None) -> list[DisjunctiveLicense | LicenseExpression]:
    """One SPDX id, else an SPDX expression, else the declared text as a named license."""
    if lic is None:
        return []
    declared = LicenseAcknowledgement.DECLARED
    if lic.spdx:
        if is_supported_id(lic.spdx):
            return [DisjunctiveLicense(id=lic.spdx, acknowledgement=declared)]
        return [LicenseExpression(lic.spdx, acknowledgement=declared)]
    raw = (lic.raw or "").strip()
    if not raw:
        return []
    if "\n" in raw or len(raw) > 200:
        return [
            DisjunctiveLicense(
                name="declared license text",
                text=AttachedText(content=raw),
                acknowledgement=declared,
            )
        ]
    return [DisjunctiveLicense(name=raw, acknowledgement=declared)]


def _entity(party: Party) -> OrganizationalEntity:
    return OrganizationalEntity(
        name=party.label,
        contacts=[_contact(party)] if party.email else None,
    )


def _contact(party: Party) -> OrganizationalContact:
    return OrganizationalContact(name=party.name, email=party.email)


def _uri(url: str | None) -> XsUri | None:
    if not url or any(c.isspace() for c in url):
        return None
    try:
        uri = XsUri(url)
    except InvalidUriException:
        return None
    # metadata URLs are free text: keep only what the schema's iri-reference accepts
    return uri if iri.is_iri_reference(str(uri)) else None


def _reference(
    kind: ExternalReferenceType, url: str | None, comment: str | None = None
) -> ExternalReference | None:
    uri = _uri(url)
    return ExternalReference(type=kind, url=uri, comment=comment) if uri is not None else None


def origin_references(origin: Origin, canonical_name: str) -> list[ExternalReference | None]:
    """Where the package comes from: VCS and commit, archive URL, index page, channel."""
    if origin.kind is OriginKind.VCS and origin.url:
        rev = origin.commit or origin.requested_revision
        comment = f"{origin.vcs or 'vcs'} commit {origin.commit}" if origin.commit else None
        url = f"{origin.vcs}+{origin.url}@{rev}" if origin.vcs and rev else origin.url
        return [_reference(ExternalReferenceType.VCS, url, comment)]
    if origin.kind is OriginKind.URL and origin.url:
        return [_reference(ExternalReferenceType.DISTRIBUTION, origin.url, "download URL")]
    if origin.kind is OriginKind.INDEX and origin.url:
        page = f"{origin.url.rstrip('/')}/{canonical_name}/"
        return [_reference(ExternalReferenceType.DISTRIBUTION, page, "package index")]
    if origin.kind is OriginKind.CHANNEL and origin.url:
        return [_reference(ExternalReferenceType.DISTRIBUTION, origin.url, "conda channel")]
    if origin.kind is OriginKind.DIRECTORY and origin.url and origin.url.startswith("file:"):
        comment = "local path (editable)" if origin.editable else "local path"
        return [_reference(ExternalReferenceType.DISTRIBUTION, origin.url, comment)]
    return []


def external_references(package: Package) -> list[ExternalReference]:
    """The origin's references, then the home page, download URL and project URLs."""
    found = origin_references(package.origin, package.canonical_name)
    if package.homepage:
        found.append(_reference(ExternalReferenceType.WEBSITE, package.homepage, "Home-page"))
    if package.download_url:
        found.append(
            _reference(ExternalReferenceType.DISTRIBUTION, package.download_url, "Download-URL")
        )
    for label, url in package.project_urls:
        key = "".join(c for c in label.lower() if c.isalnum())
        kind = _URL_LABELS.get(key, ExternalReferenceType.OTHER)
        found.append(_reference(kind, url, label))
    return [r for r in found if r is not None]


def package_properties(package: Package) -> list[Property]:
    """What the model knows that CycloneDX has no field for, under ``assay:``."""
    values: list[tuple[str, str]] = []
    if package.hashes and package.hash_source is not None:
        values.append((HASH_SOURCE_PROPERTY, package.hash_source.value))
    values.append(("assay:package:origin", package.origin.kind.value))
    if package.origin.editable:
        values.append(("assay:package:editable", "true"))
    if package.installer:
        values.append(("assay:package:installer", package.installer))
    if package.requested is not None:
        values.append(("assay:package:requested", str(package.requested).lower()))
    if package.specifier:
        values.append(("assay:package:specifier", package.specifier))
    if package.markers:
        values.append(("assay:package:markers", package.markers))
    values.extend(("assay:package:group", g) for g in package.groups)
    values.extend(("cdx:python:package:required-extra", e) for e in package.extras)
    if package.license is not None and package.license.origin:
        values.append(("assay:license:origin", package.license.origin))
    if package.platform:
        values.append(("assay:package:platform", package.platform))
    return [Property(name=k, value=v) for k, v in values]


def direct_refs(graph: ComponentGraph) -> list[BomRef]:
    """Refs of the packages the environment asked for directly (``requested``)."""
    return [c.bom_ref for p, c in graph.by_package if p.requested]
