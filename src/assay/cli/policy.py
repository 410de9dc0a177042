"""``assay policy init | check | explain``: write, validate and read a policy file."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assay.cli.output import write_atomically
from assay.errors import UsageError
from assay.policy.explain import explain
from assay.policy.loading import load_policy
from assay.policy.model import Policy
from assay.policy.starter import STARTER_POLICY
from assay.settings import POLICY_FILE_NAME, Settings

_STYLES = {"block": "red", "warn": "yellow", "off": "dim", "pass": "green"}


def _policy_path(option: Path | None) -> Path:
    return option if option is not None else Settings.from_env().policy_file


@click.group(name="policy")
def policy_group() -> None:
    """Write, check and explain the policy file (assay-policy.toml)."""


@policy_group.command(name="init")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Where to write it ('-' for stdout; default ./{POLICY_FILE_NAME}).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init_command(output: Path | None, force: bool) -> None:
    """Write a commented starter policy."""
    if output is not None and str(output) == "-":
        sys.stdout.write(STARTER_POLICY)
        return
    target = output if output is not None else Path(POLICY_FILE_NAME)
    if target.exists() and not force:
        raise UsageError(f"{target} already exists (use --force to overwrite it)")
    write_atomically(target, STARTER_POLICY)
    click.echo(f"wrote {target}; check it with 'assay policy check {target}'")


@policy_group.command(name="check")
@click.argument("path", type=click.Path(path_type=Path), required=False)
def check_command(path: Path | None) -> None:
    """Validate a policy file (default: the configured one); exit 3 names the bad line."""
    source = _policy_path(path)
    policy = load_policy(source)
    now = datetime.now(UTC)
    expired = [w for w in policy.waivers if w.expired(now)]
    click.echo(
        f"{source}: ok: {len(policy.rules)} rules, stages {', '.join(policy.stages)}, "
        f"{len(policy.waivers)} waivers ({len(expired)} expired), {policy.digest}"
    )
    for waiver in expired:
        click.echo(f"  expired waiver (line {waiver.line}): {waiver.label}, {waiver.expires}")


def _stages(policy: Policy, stage: str | None) -> tuple[str, ...]:
    if stage is None:
        return policy.stages
    if stage not in policy.stages:
        raise UsageError(f"unknown stage {stage!r}; the policy has: {', '.join(policy.stages)}")
    return (stage,)


@policy_group.command(name="explain")
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path),
    default=None,
    help="The policy file (default: ASSAY_POLICY, ./assay-policy.toml, <home>/assay-policy.toml).",
)
@click.option("--stage", default=None, help="Only this stage.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
def explain_command(policy_path: Path | None, stage: str | None, output_format: str) -> None:
    """Show what each rule does at each stage."""
    policy = load_policy(_policy_path(policy_path))
    document = explain(policy, _stages(policy, stage), datetime.now(UTC))
    if output_format == "json":
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    _table(document)


def _table(document: dict[str, Any]) -> None:
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = max(console.width, 160)
    console.print(f"policy {escape(document['policy'])} ({document['policy_digest'][:19]}...)")
    table = Table(show_edge=False, header_style="bold")
    table.add_column("rule", no_wrap=True)
    for stage in document["stages"]:
        table.add_column(stage, no_wrap=True)
    table.add_column("checks", overflow="fold")
    for rule in document["rules"]:
        cells = []
        for stage in document["stages"]:
            entry = rule["stages"][stage]
            text = entry["action"]
            if entry["unavailable"] not in ("-", entry["action"]):
                text += f" (n/a: {entry['unavailable']})"
            cells.append(f"[{_STYLES[entry['action']]}]{text}[/]")
        table.add_row(rule["rule"], *cells, escape(rule["checks"]))
    console.print(table)
    for waiver in document["waivers"]:
        state = "EXPIRED" if waiver["expired"] else "until"
        scope = " / ".join(
            str(waiver[key] or "*") for key in ("package", "versions", "vulnerability", "rule")
        )
        console.print(
            f"waiver (line {waiver['line']}): {escape(scope)} {state} {waiver['expires']}, "
            f"approved by {escape(waiver['approver'])}: {escape(waiver['justification'])}"
        )
