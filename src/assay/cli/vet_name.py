"""``assay vet-name NAME...``: typosquat, homoglyph and slopsquat checks of package names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assay.advisories.severity import Level
from assay.errors import UsageError
from assay.vetting.names import NameFinding, NameIndex, canonicalize
from assay.vetting.popularity import ENV_VAR, load_popular
from assay.vetting.slopsquat import UNAVAILABLE, ProjectInfoSource, vet_upstream

_STYLES = {
    Level.CRITICAL: "bold red",
    Level.HIGH: "red",
    Level.MEDIUM: "yellow",
    Level.LOW: "green",
    Level.NONE: "green",
    Level.UNKNOWN: "dim",
}


def upstream_source() -> ProjectInfoSource:
    """The index pip is configured with (a seam that tests replace)."""
    from assay.vetting.upstream_projects import SimpleIndexProjects, index_url  # noqa: PLC0415

    return SimpleIndexProjects(index_url())


def _as_json(
    index: NameIndex, results: dict[str, list[NameFinding]], source: str, online: bool
) -> str:
    names: list[dict[str, Any]] = []
    for name, findings in results.items():
        worst = max((f.severity for f in findings), default=Level.NONE)
        names.append(
            {
                "name": name,
                "canonical": canonicalize(name),
                "popular_rank": index.rank.get(canonicalize(name)),
                "worst": worst.label(),
                "findings": [
                    {
                        "rule": f.rule,
                        "severity": f.severity.label(),
                        "imitates": f.target,
                        "message": f.message,
                    }
                    for f in findings
                ],
            }
        )
    document = {"popular": source, "upstream": "queried" if online else "offline", "names": names}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _table(results: dict[str, list[NameFinding]]) -> None:
    console = Console(soft_wrap=False)
    table = Table(show_edge=False, header_style="bold", show_lines=True)
    for column in ("name", "severity", "imitates"):
        table.add_column(column, no_wrap=True)
    table.add_column("finding", overflow="fold", ratio=1, min_width=30)
    for name, findings in results.items():
        if not findings:
            table.add_row(name, "[green]none[/]", "-", "no finding")
        for f in findings:
            style = _STYLES[f.severity]
            table.add_row(
                name,
                f"[{style}]{f.severity.label()}[/]",
                f.target or "-",
                f"{f.rule}\n[dim]{escape(f.message)}[/]",
            )
    console.print(table)


@click.command("vet-name")
@click.argument("names", nargs=-1, required=True)
@click.option(
    "--popular",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar=ENV_VAR,
    show_envvar=True,
    help="The popular-packages JSON (top-pypi-packages format) to compare against.",
)
@click.option(
    "--offline", is_flag=True, help="Do not ask the upstream index (slopsquat checks not run)."
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
def vet_name_command(
    names: tuple[str, ...], *, popular: Path | None, offline: bool, output_format: str
) -> None:
    """Check package NAMEs for typosquatting, look-alike letters and slopsquatting.

    Each name is compared with the popular-packages list (edit distance,
    transpositions, separators, py/python affixes, digit/letter swaps, Unicode
    look-alikes, popular name + common word) and, unless --offline, the
    upstream index pip is configured with is asked whether the project exists,
    how old it is and how many releases it has.  Exit 1 when any finding is
    high or critical.
    """
    if popular is None:
        raise UsageError(f"no popular-packages list: pass --popular FILE or set {ENV_VAR}")
    if any(not n.strip() for n in names):
        raise UsageError("empty package name")
    listing = load_popular(popular)
    index = NameIndex.build(listing)
    source = None if offline else upstream_source()
    results: dict[str, list[NameFinding]] = {}
    for name in names:
        findings = index.check(name) + vet_upstream(name, source, index)
        findings.sort(key=lambda f: -f.severity)
        results[name] = findings
    if output_format == "json":
        click.echo(_as_json(index, results, listing.source, source is not None), nl=False)
    else:
        _table(results)
    everything = [f for found in results.values() for f in found]
    failing = [f for f in everything if f.severity >= Level.HIGH]
    unavailable = sum(1 for f in everything if f.rule == UNAVAILABLE)
    click.echo(
        f"{len(names)} names, {len(everything) - unavailable} findings, "
        f"{len(failing)} high or critical",
        err=True,
    )
    if unavailable:
        click.echo(
            f"upstream metadata unavailable for {unavailable} name(s): "
            "not-on-index, new-project and few-releases checks were NOT run",
            err=True,
        )
    if failing:
        raise click.exceptions.Exit(1)
