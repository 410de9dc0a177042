"""CycloneDX 1.6 JSON: the audited components plus a ``vulnerabilities`` section.

Built with cyclonedx-python-lib.  Components are the packages of every
source (``bom-ref`` = purl); each vulnerability (primary id) lists its aliases
as references, its worst CVSS rating, the affected components and versions,
and the smallest upgrade as the recommendation.  Suppressed findings carry an
``analysis``: VEX suppressions keep their state and justification, ignore
entries are described in ``analysis.detail``.  The serial number is derived
from the content and the timestamp is ``context.generated_at``, so the output
is reproducible.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from cyclonedx.model import Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.impact_analysis import (
    ImpactAnalysisAffectedStatus,
    ImpactAnalysisJustification,
    ImpactAnalysisState,
)
from cyclonedx.model.tool import ToolRepository
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    Vulnerability,
    VulnerabilityAdvisory,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from assay.advisories.audit import AuditReport, Finding, SuppressedFinding
from assay.advisories.reports import ReportContext, reference_url
from assay.advisories.severity import Level
from assay.environments.model import Package

_SEVERITIES = {
    Level.CRITICAL: VulnerabilitySeverity.CRITICAL,
    Level.HIGH: VulnerabilitySeverity.HIGH,
    Level.MEDIUM: VulnerabilitySeverity.MEDIUM,
    Level.LOW: VulnerabilitySeverity.LOW,
    Level.NONE: VulnerabilitySeverity.NONE,
    Level.UNKNOWN: VulnerabilitySeverity.UNKNOWN,
}
_STATES = {
    "not_affected": ImpactAnalysisState.NOT_AFFECTED,
    "fixed": ImpactAnalysisState.RESOLVED,
    "resolved": ImpactAnalysisState.RESOLVED,
    "resolved_with_pedigree": ImpactAnalysisState.RESOLVED_WITH_PEDIGREE,
    "false_positive": ImpactAnalysisState.FALSE_POSITIVE,
}
_JUSTIFICATIONS = {  # OpenVEX justifications in CycloneDX terms; CycloneDX ones map to themselves
    "component_not_present": ImpactAnalysisJustification.CODE_NOT_PRESENT,
    "vulnerable_code_not_present": ImpactAnalysisJustification.CODE_NOT_PRESENT,
    "vulnerable_code_not_in_execute_path": ImpactAnalysisJustification.CODE_NOT_REACHABLE,
    "vulnerable_code_cannot_be_controlled_by_adversary": (
        ImpactAnalysisJustification.PROTECTED_BY_MITIGATING_CONTROL
    ),
    "inline_mitigations_already_exist": ImpactAnalysisJustification.PROTECTED_BY_MITIGATING_CONTROL,
    **{j.value: j for j in ImpactAnalysisJustification},
}
_SOURCES = {"PYSEC": "PyPA Advisory Database", "GHSA": "GitHub Advisory Database", "CVE": "NVD"}


def _source(identifier: str) -> VulnerabilitySource:
    prefix = identifier.split("-", 1)[0].upper()
    return VulnerabilitySource(name=_SOURCES.get(prefix, prefix))


def _component(package: Package) -> Component:
    purl = package.purl
    return Component(
        name=package.name,
        version=package.version_raw,
        type=ComponentType.LIBRARY,
        bom_ref=purl,
        purl=PackageURL.from_string(purl),
    )


def _rating(finding: Finding) -> VulnerabilityRating:
    severity = finding.severity
    if severity.vector is None or severity.score is None:
        return VulnerabilityRating(severity=_SEVERITIES[severity.level])
    return VulnerabilityRating(
        score=Decimal(f"{severity.score:.1f}"),
        severity=_SEVERITIES[severity.level],
        method=VulnerabilityScoreSource.get_from_vector(severity.vector),
        vector=severity.vector,
    )


def _analysis(item: SuppressedFinding) -> VulnerabilityAnalysis:
    if item.kind == "vex" and item.status in _STATES:
        justification = _JUSTIFICATIONS.get(item.justification or "")
        return VulnerabilityAnalysis(
            state=_STATES[item.status],
            justification=justification,
            detail=f"{item.reason} ({item.origin})",
        )
    return VulnerabilityAnalysis(detail=f"ignored: {item.reason} ({item.origin})")


def _timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _vulnerability(
    findings: Sequence[Finding], fixes: dict[str, str | None], suppressed: SuppressedFinding | None
) -> Vulnerability:
    first = findings[0]
    records = first.records
    url = reference_url(records)
    targets: dict[str, set[str]] = {}
    for finding in findings:
        targets.setdefault(finding.package.purl, set()).add(finding.package.version_raw or "")
    recommendation = "; ".join(
        f"upgrade {f.package.name} to {fixes[f.package.purl]}"
        for f in findings
        if fixes.get(f.package.purl)
    )
    return Vulnerability(
        bom_ref=first.id,
        id=first.id,
        source=_source(first.id),
        references=[VulnerabilityReference(id=i, source=_source(i)) for i in first.ids[1:]],
        ratings=[_rating(first)],
        description=first.summary or None,
        detail=next((r.details for r in records if r.details), None),
        recommendation=recommendation or None,
        advisories=[VulnerabilityAdvisory(url=XsUri(url))] if url else None,
        published=_timestamp(min((r.published or "" for r in records), default=None)),
        updated=_timestamp(max((r.modified for r in records), default=None)),
        affects=[
            BomTarget(
                ref=purl,
                versions=[
                    BomTargetVersionRange(version=v, status=ImpactAnalysisAffectedStatus.AFFECTED)
                    for v in sorted(versions)
                    if v
                ],
            )
            for purl, versions in sorted(targets.items())
        ],
        analysis=_analysis(suppressed) if suppressed else None,
        properties=[Property(name="assay:fixed-versions", value=", ".join(first.fixed_versions))]
        if first.fixed_versions
        else None,
    )


def _serial(reports: Iterable[AuditReport]) -> uuid.UUID:
    digest = hashlib.sha256()
    for report in reports:
        digest.update(report.source.digest.encode())
        for finding in report.findings:
            digest.update(f"{finding.package.purl} {finding.id}".encode())
    return uuid.uuid5(uuid.NAMESPACE_URL, "assay-audit:" + digest.hexdigest())


def build_bom(reports: Sequence[AuditReport], context: ReportContext) -> Bom:
    components: dict[str, Component] = {}
    for report in reports:
        for package in report.packages:
            components.setdefault(package.purl, _component(package))
    active: dict[str, list[Finding]] = {}
    silenced: dict[str, tuple[list[Finding], SuppressedFinding]] = {}
    fixes: dict[str, str | None] = {}
    for report in reports:
        for result in report.results:
            fixes[result.package.purl] = result.fix
        for finding in report.findings:
            active.setdefault(finding.id, []).append(finding)
        for item in report.suppressed:
            silenced.setdefault(item.finding.id, ([], item))[0].append(item.finding)
    vulnerabilities = [_vulnerability(active[i], fixes, None) for i in sorted(active)]
    vulnerabilities += [
        _vulnerability(silenced[i][0], fixes, silenced[i][1])
        for i in sorted(silenced)
        if i not in active
    ]
    metadata = BomMetaData(
        tools=ToolRepository(
            components=[
                Component(
                    name="assay",
                    version=context.tool_version,
                    type=ComponentType.APPLICATION,
                    bom_ref=f"assay@{context.tool_version}",
                )
            ]
        ),
        timestamp=context.generated_at or datetime.now(tz=UTC),
        properties=[Property(name="assay:source", value=r.source.path) for r in reports],
    )
    return Bom(
        components=[components[k] for k in sorted(components)],
        serial_number=_serial(reports),
        metadata=metadata,
        vulnerabilities=vulnerabilities,
    )


def render(reports: Sequence[AuditReport], context: ReportContext) -> str:
    text: str = JsonV1Dot6(build_bom(reports, context)).output_as_string(indent=2)
    return text + "\n"
