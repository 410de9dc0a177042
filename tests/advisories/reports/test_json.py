"""The assay.audit/1 JSON report."""

from __future__ import annotations

import json

from assay.advisories.audit import AuditReport
from assay.advisories.reports import ReportContext
from assay.advisories.reports.json_report import SCHEMA, render
from tests.advisories.reports.conftest import check_golden


def test_json_matches_golden(
    audit_reports: list[AuditReport], report_context: ReportContext
) -> None:
    check_golden("audit.json", render(audit_reports, report_context))


def test_json_shape(audit_reports: list[AuditReport], report_context: ReportContext) -> None:
    document = json.loads(render(audit_reports, report_context))
    assert document["schema"] == SCHEMA
    assert document["fail_on"] == "any"
    assert document["summary"] == {
        "sources": 1,
        "packages": 6,
        "findings": 4,
        "failing": 4,
        "suppressed": 1,
        "not_audited": 2,
    }
    (report,) = document["reports"]
    assert report["source"]["path"] == "examples/churn-model/uv.lock"
    leak = next(f for f in report["findings"] if f["id"] == "PYSEC-2023-74")
    assert leak["ids"] == ["PYSEC-2023-74", "GHSA-j8r2-6x86-q33q", "CVE-2023-32681"]
    assert leak["severity"]["level"] == "medium"
    assert leak["severity"]["score"] == 5.3
    assert leak["purl"] == "pkg:pypi/requests@2.30.0"
    assert [p["fix"] for p in report["packages"]] == ["2.33.0", "3.1.6"]
    (suppressed,) = report["suppressed"]
    assert suppressed["id"] == "PYSEC-2024-110"
    assert suppressed["suppression"]["kind"] == "ignore"
    assert [n["reason"] for n in report["not_audited"]] == ["unpinned", "conda"]
    (expired,) = report["expired_ignores"]
    assert expired["matched"] == ["werkzeug 2.3.6 PYSEC-2026-2320"]


def test_json_is_deterministic(
    audit_reports: list[AuditReport], report_context: ReportContext
) -> None:
    assert render(audit_reports, report_context) == render(audit_reports, report_context)
