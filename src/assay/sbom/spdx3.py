"""SPDX 3.0.1 JSON-LD built with spdx-python-model (the official bindings).

One ``CreationInfo`` shared by every element (created by the author, if any,
using the assay ``Tool``), an ``SpdxDocument`` whose root is a
``software_Sbom`` (type ``source`` for plans, ``deployed`` for installed
environments), a ``software_Package`` per package with its purl (as
``packageUrl`` and as an external identifier), hashes (``verifiedUsing``),
supplier, download location and home page; licenses are
``simplelicensing_LicenseExpression`` elements linked by ``hasDeclaredLicense``
relationships, free-text licenses a ``LicenseRef-`` whose text is a
``simplelicensing_SimpleLicensingText``; ``dependsOn`` relationships give the
graph.  The bindings check types on assignment and cardinalities on encoding;
references that name no element are refused too.
"""

from __future__ import annotations

import json
import re
from datetime import UTC
from typing import Any

from spdx_python_model import v3_0_1 as spdx

from assay.environments.model import Environment
from assay.environments.model import Package as EnvPackage
from assay.sbom import context
from assay.sbom.context import SbomBuildError, SbomOptions
from assay.sbom.details import homepage_of, supplier_of
from assay.sbom.spdx2 import EPOCH, download_location

_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]+")
_HASHES = {
    "sha1": "sha1",
    "sha224": "sha224",
    "sha256": "sha256",
    "sha384": "sha384",
    "sha512": "sha512",
    "sha3-256": "sha3_256",
    "sha3-384": "sha3_384",
    "sha3-512": "sha3_512",
    "blake2b-256": "blake2b256",
    "blake2b-384": "blake2b384",
    "blake2b": "blake2b512",
    "blake2b-512": "blake2b512",
    "blake3": "blake3",
    "md5": "md5",
}


class _Builder:
    def __init__(self, env: Environment, options: SbomOptions) -> None:
        self.env = env
        serial = context.serial_uuid(env, options)
        self.base = f"urn:uuid:{serial}#"
        self.taken: set[str] = set()
        self.objects: list[Any] = []
        created = (options.timestamp or EPOCH).astimezone(UTC).replace(microsecond=0)
        self.info = spdx.CreationInfo(specVersion="3.0.1", created=created)
        if options.timestamp is None:
            self.info.comment = (
                "reproducible: the creation time is the Unix epoch, not the real one"
            )
        tool = self.add(
            spdx.Tool(
                spdxId=self.ident("Tool-assay"), name=f"{context.TOOL_NAME} {context.TOOL_VERSION}"
            )
        )
        self.info.createdUsing = [tool]
        if options.author:
            author = self.add(spdx.Person(spdxId=self.ident("Author"), name=options.author))
            self.info.createdBy = [author]
        else:  # createdBy needs an Agent: without an author, assay itself (a SoftwareAgent)
            agent = spdx.SoftwareAgent(
                spdxId=self.ident("Agent-assay"), name=f"{context.TOOL_NAME} {context.TOOL_VERSION}"
            )
            self.info.createdBy = [self.add(agent)]
        self.agents: dict[tuple[str, str | None, str], Any] = {}
        self.licenses: dict[str, Any] = {}

    def ident(self, local: str) -> str:
        base = _UNSAFE.sub("-", local).strip("-") or "element"
        candidate, n = base, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{base}-{n}"
        self.taken.add(candidate)
        return self.base + candidate

    def add(self, obj: Any) -> Any:
        if hasattr(obj, "creationInfo") and obj.creationInfo is None:
            obj.creationInfo = self.info
        self.objects.append(obj)
        return obj

    def supplier(self, package: EnvPackage) -> Any | None:
        found = supplier_of(package)
        if found is None:
            return None
        party, source = found
        key = (party.label or "", party.email, source)
        if key not in self.agents:
            kind = spdx.Organization if source == "repository-owner" else spdx.Agent
            agent = kind(spdxId=self.ident(f"Agent-{party.label}"), name=party.label)
            if party.email:
                agent.externalIdentifier = [
                    spdx.ExternalIdentifier(
                        externalIdentifierType=spdx.ExternalIdentifierType.email,
                        identifier=party.email,
                    )
                ]
            self.agents[key] = self.add(agent)
        return self.agents[key]

    def license(self, package: EnvPackage) -> Any | None:
        lic = package.license
        if lic is None:
            return None
        if lic.spdx:
            expression = lic.spdx
            extra: list[Any] = []
        else:
            text = lic.raw or ""
            ref = f"LicenseRef-{_UNSAFE.sub('-', package.canonical_name)}"
            body = self.add(
                spdx.simplelicensing_SimpleLicensingText(
                    spdxId=self.ident(f"License-text-{package.canonical_name}"),
                    simplelicensing_licenseText=text,
                )
            )
            expression = ref
            extra = [spdx.DictionaryEntry(key=ref, value=body._id)]
        if expression in self.licenses and not extra:
            return self.licenses[expression]
        element = self.add(
            spdx.simplelicensing_LicenseExpression(
                spdxId=self.ident(f"License-{expression}"),
                simplelicensing_licenseExpression=expression,
                simplelicensing_customIdToUri=extra,
            )
        )
        if not extra:
            self.licenses[expression] = element
        return element

    def package(self, package: EnvPackage) -> Any:
        element = spdx.software_Package(
            spdxId=self.ident(f"Package-{package.canonical_name}-{package.version_raw or ''}"),
            name=package.name,
            software_packageUrl=package.purl,
            software_primaryPurpose=spdx.software_SoftwarePurpose.library,
            externalIdentifier=[
                spdx.ExternalIdentifier(
                    externalIdentifierType=spdx.ExternalIdentifierType.packageUrl,
                    identifier=package.purl,
                )
            ],
            verifiedUsing=[
                spdx.Hash(
                    algorithm=getattr(spdx.HashAlgorithm, _HASHES[h.algorithm]), hashValue=h.value
                )
                for h in package.hashes
                if h.algorithm in _HASHES
            ],
        )
        if package.version_raw:
            element.software_packageVersion = package.version_raw
        location = download_location(package)
        if isinstance(location, str):
            element.software_downloadLocation = location
        if package.summary:
            element.summary = package.summary
        if homepage := homepage_of(package):
            element.software_homePage = homepage
        if (supplier := self.supplier(package)) is not None:
            element.suppliedBy = supplier
        if package.hashes and package.hash_source is not None:
            element.comment = f"hashes from: {package.hash_source.value}"
        return self.add(element)

    def relationship(self, source: Any, kind: str, targets: list[Any], name: str) -> None:
        if targets:
            self.add(
                spdx.Relationship(
                    spdxId=self.ident(f"Relationship-{name}"),
                    from_=source,
                    relationshipType=kind,
                    to=targets,
                )
            )


def build_objects(env: Environment, options: SbomOptions) -> list[Any]:
    """Every SPDX 3 element of the document, the SpdxDocument first."""
    b = _Builder(env, options)
    elements = [(p, b.package(p)) for p in env.packages]
    by_name: dict[str, list[Any]] = {}
    for package, element in elements:
        by_name.setdefault(package.canonical_name, []).append(element)
        if (lic := b.license(package)) is not None:
            b.relationship(
                element,
                spdx.RelationshipType.hasDeclaredLicense,
                [lic],
                f"license-{package.canonical_name}",
            )
    root_package = context.root_package(env)
    if root_package is not None:
        roots = [e for p, e in elements if p is root_package]
        roots[0].software_primaryPurpose = spdx.software_SoftwarePurpose.application
    else:  # no project package: the SBOM's roots are the top level of the environment
        tops = {id(p) for p in context.top_level(env)}
        roots = [e for p, e in elements if id(p) in tops]
    for package, element in elements:
        targets = [t for d in package.dependencies for t in by_name.get(d, ()) if t is not element]
        b.relationship(
            element, spdx.RelationshipType.dependsOn, targets, f"deps-{package.canonical_name}"
        )
    kind = "deployed" if context.lifecycle_phase(env) == context.OPERATIONS else "source"
    sbom = b.add(
        spdx.software_Sbom(
            spdxId=b.ident("Sbom"),
            name=context.document_name(env),
            software_sbomType=[getattr(spdx.software_SbomType, kind)],
            rootElement=roots,
            element=[o for o in b.objects if isinstance(o, spdx.Element)],
        )
    )
    sbom.comment = "; ".join(f"{k}={v}" for k, v in context.environment_properties(env))
    document = spdx.SpdxDocument(
        spdxId=b.ident("Document"),
        name=context.document_name(env),
        creationInfo=b.info,
        rootElement=[sbom],
        element=[o for o in b.objects if isinstance(o, spdx.Element)],
        profileConformance=[
            spdx.ProfileIdentifierType.core,
            spdx.ProfileIdentifierType.software,
            spdx.ProfileIdentifierType.simpleLicensing,
        ],
        dataLicense=b.add(
            spdx.simplelicensing_LicenseExpression(
                spdxId=b.ident("Data-license"), simplelicensing_licenseExpression="CC0-1.0"
            )
        ),
    )
    return [document, *b.objects]


def render(objects: list[Any]) -> str:
    """Link and encode through the bindings (which enforce the model), then write JSON."""
    objset = spdx.SHACLObjectSet(objects)
    missing = objset.link()
    if missing:
        raise SbomBuildError(
            f"generated SPDX 3 document references unknown elements: {sorted(missing)[:3]}"
        )
    try:
        data = spdx.JSONLDSerializer().serialize_data(objset, force_at_graph=True)
    except (ValueError, TypeError) as exc:
        raise SbomBuildError(f"generated SPDX 3 document is not valid: {exc}") from exc
    graph = data.get("@graph", [])
    graph.sort(key=lambda o: (o.get("type", ""), o.get("spdxId") or o.get("@id") or ""))
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def spdx3_document(env: Environment, options: SbomOptions) -> str:
    return render(build_objects(env, options))
