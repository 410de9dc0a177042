"""``assay promote SOURCE --from STAGE --to STAGE --by NAME``: gate, check history, record.

Exit codes: 0 promoted, 5 promoted with warnings, 1 refused (blocked at the
target stage, or the environment does not stand at --from), 2 usage (unknown
stage, not the next stage, empty --by), 3 bad input (source, policy, audit log
that does not verify).
"""

from __future__ import annotations

from pathlib import Path

import click

from assay.auditlog import DECISION, PROMOTION, AuditLog, AuditLogError, decision_record, open_log
from assay.auditlog import promotion_record as make_promotion_record
from assay.cli.gate import (
    GateRun,
    check_output,
    emit,
    parse_now,
    report_options,
    run_gate,
    source_options,
)
from assay.cli.output import check_reader_format
from assay.errors import UsageError
from assay.policy.loading import load_policy
from assay.policy.model import Outcome
from assay.policy.promotion import Standing, remaining_reasons, stage_problem, standing
from assay.settings import Settings


def _standing(log: AuditLog, run: GateRun, from_stage: str) -> Standing | None:
    """Where the log says the environment stands; the log must verify first."""
    if log.path.is_file():
        result = log.verify()
        if result.problem is not None:
            raise AuditLogError(
                f"{log.path}: {result.problem.describe()}; the promotion history cannot be "
                "trusted (run 'assay log verify')"
            )
        entries = list(log.entries())
    else:
        entries = []
    return standing(run.policy, entries, run.digest, from_stage)


def _refuse(log: AuditLog, run: GateRun, promotion: dict[str, str], why: str) -> None:
    record = {**run.log_record(), "promotion": {**promotion, "refused": why}}
    entry = log.append(
        DECISION,
        decision_record(record, environment=str(run.source), environment_digest=run.digest),
    )
    click.echo(f"assay: promotion refused: {why}", err=True)
    click.echo(
        f"assay: the refusal is logged as decision entry {entry.seq} ({entry.hash[:16]}) "
        f"in {log.path}",
        err=True,
    )


@click.command("promote")
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--from", "from_stage", required=True, metavar="STAGE", help="The stage it stands at."
)
@click.option("--to", "to_stage", required=True, metavar="STAGE", help="The next stage.")
@click.option("--by", "by", required=True, metavar="NAME", help="Who promotes (recorded).")
@source_options
@report_options
def promote_command(
    *,
    source: Path,
    from_stage: str,
    to_stage: str,
    by: str,
    policy_path: Path | None,
    source_format: str | None,
    database: Path | None,
    offline: bool,
    popular: Path | None,
    now: str | None,
    output_format: str,
    output: Path | None,
) -> None:
    """Promote SOURCE from one stage to the next, if the policy lets it.

    SOURCE is gated at --to exactly as 'assay gate' does.  The environment's
    digest must stand at --from in the audit log (a passing gate there, or a
    promotion to it; the first stage needs none), --to must be the stage right
    after --from, and the log must verify.  On pass a signed "promotion" entry
    is appended (environment digest, policy digest, stages, who, waivers used,
    remaining warnings); export it with 'assay log attest SEQ'.  A refusal is
    logged as a decision.  Exit 0: promoted; 5: promoted with warnings;
    1: refused; 2: usage; 3: bad input or an audit log that does not verify.
    """
    check_reader_format(source_format, "--source-format")
    check_output(output)
    if not by.strip():
        raise UsageError("--by must name who promotes")
    settings = Settings.from_env()
    policy = load_policy(policy_path or settings.policy_file)
    problem = stage_problem(policy, from_stage, to_stage)
    if problem is not None:
        raise UsageError(problem)
    run = run_gate(
        source,
        stage=to_stage,
        policy_path=policy_path,
        source_format=source_format,
        database=database,
        offline=offline,
        popular=popular,
        now=parse_now(now),
    )
    log = open_log(settings)
    at = _standing(log, run, from_stage)
    emit(run, output_format, output)
    promotion = {"from_stage": from_stage, "to_stage": to_stage, "by": by.strip()}
    if at is None:
        _refuse(
            log,
            run,
            promotion,
            f"{run.digest} does not stand at {from_stage!r}: no passing gate at {from_stage!r} "
            f"and no promotion to it in {log.path} "
            f"(run 'assay gate {source} --stage {from_stage}')",
        )
        raise click.exceptions.Exit(1)
    if run.decision.outcome == Outcome.BLOCK:
        _refuse(log, run, promotion, f"the policy blocks {source} at {to_stage!r}")
        raise click.exceptions.Exit(1)
    record = make_promotion_record(
        environment=str(source),
        environment_digest=run.digest,
        from_stage=from_stage,
        to_stage=to_stage,
        by=by.strip(),
        policy_digest=run.policy.digest,
        outcome=run.decision.outcome.value,
        waivers_used=[w.to_record() for w in run.decision.waivers_used],
        reasons=remaining_reasons(run.decision),
    )
    if at.seq is not None:
        record["standing_entry"] = at.seq
    entry = log.append(PROMOTION, record)
    click.echo(
        f"assay: promoted {source} from {from_stage} to {to_stage} by {by.strip()}: "
        f"entry {entry.seq} ({entry.hash}) in {log.path}",
        err=True,
    )
    click.echo(f"assay: export the attestation with: assay log attest {entry.seq}", err=True)
    raise click.exceptions.Exit(run.exit_code)
