"""``assay vet TARGET...``: static analysis of packages, with name checks, scored 0-10.

Exit codes: 0 no file at or above ``--fail-on``; 1 at least one; 2 usage (an
unknown option or value, ``--offline`` with a ``name==version`` target, no index
configured for one, an unwritable ``--output``); 3 a TARGET is missing,
unreadable or cannot be fetched, or the popular-packages list is malformed;
4 the vet cache is corrupt.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Protocol

import click
from rich.console import Console

from assay.cli.output import write_atomically
from assay.cli.vet_render import Context, as_json, as_sarif, print_verdicts
from assay.errors import UsageError
from assay.settings import Settings
from assay.vetting.cache import VetCache, default_path, summary_of
from assay.vetting.distributions import DistributionSource
from assay.vetting.name_checks import NameChecker
from assay.vetting.names import NameIndex
from assay.vetting.popularity import ENV_VAR, load_popular
from assay.vetting.scoring import DEFAULT_THRESHOLD
from assay.vetting.slopsquat import ProjectInfoSource
from assay.vetting.targets import TargetError, TargetUnit, open_target, parse_requirement
from assay.vetting.verdict import (
    CHECKED,
    LABEL_FLOORS,
    NOT_RUN,
    OFFLINE,
    Verdict,
    fail_on_threshold,
    vet_members,
)

FORMATS = ("table", "json", "sarif")


class _Closable(Protocol):
    def close(self) -> None: ...


def project_source(indexes: list[str] | None) -> ProjectInfoSource:
    """Project metadata for the slopsquat signals (a seam that tests replace)."""
    from assay.vetting.upstream_projects import SimpleIndexProjects, index_url  # noqa: PLC0415

    return SimpleIndexProjects(indexes[0] if indexes else index_url())


def distribution_source(indexes: list[str] | None) -> DistributionSource:
    """The files of ``name==version`` targets (a seam that tests replace)."""
    from assay.vetting.index_config import configured_indexes  # noqa: PLC0415
    from assay.vetting.upstream import IndexSource  # noqa: PLC0415

    return IndexSource(indexes or configured_indexes())


def vet_unit(target: str, unit: TargetUnit, names: NameChecker, threshold: float) -> Verdict:
    """Analyse one file or directory and combine it with the name checks."""
    return vet_members(
        unit.label,
        unit.reading,
        unit.reading.report,
        names.check,
        target=target,
        origin=unit.origin,
        sha256=unit.sha256,
        threshold=threshold,
    )


def _threshold(text: str) -> float:
    value = fail_on_threshold(text)
    if value is None:
        raise UsageError(
            f"--fail-on {text!r}: not a score from 0 to 10 nor a label "
            "(low, medium, high, critical)"
        )
    return value


def _name_checker(
    popular: Path | None, offline: bool, indexes: list[str] | None, stack: ExitStack
) -> NameChecker:
    if popular is None:
        why = f"name checks not run: no popular-packages list (pass --popular or set {ENV_VAR})"
        return NameChecker(None, None, why)
    index = NameIndex.build(load_popular(popular))
    if offline:
        return NameChecker(index, None, "")
    source = project_source(indexes)
    if hasattr(source, "close"):
        closable: _Closable = source
        stack.callback(closable.close)
    return NameChecker(index, source, "")


def _lazy_distributions(
    indexes: list[str] | None, stack: ExitStack
) -> Callable[[], DistributionSource]:
    made: list[DistributionSource] = []

    def build() -> DistributionSource:
        if not made:
            made.append(distribution_source(indexes))
            if hasattr(made[0], "close"):
                closable: _Closable = made[0]
                stack.callback(closable.close)
        return made[0]

    return build


def _render(
    verdicts: list[Verdict], context: Context, output_format: str, to_file: bool
) -> str | None:
    if output_format == "json":
        return as_json(verdicts, context)
    if output_format == "sarif":
        return as_sarif(verdicts, context)
    buffer = io.StringIO()
    console = Console(
        file=buffer if to_file else sys.stdout,
        highlight=False,
        soft_wrap=False,
        width=160 if to_file or not sys.stdout.isatty() else None,
    )
    print_verdicts(console, verdicts, context)
    return buffer.getvalue() if to_file else None


@click.command("vet")
@click.argument("targets", nargs=-1, required=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
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
    default=str(DEFAULT_THRESHOLD),
    show_default=True,
    metavar="SCORE|LABEL",
    help="Exit 1 when a file scores at or above this (0-10, or low/medium/high/critical).",
)
@click.option(
    "--all-findings",
    is_flag=True,
    help="Show every finding, not only the reasons for the score (table and SARIF).",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Do not ask the upstream index: no slopsquat signals, no name==version targets.",
)
@click.option(
    "--index-url",
    "index_urls",
    multiple=True,
    metavar="URL",
    help="Package index to fetch name==version from and ask for slopsquat signals "
    "(repeatable; default: ASSAY_INDEX_URL, else pip's configuration).",
)
@click.option(
    "--popular",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help=f"The popular-packages JSON for the name checks (default: ${ENV_VAR}).",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Do not record the results in the vet cache (<assay home>/vet-cache.sqlite3).",
)
def vet_command(
    *,
    targets: tuple[str, ...],
    output_format: str,
    output: Path | None,
    fail_on: str,
    all_findings: bool,
    offline: bool,
    index_urls: tuple[str, ...],
    popular: Path | None,
    no_cache: bool,
) -> None:
    """Vet each TARGET statically: never installed, imported or executed.

    TARGET is a wheel, an sdist (.tar.gz, .tgz, .tar.bz2, .zip), an egg, an
    unpacked directory, or name==version (every file of that release, fetched
    from the configured index and checked against its sha256).  Each file gets
    a risk score 0-10 with a label, the findings that produced it and an
    explanation; the project name is checked against the popular-packages list
    and, unless --offline, the upstream index.  Exit 0: every file below
    --fail-on; 1: at least one at or above it; 2: usage; 3: a target cannot be
    read or fetched; 4: the vet cache is corrupt.
    """
    threshold = _threshold(fail_on)
    if any(not t.strip() for t in targets):
        raise UsageError("empty TARGET")
    if offline:
        wanted = [t for t in targets if not Path(t).expanduser().exists() and parse_requirement(t)]
        if wanted:
            raise UsageError(f"{wanted[0]}: a name==version target needs the index; drop --offline")
    for target in targets:
        path = Path(target).expanduser()
        if path.exists() and not (path.is_file() or path.is_dir()):  # a FIFO would block
            raise TargetError(f"{target}: not a regular file or directory")
    settings = Settings.from_env()
    indexes = list(index_urls) or None
    popular_file = popular or settings.popular_packages
    verdicts: list[Verdict] = []
    with ExitStack() as stack:
        cache = None if no_cache else stack.enter_context(VetCache(default_path(settings)))
        names = _name_checker(popular_file, offline, indexes, stack)
        distributions = _lazy_distributions(indexes, stack)
        for target in targets:
            for unit in open_target(target, source=distributions):
                verdict = vet_unit(target, unit, names, threshold)
                verdicts.append(verdict)
                summary = summary_of(verdict)
                if cache is not None and summary is not None:
                    cache.put(summary)
    status = {v.names.status for v in verdicts} or {NOT_RUN}
    context = Context(
        threshold=threshold,
        popular=str(popular_file) if popular_file else None,
        upstream=_upstream(offline, status),
        all_findings=all_findings,
    )
    text = _render(verdicts, context, output_format, output is not None)
    if output is not None and text is not None:
        write_atomically(output, text)
    elif text is not None:
        click.echo(text, nl=False)
    _summary(verdicts, threshold, fail_on)
    if any(v.score >= threshold for v in verdicts):
        raise click.exceptions.Exit(1)


def _upstream(offline: bool, status: set[str]) -> str:
    if offline:
        return "offline"
    if CHECKED in status:
        return "queried"
    return "unavailable" if OFFLINE in status else "not-asked"


def _summary(verdicts: list[Verdict], threshold: float, fail_on: str) -> None:
    failing = sum(1 for v in verdicts if v.score >= threshold)
    shown = fail_on if fail_on.strip().lower() not in LABEL_FLOORS else f"{fail_on} ({threshold:g})"
    click.echo(f"{len(verdicts)} file(s) vetted, {failing} at or above --fail-on {shown}", err=True)
    notes = sorted({v.names.note for v in verdicts if v.names.note})
    for note in notes:
        click.echo(f"note: {note}", err=True)
