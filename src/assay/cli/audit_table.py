"""The human (rich table) view of ``assay audit``."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from assay.advisories.audit import AuditReport
from assay.advisories.reports import fail_on_label
from assay.advisories.severity import Level

_STYLES = {
    Level.CRITICAL: "bold red",
    Level.HIGH: "red",
    Level.MEDIUM: "yellow",
    Level.LOW: "green",
    Level.NONE: "green",
    Level.UNKNOWN: "dim",
}


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


_SUMMARY_LIMIT = 80


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SUMMARY_LIMIT else text[: _SUMMARY_LIMIT - 3].rstrip() + "..."


def _report(console: Console, report: AuditReport, fail_on: Level | None) -> None:
    failing = report.failing(fail_on)
    console.print(
        f"{report.source.kind}: {report.source.path} | {report.audited_count} of "
        f"{report.package_count} packages audited | {len(report.findings)} findings in "
        f"{len(report.results)} packages ({len(failing)} at or above --fail-on "
        f"{fail_on_label(fail_on)})"
    )
    if report.results:
        table = Table(show_edge=False, header_style="bold")
        for column in ("package", "version", "ids", "severity", "fix"):
            table.add_column(column, no_wrap=True)
        table.add_column("summary", overflow="fold", ratio=1, min_width=20)
        for finding in report.findings:
            level = finding.severity.level
            table.add_row(
                finding.package.name,
                finding.package.version_raw or "",
                "\n".join(finding.ids),
                Text(finding.severity.describe(), style=_STYLES[level]),
                finding.upgrades[0] if finding.upgrades else "no fix",
                _short(finding.summary),
            )
        console.print(table)
        console.print("smallest upgrades:")
        for result in report.results:
            target = result.fix or "no version known to clear every finding"
            console.print(
                f"  {result.package.name} {result.package.version_raw} -> {target} "
                f"({_count(len(result.findings), 'finding')})"
            )
    else:
        console.print("no unsuppressed findings")
    if report.suppressed:
        console.print(f"suppressed ({len(report.suppressed)}):")
        for item in report.suppressed:
            finding = item.finding
            console.print(
                f"  {finding.package.name} {finding.package.version_raw} {finding.id}: "
                f"{item.reason} [{item.kind}, {item.origin}]",
                markup=False,
            )
    if report.expired_ignores:
        console.print(f"expired ignore entries ({len(report.expired_ignores)}, not applied):")
        for entry in report.expired_ignores:
            matched = f"; would match {', '.join(entry.matched)}" if entry.matched else ""
            console.print(
                f"  {entry.id} expired {entry.expires} ({entry.origin}): {entry.reason}{matched}",
                markup=False,
            )
    if report.not_audited:
        names = ", ".join(n.package.name for n in report.not_audited)
        console.print(f"not audited ({len(report.not_audited)}): {names}", markup=False)
        for missing in report.not_audited:
            console.print(f"  {missing.package.name}: {missing.describe()}", markup=False)


def print_tables(console: Console, reports: Sequence[AuditReport], fail_on: Level | None) -> None:
    for index, report in enumerate(reports):
        if index:
            console.print()
        _report(console, report, fail_on)
