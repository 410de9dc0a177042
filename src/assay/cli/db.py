"""``assay db``: build, update and inspect the local advisory database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from assay.advisories.importing import ImportSummary, detect, import_source, import_sources
from assay.advisories.store import AdvisoryDatabase, DatabaseStatus, ImportCounts, Problem
from assay.advisories.sync import fetched
from assay.settings import Settings


@dataclass(frozen=True, slots=True)
class _Options:
    database: Path


@click.group("db")
@click.option(
    "--db",
    "database",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="PATH",
    help="The advisory database file (default: $ASSAY_DB, else <assay home>/advisories.sqlite3).",
)
@click.pass_context
def db_group(ctx: click.Context, database: Path | None) -> None:
    """Build, update and inspect the local advisory database."""
    ctx.obj = _Options(database or Settings.from_env().advisory_db)


def _counts_text(counts: ImportCounts) -> str:
    return (
        f"{counts.added} added, {counts.updated} updated, {counts.unchanged} unchanged, "
        f"{counts.older} older (kept), {counts.skipped} skipped"
    )


def _report(summaries: list[ImportSummary], database: AdvisoryDatabase) -> None:
    skipped = 0
    for summary in summaries:
        click.echo(
            f"{summary.source} ({summary.kind}): {summary.counts.records} records: "
            f"{_counts_text(summary.counts)} in {summary.seconds:.1f}s"
        )
        skipped += summary.counts.skipped
    status = database.status()
    click.echo(f"{status.path}: {status.records} records, digest {status.digest}")
    if skipped:
        click.echo(
            f"{skipped} malformed records were skipped; "
            "list them with 'assay db status --problems'",
            err=True,
        )


@db_group.command("import")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_obj
def import_command(options: _Options, sources: tuple[Path, ...]) -> None:
    """Import OSV records from each SOURCE, in one transaction.

    SOURCE is a checkout of PyPA's advisory-database, a directory of OSV JSON
    (or YAML) records, OSV's per-ecosystem all.zip, or a single record file.
    A record replaces the stored one only when its 'modified' time is newer
    (or equal with different content).  Malformed records are skipped and
    listed by 'assay db status --problems'.
    """
    for source in sources:
        detect(source)  # refuse unreadable sources before creating a database
    with AdvisoryDatabase.open_for_write(options.database) as database:
        _report(import_sources(database, list(sources)), database)


@db_group.command("sync")
@click.option(
    "--url",
    metavar="URL",
    help="OSV export to fetch (default: $ASSAY_OSV_EXPORT_URL): an http(s) or file:// URL "
    "of all.zip, or a local path.",
)
@click.pass_obj
def sync_command(options: _Options, url: str | None) -> None:
    """Fetch the configured OSV export and import it."""
    with (
        fetched(url or Settings.from_env().osv_export_url) as (path, label),
        AdvisoryDatabase.open_for_write(options.database) as database,
    ):
        _report([import_source(database, path, label=label)], database)


def _problem_document(problem: Problem) -> dict[str, str]:
    return {"source": problem.source, "location": problem.location, "message": problem.message}


def _counts_document(counts: ImportCounts) -> dict[str, int]:
    return {
        "records": counts.records,
        "added": counts.added,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "older": counts.older,
        "skipped": counts.skipped,
    }


def _status_document(status: DatabaseStatus, problems: tuple[Problem, ...] | None) -> Any:
    document: dict[str, Any] = {
        "database": str(status.path),
        "schema_version": status.schema_version,
        "records": status.records,
        "withdrawn": status.withdrawn,
        "packages": status.packages,
        "aliases": status.aliases,
        "newest_modified": status.newest_modified,
        "digest": status.digest,
        "sources": [
            {
                "source": info.source,
                "kind": info.kind,
                "imported_at": info.imported_at,
                **_counts_document(info.counts),
            }
            for info in status.sources
        ],
        "problem_count": status.problems,
    }
    if problems is not None:
        document["problems"] = [_problem_document(p) for p in problems]
    return document


def _status_text(status: DatabaseStatus, problems: tuple[Problem, ...] | None) -> None:
    click.echo(f"database   {status.path} (schema {status.schema_version})")
    click.echo(
        f"records    {status.records} ({status.withdrawn} withdrawn) for "
        f"{status.packages} packages, {status.aliases} aliases"
    )
    click.echo(f"newest     {status.newest_modified or '-'}")
    click.echo(f"digest     {status.digest}")
    click.echo(f"sources    {len(status.sources)}")
    for info in status.sources:
        click.echo(f"  {info.source} ({info.kind}), imported {info.imported_at}")
        click.echo(f"    {info.counts.records} records: {_counts_text(info.counts)}")
    hint = "" if problems is not None or not status.problems else " (list them with --problems)"
    click.echo(f"problems   {status.problems}{hint}")
    for problem in problems or ():
        click.echo(f"  {problem.source}: {problem.location}: {problem.message}")


@db_group.command("status")
@click.option("--problems", "show_problems", is_flag=True, help="List the skipped records.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def status_command(options: _Options, show_problems: bool, as_json: bool) -> None:
    """Show record counts, newest 'modified', sources and the database digest."""
    with AdvisoryDatabase(options.database) as database:
        status = database.status()
        problems = database.problems() if show_problems else None
    if as_json:
        click.echo(json.dumps(_status_document(status, problems), indent=2, sort_keys=True))
    else:
        _status_text(status, problems)
