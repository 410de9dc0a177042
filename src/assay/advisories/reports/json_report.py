"""The ``assay.audit/1`` JSON document (documented in docs/audit.md).

Keys are sorted and lists are in a stable order (sources as given, packages by
name, findings by primary id), so the same audit always gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from assay.advisories.audit import (
    AuditReport,
    ExpiredIgnore,
    Finding,
    NotAudited,
    PackageResult,
    SuppressedFinding,
)
from assay.advisories.reports import ReportContext, fail_on_label, severity_document

SCHEMA = "assay.audit/1"


def finding_document(finding: Finding) -> dict[str, Any]:
    package = finding.package
    return {
        "package": package.name,
        "canonical_name": package.canonical_name,
        "version": package.version_raw,
        "purl": package.purl,
        "id": finding.id,
        "ids": list(finding.ids),
        "aliases": list(finding.aliases),
        "summary": finding.summary,
        "severity": severity_document(finding.severity),
        "fixed_versions": list(finding.fixed_versions),
        "upgrades": list(finding.upgrades),
        "records": [
            {"id": r.id, "modified": r.modified, "published": r.published} for r in finding.records
        ],
    }


def _package(result: PackageResult) -> dict[str, Any]:
    return {
        "package": result.package.name,
        "version": result.package.version_raw,
        "fix": result.fix,
        "findings": [f.id for f in result.findings],
    }


def _suppressed(item: SuppressedFinding) -> dict[str, Any]:
    document = finding_document(item.finding)
    document["suppression"] = {
        "kind": item.kind,
        "reason": item.reason,
        "origin": item.origin,
        "matched_id": item.matched_id,
    }
    return document


def _not_audited(item: NotAudited) -> dict[str, Any]:
    return {
        "package": item.package.name,
        "ecosystem": item.package.ecosystem.value,
        "version": item.package.version_raw,
        "reason": item.reason,
        "detail": item.describe(),
    }


def _expired(item: ExpiredIgnore) -> dict[str, Any]:
    return {
        "id": item.id,
        "reason": item.reason,
        "expires": item.expires,
        "origin": item.origin,
        "matched": list(item.matched),
    }


def report_document(report: AuditReport, context: ReportContext) -> dict[str, Any]:
    failing = report.failing(context.fail_on)
    return {
        "source": {
            "kind": report.source.kind,
            "path": report.source.path,
            "digest": report.source.digest,
        },
        "summary": {
            "packages": report.package_count,
            "audited": report.audited_count,
            "vulnerable_packages": len(report.results),
            "findings": len(report.findings),
            "failing": len(failing),
            "suppressed": len(report.suppressed),
            "not_audited": len(report.not_audited),
            "expired_ignores": len(report.expired_ignores),
        },
        "findings": [finding_document(f) for f in report.findings],
        "packages": [_package(r) for r in report.results],
        "suppressed": [_suppressed(s) for s in report.suppressed],
        "not_audited": [_not_audited(n) for n in report.not_audited],
        "expired_ignores": [_expired(e) for e in report.expired_ignores],
    }


def document(reports: Sequence[AuditReport], context: ReportContext) -> dict[str, Any]:
    documents = [report_document(r, context) for r in reports]
    totals = {
        key: sum(d["summary"][key] for d in documents)
        for key in ("packages", "findings", "failing", "suppressed", "not_audited")
    }
    return {
        "schema": SCHEMA,
        "tool": {"name": "assay", "version": context.tool_version},
        "fail_on": fail_on_label(context.fail_on),
        "summary": {"sources": len(documents), **totals},
        "reports": documents,
    }


def render(reports: Sequence[AuditReport], context: ReportContext) -> str:
    return json.dumps(document(reports, context), indent=2, sort_keys=True) + "\n"
