"""``assay audit``: check environments against the local advisory database.

Exit codes: 0 no unsuppressed finding at or above ``--fail-on``; 1 there are;
2 usage; 3 a source, ignore file or VEX document cannot be read; 4 the
advisory database is missing or corrupt.
"""

from __future__ import annotations

import io
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import click
from rich.console import Console

from assay import __version__
from assay.advisories.audit import Auditor, AuditReport
from assay.advisories.reports import FORMATS, ReportContext, SourceLocation, renderer
from assay.advisories.severity import Level
from assay.advisories.store import AdvisoryDatabase
from assay.advisories.suppress import (
    IgnoreEntry,
    SuppressionPolicy,
    VexStatement,
    command_line_ignores,
    parse_ignore_file,
    parse_vex,
)
from assay.cli.audit_table import print_tables
from assay.cli.output import check_reader_format, source_lines, source_uri, write_atomically
from assay.environments.model import Environment
from assay.environments.readers import read_environment
from assay.environments.readers._files import read_text
from assay.settings import Settings

FAIL_ON = ("any", "low", "medium", "high", "critical")
_LINES_LIMIT = 64 * 1024 * 1024


def _threshold(label: str) -> Level | None:
    return None if label == "any" else Level.parse(label)


def _ignores(ids: tuple[str, ...], ignore_file: Path | None) -> list[IgnoreEntry]:
    entries = list(command_line_ignores(ids))
    if ignore_file is not None:
        entries += parse_ignore_file(str(ignore_file), read_text(ignore_file))
    return entries


def _vex(paths: tuple[Path, ...]) -> list[VexStatement]:
    statements: list[VexStatement] = []
    for path in paths:
        statements += parse_vex(str(path), read_text(path))
    return statements


def _location(path: Path) -> SourceLocation:
    return SourceLocation(uri=source_uri(path), lines=source_lines(path, _LINES_LIMIT))


def _generated_at() -> datetime:
    """Now, or SOURCE_DATE_EPOCH for reproducible output."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC)
    return datetime.now(tz=UTC)


def _summary(reports: list[AuditReport], threshold: Level | None) -> str:
    findings = sum(len(r.findings) for r in reports)
    failing = sum(len(r.failing(threshold)) for r in reports)
    packages = sum(len(r.results) for r in reports)
    suppressed = sum(len(r.suppressed) for r in reports)
    not_audited = sum(len(r.not_audited) for r in reports)
    label = "any" if threshold is None else threshold.label()
    return (
        f"{findings} findings in {packages} packages ({failing} at or above --fail-on {label}), "
        f"{suppressed} suppressed, {not_audited} not audited"
    )


@click.command("audit")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--db",
    "database",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="PATH",
    help="The advisory database (default: $ASSAY_DB, else <assay home>/advisories.sqlite3).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("table", *FORMATS)),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report here (atomically) instead of stdout.",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="any",
    show_default=True,
    help="Exit 1 when an unsuppressed finding is at or above this severity.",
)
@click.option("--ignore", "ignore_ids", multiple=True, metavar="ID", help="Ignore this id/alias.")
@click.option(
    "--ignore-file",
    type=click.Path(path_type=Path),
    help="TOML file of [[ignore]] entries (id, reason, expires).",
)
@click.option(
    "--vex",
    "vex_files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="OpenVEX 0.2 or CycloneDX VEX JSON; not_affected statements suppress findings.",
)
@click.option(
    "--source-format",
    metavar="FORMAT",
    help="Reader for every SOURCE instead of auto-detection (see 'assay env formats').",
)
def audit_command(
    *,
    sources: tuple[Path, ...],
    database: Path | None,
    output_format: str,
    output: Path | None,
    fail_on: str,
    ignore_ids: tuple[str, ...],
    ignore_file: Path | None,
    vex_files: tuple[Path, ...],
    source_format: str | None,
) -> None:
    """Audit each SOURCE against the local advisory database.

    SOURCE is anything 'assay env show' reads: a venv, lock, requirements file,
    SBOM, MLflow model directory, ... Exit 0: no unsuppressed finding at or
    above --fail-on; 1: findings; 2: usage; 3: unreadable source, ignore file
    or VEX; 4: advisory database missing or corrupt.
    """
    check_reader_format(source_format, "--source-format")
    threshold = _threshold(fail_on)
    policy = SuppressionPolicy(
        today=date.today(),  # the user's calendar day decides expiry
        ignores=_ignores(ignore_ids, ignore_file),
        vex=_vex(vex_files),
    )
    environments: list[tuple[Path, Environment]] = [
        (source, read_environment(source, source_format)) for source in sources
    ]
    with AdvisoryDatabase(database or Settings.from_env().advisory_db) as advisories:
        auditor = Auditor(advisories)
        reports = [auditor.audit(env, policy) for _, env in environments]
    for entry in policy.expired_entries:
        click.echo(
            f"assay: warning: ignore entry {entry.id} ({entry.origin}) expired on "
            f"{entry.expires}; it is no longer applied",
            err=True,
        )
    if output_format == "table":
        buffer = io.StringIO()
        console = Console(
            file=buffer if output else sys.stdout,
            highlight=False,
            soft_wrap=False,
            width=160 if output or not sys.stdout.isatty() else None,
        )
        print_tables(console, reports, threshold)
        text = buffer.getvalue()
    else:
        context = ReportContext(
            tool_version=__version__,
            fail_on=threshold,
            generated_at=_generated_at(),
            locations={env.source.path: _location(path) for path, env in environments},
        )
        text = renderer(output_format)(reports, context)
    if output is not None:
        write_atomically(output, text)
    elif output_format != "table":
        click.echo(text, nl=False)
    if output is not None or output_format != "table":
        click.echo(f"assay: {_summary(reports, threshold)}", err=True)
    if any(r.failing(threshold) for r in reports):
        raise click.exceptions.Exit(1)
