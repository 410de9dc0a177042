"""``assay log``: verify, show and attest the signed audit log of decisions and promotions."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
from packaging.utils import canonicalize_name
from rich.console import Console
from rich.table import Table

from assay.auditlog.attestation import promotion_statement, sign_envelope
from assay.auditlog.chain import Entry, Problem
from assay.auditlog.errors import AuditLogError, VerificationError
from assay.auditlog.keys import Verifier, load_signer, load_verifier
from assay.auditlog.log import public_key_path, read_entries, verify_log
from assay.auditlog.records import PROMOTION
from assay.cli.output import write_atomically
from assay.errors import UsageError
from assay.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
_HASH = re.compile(r"[0-9a-fA-F]{64}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _log_option(function: F) -> F:
    option = click.option(
        "--log",
        "log_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        metavar="PATH",
        help="The audit log (default: $ASSAY_AUDIT_LOG, else <assay home>/audit-log.jsonl).",
    )
    return option(function)


@click.group("log")
def log_group() -> None:
    """Verify, show and attest the signed, hash-chained audit log."""


def _available_verifier(log: Path) -> Verifier | None:
    """The signing key if there is one, else the key kept next to the log (<log>.pub)."""
    key_file = Settings.from_env().signing_key
    if key_file.exists():
        return load_signer(key_file).verifier()
    pub = public_key_path(log)
    return load_verifier(pub) if pub.exists() else None


def _verifier(log: Path, public_key: Path | None) -> Verifier:
    """The key to verify with: --public-key, else the signing key, else <log>.pub."""
    verifier = load_verifier(public_key) if public_key else _available_verifier(log)
    if verifier is None:
        raise AuditLogError(
            f"{log}: no key to verify with (no signing key, no {public_key_path(log).name}); "
            "pass --public-key FILE"
        )
    return verifier


def _problem_text(log: Path, problem: Problem, count: int) -> str:
    good = f"{count} entr{'y' if count == 1 else 'ies'} before it verified"
    return f"{log}: {problem.describe()} ({good})"


@log_group.command("verify")
@_log_option
@click.option(
    "--public-key",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="PEM",
    help="Verify against this public key (default: the signing key, else <log>.pub).",
)
@click.option(
    "--expect-head",
    metavar="HASH",
    default=None,
    help="A head hash printed by an earlier verify: it must still be in the chain "
    "(catches whole entries removed from the end, or a rewritten log).",
)
def verify_command(log_path: Path | None, public_key: Path | None, expect_head: str | None) -> None:
    """Check every entry's hash, signature and place in the chain.

    Exits 0 when the whole log verifies, 1 naming the first bad entry (edited,
    bad signature, unknown key, deleted, inserted, reordered, truncated).
    """
    log = log_path or Settings.from_env().audit_log
    if expect_head is not None and not _HASH.fullmatch(expect_head):
        raise UsageError(f"--expect-head {expect_head!r} is not a hash (64 hex digits)")
    verifier = _verifier(log, public_key)
    result = verify_log(log, verifier)
    if result.problem is not None:
        raise VerificationError(_problem_text(log, result.problem, result.count))
    if expect_head is not None and expect_head.lower() not in {e.hash for e in read_entries(log)}:
        raise VerificationError(
            f"{log}: the expected head {expect_head} is not in the log "
            "(entries were removed from the end, or the log was rewritten)"
        )
    head = result.head
    tail = f", head seq {head.seq} {head.hash}" if head is not None else ""
    click.echo(f"{log}: ok: {result.count} entries{tail}, key {verifier.key_id}")


def _moment(value: str, option: str, end_of_day: bool = False) -> datetime:
    text = value.strip()
    try:
        if _DATE.fullmatch(text):  # a date alone: from its start, or (--until) through it
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.fromisoformat(text)
    except OverflowError:  # --until 9999-12-31: no upper bound
        return datetime.max.replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date (YYYY-MM-DD or ISO 8601)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _walk(value: object) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _mentions_package(record: dict[str, Any], name: str) -> bool:
    for mapping in _walk(record):
        for key in ("package", "canonical_name"):
            found = mapping.get(key)
            if isinstance(found, str) and canonicalize_name(found) == name:
                return True
        packages = mapping.get("packages")
        if isinstance(packages, list):
            for item in packages:
                found = item.get("name") if isinstance(item, dict) else item
                if isinstance(found, str) and canonicalize_name(found) == name:
                    return True
    return False


def _matches_environment(record: dict[str, Any], wanted: str) -> bool:
    name = record.get("environment")
    if isinstance(name, str) and wanted in (name, Path(name).name):
        return True
    digest = record.get("environment_digest")
    hex_part = wanted.removeprefix("sha256:")
    return (
        isinstance(digest, str) and len(hex_part) >= 7 and digest.startswith(f"sha256:{hex_part}")
    )


def _stages(record: dict[str, Any]) -> set[object]:
    return {record.get("stage"), record.get("from_stage"), record.get("to_stage")} - {None}


def _filtered(entries: Iterable[Entry], **wanted: Any) -> Iterator[Entry]:
    since, until = wanted["since"], wanted["until"]
    for entry in entries:
        record = dict(entry.record)
        if wanted["kind"] and entry.kind != wanted["kind"]:
            continue
        if wanted["environment"] and not _matches_environment(record, wanted["environment"]):
            continue
        if wanted["stage"] and wanted["stage"] not in _stages(record):
            continue
        if wanted["package"] and not _mentions_package(record, wanted["package"]):
            continue
        if (since and entry.moment < since) or (until and entry.moment >= until):
            continue
        yield entry


def _refused(record: dict[str, Any]) -> dict[str, Any] | None:
    """The ``promotion`` object of a decision that logs a refused promotion."""
    promotion = record.get("promotion")
    return promotion if isinstance(promotion, dict) and "refused" in promotion else None


def _stage_text(record: dict[str, Any]) -> str:
    moved = _refused(record) or record
    if "from_stage" in moved or "to_stage" in moved:
        return f"{moved.get('from_stage', '?')} -> {moved.get('to_stage', '?')}"
    return str(record.get("stage", "-"))


def _outcome_text(record: dict[str, Any]) -> str:
    outcome = str(record.get("outcome", "-"))
    return f"refused ({outcome})" if _refused(record) is not None else outcome


def _table(entries: list[Entry]) -> None:
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = max(console.width, 160)
    table = Table(show_edge=False, header_style="bold")
    for column in ("seq", "time (UTC)", "kind", "environment", "stage", "outcome", "by", "hash"):
        table.add_column(column, justify="right" if column == "seq" else "left")
    for entry in entries:
        record = dict(entry.record)
        table.add_row(
            str(entry.seq),
            entry.time[:19].replace("T", " "),
            entry.kind,
            str(record.get("environment", "-")),
            _stage_text(record),
            _outcome_text(record),
            str((_refused(record) or record).get("by", "-")),
            entry.hash[:12],
        )
    console.print(table)
    console.print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")


@log_group.command("show")
@_log_option
@click.option("--environment", metavar="NAME|DIGEST", help="Entries about this environment.")
@click.option("--stage", metavar="S", help="Entries for this stage (gated, from or to).")
@click.option("--package", metavar="NAME", help="Entries whose record names this package.")
@click.option("--since", metavar="DATE", help="Entries at or after DATE (UTC, ISO 8601).")
@click.option("--until", metavar="DATE", help="Entries before DATE (a date alone: through it).")
@click.option("--kind", metavar="K", help="Entries of this kind (decision, promotion, ...).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
def show_command(  # noqa: PLR0917 - one parameter per option
    log_path: Path | None,
    environment: str | None,
    stage: str | None,
    package: str | None,
    since: str | None,
    until: str | None,
    kind: str | None,
    output_format: str,
) -> None:
    """List logged decisions and promotions, filtered."""
    log = log_path or Settings.from_env().audit_log
    entries = list(
        _filtered(
            read_entries(log),
            kind=kind,
            environment=environment,
            stage=stage,
            package=canonicalize_name(package) if package else None,
            since=_moment(since, "--since") if since else None,
            until=_moment(until, "--until", end_of_day=True) if until else None,
        )
    )
    verifier = _available_verifier(log)
    if verifier is not None:
        result = verify_log(log, verifier)
        if result.problem is not None:
            sys.stderr.write(
                f"assay: warning: {_problem_text(log, result.problem, result.count)}\n"
            )
    if output_format == "json":
        click.echo(json.dumps([e.to_dict() for e in entries], indent=2, ensure_ascii=False))
    else:
        _table(entries)


@log_group.command("attest")
@_log_option
@click.argument("seq", type=click.IntRange(min=1))
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="FILE",
    help="Write the envelope to FILE instead of standard output.",
)
def attest_command(log_path: Path | None, seq: int, output: Path | None) -> None:
    """Print the signed in-toto attestation (DSSE envelope) of promotion entry SEQ.

    The log is verified up to SEQ first; the envelope is signed with the log's key.
    """
    settings = Settings.from_env()
    log = log_path or settings.audit_log
    signer = load_signer(settings.signing_key)
    result = verify_log(log, signer.verifier())
    head = result.head.seq if result.head is not None else 0
    if head < seq:
        if result.problem is not None:
            raise VerificationError(_problem_text(log, result.problem, result.count))
        raise UsageError(f"{log}: no entry seq {seq} (the log has {head})")
    entry = next(e for e in read_entries(log) if e.seq == seq)
    if entry.kind != PROMOTION:
        raise UsageError(f"{log}: entry seq {seq} is a {entry.kind}, not a promotion")
    text = json.dumps(sign_envelope(promotion_statement(entry), signer), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(output, text)
        click.echo(f"wrote {output} (in-toto attestation of entry {seq})", err=True)


@log_group.command("public-key")
def public_key_command() -> None:
    """Print the signing key's public half (PEM) for independent verification."""
    click.echo(load_signer(Settings.from_env().signing_key).public_key_pem(), nl=False)
