"""The human (rich table) view of ``assay gate``."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from assay.policy.gate_report import EXIT_CODES, is_missing_fact, unavailable_rows
from assay.policy.model import Outcome

if TYPE_CHECKING:
    from assay.cli.gate import GateRun

_STYLES = {Outcome.BLOCK: "bold red", Outcome.WARN: "yellow", Outcome.PASS: "green"}
_SHOWN_PACKAGES = 4


def _packages(labels: tuple[str, ...], total: int) -> str:
    if len(labels) == total:
        return f"all {total}"
    shown = ", ".join(labels[:_SHOWN_PACKAGES])
    more = len(labels) - _SHOWN_PACKAGES
    return f"{len(labels)}: {shown}" + (f", +{more} more" if more > 0 else "")


def _counted(run: GateRun, fact: str) -> str:
    """What a missing ``fact`` counted for (the strictest), or pass when the rule lets it by."""
    decision = run.decision
    outcomes = {
        r.effective
        for r in decision.reasons
        if r.message == f"{fact} unavailable" and is_missing_fact(r, decision)
    }
    strictest = max(outcomes, key=lambda o: o.rank, default=Outcome.PASS)
    return strictest.value


def table_text(run: GateRun, width: int | None = None) -> str:
    """The decision, its reasons, the unavailable facts and a summary line."""
    buffer = io.StringIO()
    console = Console(file=buffer, highlight=False, soft_wrap=False, width=width or 160)
    decision = run.decision
    console.print(
        f"{run.environment.source.kind}: {run.source} | {len(run.gathered.packages)} packages | "
        f"{run.digest}\npolicy {run.policy.source} ({run.policy.digest}) | stage {decision.stage}"
    )
    findings = [r for r in decision.reasons if not is_missing_fact(r, decision)]
    if findings:
        table = Table(show_edge=False, header_style="bold")
        for column in ("package", "version", "rule", "outcome"):
            table.add_column(column, no_wrap=True)
        table.add_column("reason", overflow="fold", ratio=1, min_width=30)
        for reason in findings:
            if reason.waiver is not None:
                outcome = Text(f"waived ({reason.outcome.value})", style="dim")
                message = (
                    f"{reason.message} [waiver {reason.waiver.label}, by {reason.waiver.approver}]"
                )
            else:
                outcome = Text(reason.outcome.value, style=_STYLES[reason.outcome])
                message = reason.message
                if reason.expired_waiver is not None:
                    message += f" [waiver {reason.expired_waiver.label} expired]"
            table.add_row(reason.package, reason.version or "", reason.rule, outcome, message)
        console.print(table)
    else:
        console.print("no rule found anything")
    rows = unavailable_rows(decision, run.gathered)
    needed = [row for row in rows if row.rules]
    total = len(run.gathered.packages)
    if needed:
        console.print("facts unavailable to the rules:")
        table = Table(show_edge=False, header_style="bold")
        for column in ("fact", "needed by", "counts as"):
            table.add_column(column, no_wrap=True)
        table.add_column("cause", overflow="fold", ratio=1, min_width=24)
        table.add_column("packages", overflow="fold", ratio=1, min_width=24)
        for row in needed:
            table.add_row(
                row.fact,
                ", ".join(row.rules),
                _counted(run, row.fact),
                row.cause,
                _packages(row.packages, total),
            )
        console.print(table)
    unneeded = [row for row in rows if not row.rules]
    if unneeded:
        listed = ", ".join(f"{row.fact} ({len(row.packages)})" for row in unneeded)
        console.print(f"also unavailable, needed by no rule at this stage: {listed}")
    for waiver in decision.waivers_expired:
        console.print(
            f"expired waiver (no longer applied): {waiver.label}, "
            f"expired {waiver.expires.isoformat()}"
        )
    counts = decision.counts()
    used = len(decision.waivers_used)
    console.print(
        Text(
            f"decision: {decision.outcome.value.upper()} (exit {EXIT_CODES[decision.outcome]}) | "
            f"{counts['pass']} pass, {counts['warn']} warn, {counts['block']} block | "
            f"{used} waiver{'s' if used != 1 else ''} used",
            style=_STYLES[decision.outcome],
        )
    )
    return buffer.getvalue()
