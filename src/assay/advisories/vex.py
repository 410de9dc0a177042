"""VEX documents (OpenVEX 0.2 and CycloneDX VEX JSON) as statements assay can apply.

Parsing is strict: an unknown status or justification, a missing
vulnerability id, or a wrong type raises :class:`VexError` naming the file and
the JSON path (``statements[2].status``).  Products are kept only when they
are ``pkg:pypi`` purls; statements about other products never match a finding.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packageurl import PackageURL
from packaging.utils import canonicalize_name

from assay.advisories.matching import parse_version
from assay.errors import AssayError

if TYPE_CHECKING:
    from assay.advisories.audit import Finding

OPENVEX_STATUSES = {"not_affected", "affected", "fixed", "under_investigation"}
OPENVEX_SUPPRESSING = {"not_affected", "fixed"}
OPENVEX_JUSTIFICATIONS = {
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
}
CDX_STATES = {
    "resolved",
    "resolved_with_pedigree",
    "exploitable",
    "in_triage",
    "false_positive",
    "not_affected",
}
CDX_SUPPRESSING = {"not_affected", "false_positive", "resolved", "resolved_with_pedigree"}
CDX_JUSTIFICATIONS = {
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
}


class VexError(AssayError):
    """A VEX document is malformed."""

    exit_code = 3


@dataclass(frozen=True, slots=True)
class ProductRef:
    """A ``pkg:pypi`` product: canonical name and, optionally, one version."""

    name: str
    version: str | None = None

    def matches(self, name: str, version_raw: str | None) -> bool:
        if name != self.name:
            return False
        if self.version is None:
            return True
        if version_raw is None:
            return False
        if self.version == version_raw:
            return True
        mine, theirs = parse_version(self.version), parse_version(version_raw)
        return mine is not None and mine == theirs


@dataclass(frozen=True, slots=True)
class VexStatement:
    """One statement: these vulnerability ids, in these products, have this status."""

    ids: tuple[str, ...]
    products: tuple[ProductRef, ...]
    status: str  # as the document wrote it (OpenVEX status or CycloneDX state)
    suppresses: bool
    origin: str  # "file statements[0]" / "file vulnerabilities[0]"
    justification: str | None = None
    detail: str | None = None  # OpenVEX impact_statement / CycloneDX analysis.detail
    timestamp: str | None = None
    order: int = 0

    def matches(self, finding: Finding) -> bool:
        wanted = {i.upper() for i in finding.ids}
        if not any(i.upper() in wanted for i in self.ids):
            return False
        package = finding.package
        return any(p.matches(package.canonical_name, package.version_raw) for p in self.products)

    def describe(self) -> str:
        parts = [self.status]
        if self.justification:
            parts.append(self.justification)
        text = ": ".join(parts)
        return f"{text} ({self.detail})" if self.detail else text


def pypi_product(text: str) -> ProductRef | None:
    """The product for a ``pkg:pypi/...`` purl, or None for anything else."""
    if not text.startswith("pkg:"):
        return None
    try:
        purl = PackageURL.from_string(text)
    except ValueError:
        return None
    if purl.type != "pypi" or not purl.name:
        return None
    return ProductRef(canonicalize_name(purl.name), purl.version or None)


def _str(value: Any, where: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise VexError(f"{where} must be a non-empty string")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise VexError(f"{where} must be a list")
    return value


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise VexError(f"{where} must be an object")
    return value


def _openvex_products(items: list[Any], where: str) -> Iterator[ProductRef]:
    for index, item in enumerate(items):
        here = f"{where}[{index}]"
        candidates: list[Any]
        if isinstance(item, str):  # OpenVEX 0.0.x wrote products as plain strings
            candidates = [item]
            children: list[Any] = []
        else:
            entry = _dict(item, here)
            identifiers = entry.get("identifiers")
            candidates = [entry.get("@id")]
            if isinstance(identifiers, dict):
                candidates.append(identifiers.get("purl"))
            children = _list(entry.get("subcomponents"), f"{here}.subcomponents")
        for candidate in candidates:
            if isinstance(candidate, str) and (product := pypi_product(candidate)):
                yield product
        yield from _openvex_products(children, f"{here}.subcomponents")


def _openvex(path: str, data: dict[str, Any]) -> list[VexStatement]:
    found = []
    document_time = data.get("timestamp") if isinstance(data.get("timestamp"), str) else None
    for index, raw in enumerate(_list(data.get("statements"), f"{path}: statements")):
        where = f"{path}: statements[{index}]"
        item = _dict(raw, where)
        vulnerability = item.get("vulnerability")
        if isinstance(vulnerability, str):  # OpenVEX 0.0.x
            ids = [vulnerability]
        else:
            vuln = _dict(vulnerability, f"{where}.vulnerability")
            name = _str(vuln.get("name"), f"{where}.vulnerability.name", required=True)
            aliases = _list(vuln.get("aliases"), f"{where}.vulnerability.aliases")
            ids = [name or "", *(_str(a, f"{where}.vulnerability.aliases") or "" for a in aliases)]
        status = _str(item.get("status"), f"{where}.status", required=True) or ""
        if status not in OPENVEX_STATUSES:
            raise VexError(f"{where}.status: unknown status {status!r}")
        justification = _str(item.get("justification"), f"{where}.justification")
        if justification is not None and justification not in OPENVEX_JUSTIFICATIONS:
            raise VexError(f"{where}.justification: unknown justification {justification!r}")
        impact = _str(item.get("impact_statement"), f"{where}.impact_statement")
        if status == "not_affected" and not (justification or impact):
            raise VexError(f"{where}: not_affected needs a justification or an impact_statement")
        products = tuple(
            _openvex_products(_list(item.get("products"), f"{where}.products"), f"{where}.products")
        )
        timestamp = item.get("timestamp") if isinstance(item.get("timestamp"), str) else None
        found.append(
            VexStatement(
                ids=tuple(i for i in ids if i),
                products=products,
                status=status,
                suppresses=status in OPENVEX_SUPPRESSING,
                origin=f"{path} statements[{index}]",
                justification=justification,
                detail=impact,
                timestamp=timestamp or document_time,
                order=index,
            )
        )
    return found


def _components(items: Iterable[Any]) -> Iterator[dict[str, Any]]:
    for item in items:
        if isinstance(item, dict):
            yield item
            nested = item.get("components")
            if isinstance(nested, list):
                yield from _components(nested)


def _cdx_products(affects: list[Any], refs: dict[str, str], where: str) -> Iterator[ProductRef]:
    for index, raw in enumerate(affects):
        here = f"{where}.affects[{index}]"
        entry = _dict(raw, here)
        ref = _str(entry.get("ref"), f"{here}.ref", required=True) or ""
        purl = ref if ref.startswith("pkg:") else refs.get(ref) or refs.get(ref.rsplit("#", 1)[-1])
        product = pypi_product(purl) if purl else None
        if product is None:
            continue
        versions = _list(entry.get("versions"), f"{here}.versions")
        if product.version is not None or not versions:
            yield product
            continue
        for v_index, version in enumerate(versions):
            item = _dict(version, f"{here}.versions[{v_index}]")
            exact = _str(item.get("version"), f"{here}.versions[{v_index}].version")
            if exact:  # ranges ("vers:") are not evaluated: they never match
                yield ProductRef(product.name, exact)


def _cyclonedx(path: str, data: dict[str, Any]) -> list[VexStatement]:
    refs = {
        c["bom-ref"]: c["purl"]
        for c in _components(_list(data.get("components"), f"{path}: components"))
        if isinstance(c.get("bom-ref"), str) and isinstance(c.get("purl"), str)
    }
    found = []
    for index, raw in enumerate(_list(data.get("vulnerabilities"), f"{path}: vulnerabilities")):
        where = f"{path}: vulnerabilities[{index}]"
        item = _dict(raw, where)
        ids = [_str(item.get("id"), f"{where}.id", required=True) or ""]
        for r_index, ref in enumerate(_list(item.get("references"), f"{where}.references")):
            ids.append(
                _str(_dict(ref, f"{where}.references[{r_index}]").get("id"), f"{where}.id") or ""
            )
        if "analysis" not in item:
            continue  # a plain vulnerability listing, not a VEX statement
        analysis = _dict(item["analysis"], f"{where}.analysis")
        state = _str(analysis.get("state"), f"{where}.analysis.state", required=True) or ""
        if state not in CDX_STATES:
            raise VexError(f"{where}.analysis.state: unknown state {state!r}")
        justification = _str(analysis.get("justification"), f"{where}.analysis.justification")
        if justification is not None and justification not in CDX_JUSTIFICATIONS:
            raise VexError(f"{where}.analysis.justification: unknown {justification!r}")
        updated = analysis.get("lastUpdated") or item.get("updated")
        found.append(
            VexStatement(
                ids=tuple(i for i in ids if i),
                products=tuple(
                    _cdx_products(_list(item.get("affects"), f"{where}.affects"), refs, where)
                ),
                status=state,
                suppresses=state in CDX_SUPPRESSING,
                origin=f"{path} vulnerabilities[{index}]",
                justification=justification,
                detail=_str(analysis.get("detail"), f"{where}.analysis.detail"),
                timestamp=updated if isinstance(updated, str) else None,
                order=index,
            )
        )
    return found


def parse_vex(path: str, text: str) -> tuple[VexStatement, ...]:
    """The statements of an OpenVEX or CycloneDX VEX JSON document."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VexError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise VexError(f"{path}: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise VexError(f"{path}: a VEX document must be a JSON object")
    context = data.get("@context")
    if isinstance(context, str) and "openvex" in context:
        return tuple(_openvex(path, data))
    if data.get("bomFormat") == "CycloneDX":
        return tuple(_cyclonedx(path, data))
    raise VexError(f"{path}: not an OpenVEX (@context) or CycloneDX (bomFormat) VEX document")
