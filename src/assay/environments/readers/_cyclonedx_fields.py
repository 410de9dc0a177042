"""Field parsers for the CycloneDX reader: tools, properties, references, hashes, licenses.

Each takes the parsed JSON value and raises ReaderError naming the component
(``where``) when the value has the wrong shape.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from assay.environments import core_metadata, licenses
from assay.environments.model import Ecosystem, Hash, License, Origin, OriginKind, Party
from assay.environments.readers import _sbom
from assay.environments.readers._files import (
    optional_str,
    require_list,
    require_mapping,
    require_str,
)

_HASHED_REFERENCES = frozenset({"distribution", "distribution-intake"})
_REQUIREMENTS_LINE = "requirements line "


def tools(path: Path, value: Any) -> tuple[str, ...]:
    """``name version`` of each generator: a list (1.4) or {components, services} (1.5+)."""
    if value is None:
        return ()
    if isinstance(value, dict):
        items = [
            *require_list(path, value.get("components", []), "metadata.tools.components"),
            *require_list(path, value.get("services", []), "metadata.tools.services"),
        ]
    else:
        items = require_list(path, value, "metadata.tools")
    found = []
    for item in items:
        tool = require_mapping(path, item, "metadata.tools entry")
        name = optional_str(path, tool.get("name"), "metadata.tools name")
        version = optional_str(path, tool.get("version"), "metadata.tools version")
        if name:
            found.append(_sbom.label(name, version))
    return tuple(found)


def properties(path: Path, value: Any, where: str) -> list[tuple[str, str]]:
    found = []
    for item in require_list(path, value if value is not None else [], f"{where}.properties"):
        prop = require_mapping(path, item, f"{where}.properties entry")
        key = require_str(path, prop.get("name"), f"{where}.properties name")
        found.append(
            (key, optional_str(path, prop.get("value"), f"{where}.properties value") or "")
        )
    return found


def external_refs(path: Path, value: Any, where: str) -> list[dict[str, Any]]:
    refs = require_list(path, value if value is not None else [], f"{where}.externalReferences")
    checked = []
    for item in refs:
        ref = require_mapping(path, item, f"{where}.externalReferences entry")
        require_str(path, ref.get("url"), f"{where}.externalReferences url")
        require_str(path, ref.get("type"), f"{where}.externalReferences type")
        optional_str(path, ref.get("comment"), f"{where}.externalReferences comment")
        checked.append(ref)
    return checked


def authors(path: Path, component: dict[str, Any], where: str) -> tuple[Party, ...]:
    """``authors`` (1.6+: name and email) and the older free-text ``author``."""
    found: list[Party] = []
    for item in require_list(path, component.get("authors") or [], f"{where}.authors"):
        contact = require_mapping(path, item, f"{where}.authors entry")
        name = optional_str(path, contact.get("name"), f"{where}.authors name")
        email = optional_str(path, contact.get("email"), f"{where}.authors email")
        party = Party(core_metadata.meaningful(name), core_metadata.meaningful(email))
        if party.label:
            found.append(party)
    author = core_metadata.meaningful(
        optional_str(path, component.get("author"), f"{where}.author")
    )
    if author and not any(p.name == author for p in found):
        found.append(Party(author, None))
    return tuple(found)


def homepage(refs: list[dict[str, Any]]) -> str | None:
    """The first ``website`` reference."""
    return next((r["url"] for r in refs if r.get("type") == "website"), None)


def hashes(path: Path, value: Any, refs: list[dict[str, Any]], where: str) -> list[Hash]:
    """The component's own digests and those of its distribution references."""
    items = list(require_list(path, value if value is not None else [], f"{where}.hashes"))
    for reference in refs:
        if reference.get("type") in _HASHED_REFERENCES:
            what = f"{where} reference hashes"
            items.extend(require_list(path, reference.get("hashes", []), what))
    return [one_hash(path, item, f"{where}.hashes") for item in items]


def one_hash(path: Path, value: Any, where: str) -> Hash:
    item = require_mapping(path, value, where)
    algorithm = require_str(path, item.get("alg"), f"{where} alg")
    return _sbom.hash_of(path, algorithm, require_str(path, item.get("content"), where), where)


def origin_of(
    facts: _sbom.PurlFacts | None,
    refs: list[dict[str, Any]],
    props: list[tuple[str, str]],
    ecosystem: Ecosystem,
) -> Origin:
    """The purl's qualifiers, else cyclonedx-py's PEP 610 install source, else the index."""
    values = dict(props)
    origin = facts.origin if facts is not None else None
    if origin is None:
        for ref in refs:
            comment = ref.get("comment") or ""
            if comment.startswith("PackageSource:"):
                origin = _sbom.location_origin(ref["url"])
                if ref["type"] == "vcs":
                    vcs = comment.split("'")[1] if comment.count("'") >= 2 else None
                    origin = _sbom.vcs_origin(ref["url"])
                    origin = replace(origin, vcs=vcs or origin.vcs)
                break
    if origin is None:
        return Origin() if facts is None else _sbom.default_origin(ecosystem)
    if origin.kind is OriginKind.VCS:
        origin = replace(
            origin,
            commit=origin.commit or values.get("cdx:python:package:source:vcs:commit_id"),
            requested_revision=origin.requested_revision
            or values.get("cdx:python:package:source:vcs:requested_revision"),
        )
    subdirectory = values.get("cdx:python:package:source:subdirectory")
    editable = values.get("cdx:python:package:source:local:editable", "").lower() == "true"
    return replace(
        origin,
        subdirectory=origin.subdirectory or subdirectory,
        editable=origin.editable or (editable and origin.kind is OriginKind.DIRECTORY),
    )


def license_of(path: Path, value: Any, where: str) -> License | None:
    """One License from a CycloneDX ``licenses`` list: ids and expressions first, then names."""
    if value is None:
        return None
    exact: list[str] = []
    names: list[str] = []
    for item in require_list(path, value, f"{where}.licenses"):
        choice = require_mapping(path, item, f"{where}.licenses entry")
        if "expression" in choice:
            exact.append(require_str(path, choice["expression"], f"{where} license expression"))
            continue
        lic = require_mapping(path, choice.get("license"), f"{where}.licenses entry license")
        if (spdx_id := optional_str(path, lic.get("id"), f"{where} license id")) is not None:
            exact.append(spdx_id)
        elif (lic_name := optional_str(path, lic.get("name"), f"{where} license name")) is not None:
            names.append(lic_name)
    exact = list(dict.fromkeys(e.strip() for e in exact if e.strip()))
    if exact:
        joined = exact[0] if len(exact) == 1 else " AND ".join(f"({e})" for e in exact)
        return licenses.from_text(joined, "sbom")
    names = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if not names:
        return None
    spdx = licenses.classifier_to_spdx(names)
    if len(names) == 1 and spdx is None:
        return licenses.from_text(names[0], "sbom")
    return License(raw="; ".join(names), spdx=spdx, origin="sbom")


def summary(description: str | None) -> str | None:
    """The description as a package summary, unless it is a generator's requirement line."""
    if description is None or description.startswith(_REQUIREMENTS_LINE):
        return None
    return core_metadata.meaningful(description)


def requirement_line(description: str | None, name: str) -> tuple[str | None, str | None]:
    """Specifier and marker of an unpinned ``cyclonedx-py requirements`` component.

    That generator writes ``requirements line N: <requirement>`` as the description.
    """
    if description is None or not description.startswith(_REQUIREMENTS_LINE):
        return None, None
    text = description.split(": ", 1)[-1].split(" --hash", 1)[0].strip()
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return None, None
    if canonicalize_name(req.name) != canonicalize_name(name):
        return None, None
    return (str(req.specifier) or None), (str(req.marker) if req.marker else None)
