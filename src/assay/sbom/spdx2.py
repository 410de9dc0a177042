"""SPDX 2.3 JSON built with spdx-tools and checked with its validator.

Each package has a stable SPDXID derived from its purl, its checksums, a purl
``PACKAGE-MANAGER`` reference, ``licenseDeclared`` (an SPDX expression, or a
``LicenseRef-`` with the declared text in ``hasExtractedLicensingInfos``),
``licenseConcluded`` NOASSERTION (assay concludes nothing), supplier,
``downloadLocation`` (VCS URL and commit, archive URL, index page, else
NOASSERTION) and homepage.  The document DESCRIBES the project package (or an
element standing for the environment), and ``DEPENDS_ON`` relationships give the
graph.  SPDX 2.3 requires a creation time: when reproducible output has none,
the Unix epoch is written and the creator comment says so.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

from license_expression import ExpressionError, get_spdx_licensing
from spdx_tools.spdx.model.actor import Actor, ActorType
from spdx_tools.spdx.model.checksum import Checksum, ChecksumAlgorithm
from spdx_tools.spdx.model.document import CreationInfo, Document
from spdx_tools.spdx.model.extracted_licensing_info import ExtractedLicensingInfo
from spdx_tools.spdx.model.package import (
    ExternalPackageRef,
    ExternalPackageRefCategory,
    Package,
    PackagePurpose,
)
from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
from spdx_tools.spdx.validation.uri_validators import validate_download_location, validate_url
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from assay.environments.model import Environment, OriginKind, Party
from assay.environments.model import Package as EnvPackage
from assay.sbom import context
from assay.sbom.context import SbomBuildError, SbomOptions
from assay.sbom.details import homepage_of, supplier_of

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ALGORITHMS = {
    "sha1": ChecksumAlgorithm.SHA1,
    "sha224": ChecksumAlgorithm.SHA224,
    "sha256": ChecksumAlgorithm.SHA256,
    "sha384": ChecksumAlgorithm.SHA384,
    "sha512": ChecksumAlgorithm.SHA512,
    "sha3-256": ChecksumAlgorithm.SHA3_256,
    "sha3-384": ChecksumAlgorithm.SHA3_384,
    "sha3-512": ChecksumAlgorithm.SHA3_512,
    "blake2b-256": ChecksumAlgorithm.BLAKE2B_256,
    "blake2b-384": ChecksumAlgorithm.BLAKE2B_384,
    "blake2b": ChecksumAlgorithm.BLAKE2B_512,
    "blake2b-512": ChecksumAlgorithm.BLAKE2B_512,
    "blake3": ChecksumAlgorithm.BLAKE3,
    "md5": ChecksumAlgorithm.MD5,
}
spdx_licensing = get_spdx_licensing()
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")
DOCUMENT_ID = "SPDXRef-DOCUMENT"


def _valid_url(url: str | None) -> str | None:
    """The URL when SPDX 2.3 accepts it as one; metadata such as ``Home-page: TBD`` is dropped."""
    if url is None or validate_url(url):
        return None
    return url


def spdx_id(text: str, taken: set[str]) -> str:
    """``SPDXRef-<text with unsafe runs as '-'>``, made unique with ``-2``, ``-3``..."""
    base = "SPDXRef-" + (_ID_UNSAFE.sub("-", text).strip("-") or "package")
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    taken.add(candidate)
    return candidate


def download_location(package: EnvPackage) -> str | SpdxNoAssertion:
    """Where to get the package, in SPDX's download-location syntax, else NOASSERTION."""
    location = _location(package)
    if location is None or validate_download_location(location):
        return SpdxNoAssertion()  # e.g. git+file:// (local repositories) has no SPDX form
    return location


def _location(package: EnvPackage) -> str | None:
    origin = package.origin
    if origin.kind is OriginKind.VCS and origin.url:
        rev = origin.commit or origin.requested_revision
        vcs = origin.vcs or "git"
        return f"{vcs}+{origin.url}@{rev}" if rev else f"{vcs}+{origin.url}"
    if origin.kind in (OriginKind.URL, OriginKind.CHANNEL) and origin.url:
        return origin.url
    if origin.kind is OriginKind.INDEX and origin.url:
        return f"{origin.url.rstrip('/')}/{package.canonical_name}/"
    return None


def _actor(party: Party, source: str) -> Actor:
    kind = ActorType.ORGANIZATION if source == "repository-owner" else ActorType.PERSON
    return Actor(kind, party.label or "", party.email)


class _Licenses:
    """Declared licenses as SPDX expressions, and LicenseRefs for free text."""

    def __init__(self) -> None:
        self.extracted: dict[str, ExtractedLicensingInfo] = {}

    def declared(self, package: EnvPackage) -> object:
        lic = package.license
        if lic is None:
            return SpdxNoAssertion()
        text = lic.raw or lic.spdx or ""
        if lic.spdx:
            try:
                expression = spdx_licensing.parse(lic.spdx)
            except ExpressionError:
                expression = None
            if expression is not None:
                for key in spdx_licensing.license_keys(expression):
                    if key.startswith("LicenseRef-"):  # must be defined in the document
                        self._extract(key, text, rename=False)
                return expression
        ref = f"LicenseRef-{_ID_UNSAFE.sub('-', package.canonical_name)}"
        return spdx_licensing.parse(self._extract(ref, text))

    def _extract(self, ref: str, text: str, *, rename: bool = True) -> str:
        known = self.extracted.get(ref)
        if rename and known is not None and known.extracted_text != text:
            ref = f"{ref}-{len(self.extracted) + 1}"
        if ref not in self.extracted:
            name = text.strip().splitlines()[0][:120] if text.strip() else ref
            self.extracted[ref] = ExtractedLicensingInfo(
                license_id=ref, extracted_text=text or ref, license_name=name
            )
        return ref


def _package(package: EnvPackage, ident: str, licenses: _Licenses) -> Package:
    supplier = supplier_of(package)
    return Package(
        spdx_id=ident,
        name=package.name,
        version=package.version_raw,
        download_location=download_location(package),
        supplier=_actor(*supplier) if supplier else SpdxNoAssertion(),
        files_analyzed=False,
        checksums=[
            Checksum(_ALGORITHMS[h.algorithm], h.value)
            for h in package.hashes
            if h.algorithm in _ALGORITHMS
        ],
        homepage=_valid_url(homepage_of(package)),
        license_concluded=SpdxNoAssertion(),
        license_declared=licenses.declared(package),
        copyright_text=SpdxNoAssertion(),
        summary=package.summary,
        comment=_comment(package),
        external_references=[
            ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", package.purl)
        ],
        primary_package_purpose=PackagePurpose.LIBRARY,
    )


def _comment(package: EnvPackage) -> str | None:
    parts = []
    if package.hashes and package.hash_source is not None:
        parts.append(f"checksums from: {package.hash_source.value}")
    if package.requested is not None:
        parts.append(f"requested: {str(package.requested).lower()}")
    if package.markers:
        parts.append(f"markers: {package.markers}")
    return "; ".join(parts) or None


def build_document(env: Environment, options: SbomOptions) -> Document:
    serial = context.serial_uuid(env, options)
    name = context.document_name(env)
    creators = [Actor(ActorType.TOOL, f"{context.TOOL_NAME}-{context.TOOL_VERSION}")]
    if options.author:
        creators.insert(0, Actor(ActorType.PERSON, options.author))
    comment = f"lifecycle: {context.lifecycle_phase(env)}; " + "; ".join(
        f"{k}={v}" for k, v in context.environment_properties(env)
    )
    if options.timestamp is None:
        comment += "; reproducible: the creation time is the Unix epoch, not the real one"
    info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id=DOCUMENT_ID,
        name=name,
        document_namespace=f"urn:uuid:{serial}",
        creators=creators,
        created=(options.timestamp or EPOCH).astimezone(UTC).replace(microsecond=0),
        creator_comment=comment,
    )
    taken: set[str] = {DOCUMENT_ID}
    licenses = _Licenses()
    ids: list[tuple[EnvPackage, str]] = []
    packages: list[Package] = []
    for package in env.packages:
        ident = spdx_id(f"Package-{package.canonical_name}-{package.version_raw or ''}", taken)
        ids.append((package, ident))
        packages.append(_package(package, ident, licenses))
    by_name: dict[str, list[str]] = {}
    for package, ident in ids:
        by_name.setdefault(package.canonical_name, []).append(ident)
    relationships: list[Relationship] = []
    root = context.root_package(env)
    if root is not None:
        root_id = next(i for p, i in ids if p is root)
        packages[
            [i for _, i in ids].index(root_id)
        ].primary_package_purpose = PackagePurpose.APPLICATION
        relationships.append(Relationship(DOCUMENT_ID, RelationshipType.DESCRIBES, root_id))
    else:  # no project package: the document describes the top level of the environment
        tops = {id(p) for p in context.top_level(env)}
        relationships.extend(
            Relationship(DOCUMENT_ID, RelationshipType.DESCRIBES, i)
            for p, i in ids
            if id(p) in tops
        )
    for package, ident in ids:
        for dep in package.dependencies:
            relationships.extend(
                Relationship(ident, RelationshipType.DEPENDS_ON, target)
                for target in by_name.get(dep, ())
                if target != ident
            )
    return Document(
        creation_info=info,
        packages=packages,
        relationships=relationships,
        extracted_licensing_info=sorted(
            licenses.extracted.values(), key=lambda e: e.license_id or ""
        ),
    )


def render(document: Document) -> str:
    """Validate with spdx-tools, then write JSON (sorted keys, two-space indent)."""
    messages = validate_full_spdx_document(document)
    if messages:
        first = messages[0]
        raise SbomBuildError(
            f"generated SPDX 2.3 document is not valid: {first.validation_message} "
            f"({len(messages)} problems)"
        )
    buffer = io.StringIO()
    write_document_to_stream(document, buffer, validate=False)
    data = json.loads(buffer.getvalue())
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def spdx2_document(env: Environment, options: SbomOptions) -> str:
    return render(build_document(env, options))
