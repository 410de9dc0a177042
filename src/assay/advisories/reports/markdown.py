"""A Markdown report (for pull-request comments and job summaries)."""

from __future__ import annotations

from collections.abc import Sequence

from assay.advisories.audit import AuditReport
from assay.advisories.reports import ReportContext, fail_on_label


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


_SUMMARY_LIMIT = 120


def _cell(text: str) -> str:
    """Text safe inside a table cell: no newlines, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SUMMARY_LIMIT else text[: _SUMMARY_LIMIT - 3].rstrip() + "..."


def _report(report: AuditReport, context: ReportContext) -> list[str]:
    failing = report.failing(context.fail_on)
    lines = [
        f"## `{report.source.path}` ({report.source.kind})",
        "",
        (
            f"{report.audited_count} of {report.package_count} packages audited: "
            f"{len(report.findings)} findings in {len(report.results)} packages "
            f"({len(failing)} at or above --fail-on {fail_on_label(context.fail_on)}), "
            f"{len(report.suppressed)} suppressed, {len(report.not_audited)} not audited."
        ),
        "",
    ]
    if report.results:
        lines += [
            "| Package | Version | ID | Aliases | Severity | Fixed in | Summary |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for finding in report.findings:
            lines.append(
                "| "
                + " | ".join(
                    _cell(cell)
                    for cell in (
                        finding.package.name,
                        finding.package.version_raw or "",
                        finding.id,
                        ", ".join(finding.ids[1:]),
                        finding.severity.describe(),
                        ", ".join(finding.upgrades) or "no fix known",
                        _short(finding.summary),
                    )
                )
                + " |"
            )
        lines += ["", "**Smallest upgrades**", ""]
        for result in report.results:
            target = result.fix or "no version known to clear every finding"
            lines.append(
                f"- `{result.package.name}` {result.package.version_raw} -> {target} "
                f"({_count(len(result.findings), 'finding')})"
            )
        lines.append("")
    else:
        lines += ["No unsuppressed findings.", ""]
    if report.suppressed:
        lines += ["### Suppressed", ""]
        for item in report.suppressed:
            finding = item.finding
            lines.append(
                f"- `{finding.package.name}` {finding.package.version_raw} {finding.id}: "
                f"{_cell(item.reason)} ({item.kind}, {item.origin})"
            )
        lines.append("")
    if report.expired_ignores:
        lines += ["### Expired ignore entries (no longer applied)", ""]
        for entry in report.expired_ignores:
            matched = f"; would match {', '.join(entry.matched)}" if entry.matched else ""
            lines.append(
                f"- {entry.id} expired {entry.expires} ({entry.origin}): {_cell(entry.reason)}"
                f"{matched}"
            )
        lines.append("")
    if report.not_audited:
        lines += ["### Not audited", ""]
        lines += [f"- `{n.package.name}`: {n.describe()}" for n in report.not_audited]
        lines.append("")
    return lines


def render(reports: Sequence[AuditReport], context: ReportContext) -> str:
    lines = ["# assay audit", ""]
    for report in reports:
        lines += _report(report, context)
    return "\n".join(lines).rstrip("\n") + "\n"
