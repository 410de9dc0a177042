"""``assay gate SOURCE --stage STAGE``: gather the facts, apply the policy, log the decision.

Exit codes: 0 pass, 5 pass with warnings, 1 blocked, 2 usage (unknown stage,
bad --now), 3 unreadable source, policy file, popular-packages list or audit log.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from assay import __version__
from assay.advisories.ports import AdvisoryError
from assay.cli.output import check_reader_format, source_lines, source_uri, write_atomically
from assay.environments.artifact import dumps_with_digest
from assay.environments.model import Environment
from assay.environments.readers import read_environment
from assay.errors import UsageError
from assay.policy.engine import evaluate
from assay.policy.fact_sources import Missing, ProjectMetadataSource, VetResultSource
from assay.policy.gate_report import (
    EXIT_CODES,
    GateContext,
    render_json,
    render_sarif,
    unavailable_rows,
)
from assay.policy.gathering import FactGatherer, GatheredFacts
from assay.policy.loading import load_policy
from assay.policy.model import Decision, Policy
from assay.settings import Settings
from assay.vetting.names import NameIndex

FORMATS = ("table", "json", "sarif")
OFFLINE = "--offline: the package index was not asked"


@dataclass(frozen=True, slots=True)
class GateRun:
    """Everything one gate evaluation produced."""

    source: Path
    environment: Environment
    digest: str
    policy: Policy
    gathered: GatheredFacts
    decision: Decision

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.decision.outcome]

    def context(self) -> GateContext:
        return GateContext(
            source=str(self.source),
            environment_digest=self.digest,
            tool_version=__version__,
            uri=source_uri(self.source),
            lines=source_lines(self.source),
        )

    def log_record(self) -> dict[str, Any]:
        """``Decision.to_record()`` plus the causes of unavailable facts (counts only)."""
        rows = unavailable_rows(self.decision, self.gathered)
        return {
            **self.decision.to_record(),
            "facts_unavailable": [
                {
                    "fact": r.fact,
                    "cause": r.cause,
                    "rules": list(r.rules),
                    "packages": len(r.packages),
                }
                for r in rows
            ],
        }


def parse_now(value: str | None) -> datetime:
    """The evaluation time: ``--now`` (ISO date or date-time; naive means UTC) or the clock."""
    if value is None:
        return datetime.now(tz=UTC)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise UsageError(f"--now {value!r} is not an ISO 8601 date or date-time") from None
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise UsageError(f"--now {value!r} is out of range") from None


def index_source(offline: bool) -> ProjectMetadataSource | Missing:
    """The configured package index, or why it is not asked."""
    if offline:
        return Missing(OFFLINE)
    from assay.policy.index_facts import IndexProjects  # noqa: PLC0415 - httpx only when online
    from assay.vetting.upstream_projects import index_url  # noqa: PLC0415

    url = index_url()
    if url is None:
        return Missing("no package index configured (set ASSAY_INDEX_URL or pip's index-url)")
    return IndexProjects(url)


def _vet_source(settings: Settings, stack: contextlib.ExitStack) -> VetResultSource | Missing:
    from assay.policy.vet_facts import CachedVetResults  # noqa: PLC0415
    from assay.vetting.cache import VetCache, VetCacheError, default_path  # noqa: PLC0415

    path = default_path(settings)
    if not path.is_file():
        return Missing(f"no vet cache at {path} (run 'assay vet' on the packages)")
    try:
        cache = VetCache(path)
    except VetCacheError as exc:
        return Missing(exc.message)
    stack.callback(cache.close)
    return CachedVetResults(cache)


def _names(settings: Settings, popular: Path | None) -> NameIndex | Missing:
    path = popular or settings.popular_packages
    if path is None:
        return Missing("no popular-packages list (set ASSAY_POPULAR_PACKAGES or pass --popular)")
    from assay.vetting.popularity import load_popular  # noqa: PLC0415

    return NameIndex.build(load_popular(path))


@contextlib.contextmanager
def _advisories(database: Path | None, settings: Settings) -> Iterator[Any]:
    from assay.advisories.store import AdvisoryDatabase  # noqa: PLC0415

    try:
        opened = AdvisoryDatabase(database or settings.advisory_db)
    except AdvisoryError as exc:
        yield Missing(exc.message)
        return
    with opened:
        yield opened


def run_gate(
    source: Path,
    *,
    stage: str,
    policy_path: Path | None,
    source_format: str | None,
    database: Path | None,
    offline: bool,
    popular: Path | None,
    now: datetime,
) -> GateRun:
    """Read SOURCE, gather its facts, evaluate the policy at ``stage``."""
    settings = Settings.from_env()
    policy = load_policy(policy_path or settings.policy_file)
    if stage not in policy.stages:
        raise UsageError(
            f"unknown stage {stage!r}: {policy.source} defines {', '.join(policy.stages)}"
        )
    environment = read_environment(source, source_format)
    _, digest = dumps_with_digest(environment)
    names = _names(settings, popular)
    with contextlib.ExitStack() as stack:
        advisories = stack.enter_context(_advisories(database, settings))
        index = index_source(offline)
        if not isinstance(index, Missing):
            stack.callback(getattr(index, "close", lambda: None))
        gatherer = FactGatherer(
            advisories=advisories, index=index, vet=_vet_source(settings, stack), names=names
        )
        gathered = gatherer.gather(environment)
    decision = evaluate(policy, stage, gathered.packages, now=now)
    return GateRun(source, environment, digest, policy, gathered, decision)


def source_options(function: Any) -> Any:
    """The options ``gate`` and ``promote`` share."""
    options = [
        click.option(
            "--policy",
            "policy_path",
            type=click.Path(path_type=Path, dir_okay=False),
            help="The policy file (default: $ASSAY_POLICY, ./assay-policy.toml, <home>/...).",
        ),
        click.option(
            "--source-format", metavar="FORMAT", help="Reader for SOURCE (see 'assay env formats')."
        ),
        click.option(
            "--db",
            "database",
            type=click.Path(path_type=Path, dir_okay=False),
            metavar="PATH",
            help="The advisory database (default: $ASSAY_DB, else <home>/advisories.sqlite3).",
        ),
        click.option(
            "--offline",
            is_flag=True,
            help="Do not ask the package index (its facts are unavailable).",
        ),
        click.option(
            "--popular",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Popular-packages JSON for the squatting checks "
            "(default: $ASSAY_POPULAR_PACKAGES).",
        ),
        click.option(
            "--now",
            metavar="ISO",
            help="Evaluate as of this date or date-time (waiver expiry, cooldown); default: now.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def check_output(output: Path | None) -> None:
    """Refuse an ``--output`` in a missing directory before anything is decided or logged."""
    if output is not None and not output.parent.is_dir():
        raise UsageError(f"{output}: cannot write: no directory {output.parent}")


def report_options(function: Any) -> Any:
    """``--format`` and ``--output``, as ``gate`` and ``promote`` take them."""
    function = click.option(
        "--output",
        "-o",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Write the report here.",
    )(function)
    return click.option(
        "--format", "output_format", type=click.Choice(FORMATS), default="table", show_default=True
    )(function)


def log_decision(run: GateRun) -> None:
    """Append the decision to the audit log and say where it went (stderr)."""
    from assay.auditlog import DECISION, decision_record, open_log  # noqa: PLC0415

    log = open_log(Settings.from_env())
    entry = log.append(
        DECISION,
        decision_record(
            run.log_record(), environment=str(run.source), environment_digest=run.digest
        ),
    )
    click.echo(
        f"assay: decision logged as entry {entry.seq} ({entry.hash[:16]}) in {log.path}", err=True
    )


@click.command("gate")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--stage", required=True, help="The stage to gate for (as the policy names it).")
@source_options
@report_options
@click.option("--no-log", is_flag=True, help="Do not append the decision to the audit log.")
def gate_command(
    *,
    source: Path,
    stage: str,
    policy_path: Path | None,
    source_format: str | None,
    database: Path | None,
    offline: bool,
    popular: Path | None,
    now: str | None,
    output_format: str,
    output: Path | None,
    no_log: bool,
) -> None:
    """Apply the policy to SOURCE at STAGE and print the decision with its reasons.

    The facts are gathered here: vulnerabilities from the local advisory
    database, licenses from the source, release times, yanks and project status
    from the configured package index (unless --offline), cached 'assay vet'
    results, typosquat checks against the popular-packages list.  Facts that
    cannot be gathered are listed with the cause and the rules that needed them.
    Exit 0: pass; 5: pass with warnings; 1: blocked; 2: usage; 3: bad input.
    """
    check_reader_format(source_format, "--source-format")
    check_output(output)
    run = run_gate(
        source,
        stage=stage,
        policy_path=policy_path,
        source_format=source_format,
        database=database,
        offline=offline,
        popular=popular,
        now=parse_now(now),
    )
    if not no_log:
        log_decision(run)
    emit(run, output_format, output)
    raise click.exceptions.Exit(run.exit_code)


def emit(run: GateRun, output_format: str, output: Path | None) -> None:
    """Print (or write) the report in ``output_format``."""
    if output_format == "table":
        from assay.cli.gate_table import table_text  # noqa: PLC0415

        text = table_text(run, width=160 if output or not sys.stdout.isatty() else None)
    elif output_format == "json":
        text = render_json(run.decision, run.gathered, run.policy, run.context())
    else:
        text = render_sarif(run.decision, run.policy, run.context())
    if output is not None:
        write_atomically(output, text)
        click.echo(
            f"assay: gate {run.decision.outcome.value}: report written to {output}", err=True
        )
    else:
        click.echo(text, nl=False)
