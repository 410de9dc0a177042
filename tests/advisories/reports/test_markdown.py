"""The Markdown report."""

from __future__ import annotations

from assay.advisories.audit import AuditReport
from assay.advisories.reports import ReportContext
from assay.advisories.reports.markdown import render
from tests.advisories.reports.conftest import check_golden


def test_markdown_matches_golden(
    audit_reports: list[AuditReport], report_context: ReportContext
) -> None:
    check_golden("audit.md", render(audit_reports, report_context))


def test_markdown_tables_have_one_row_per_finding(
    audit_reports: list[AuditReport], report_context: ReportContext
) -> None:
    text = render(audit_reports, report_context)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + 4  # header + findings
    assert all(row.count(" | ") == 6 for row in rows)  # pipes inside cells are escaped
    assert "- `requests` 2.30.0 -> 2.33.0 (2 findings)" in text
    assert "### Not audited" in text
    assert "CVE-2026-27199 expired 2026-01-31" in text
