"""``assay env``: read, capture and compare environments."""

from __future__ import annotations

import json
from pathlib import Path

import click

from assay.cli.output import check_reader_format, write_atomically
from assay.environments.artifact import dumps, dumps_with_digest, environment_digest
from assay.environments.diff import diff_environments
from assay.environments.model import Environment
from assay.environments.readers import format_names, read_environment, reader_for


@click.group("env")
def env_group() -> None:
    """Read, capture and compare environments."""


FORMAT_HELP = "Reader to use instead of auto-detection (see 'assay env formats')."


def _load(source: Path, format_name: str | None) -> Environment:
    check_reader_format(format_name, "--format")
    return read_environment(source, format_name)


_source = click.argument("source", type=click.Path(path_type=Path))
_format = click.option("--format", "-f", "format_name", metavar="FORMAT", help=FORMAT_HELP)


@env_group.command("show")
@_source
@_format
@click.option("--json", "as_json", is_flag=True, help="Print the environment artifact as JSON.")
def show(source: Path, format_name: str | None, as_json: bool) -> None:
    """Show the packages in SOURCE.

    SOURCE is a venv, site-packages dir, Python interpreter, conda prefix, lock
    file, requirements file, pip JSON report, MLflow model dir, SBOM or a
    captured artifact; the format is detected from its name and content.
    """
    env = _load(source, format_name)
    if as_json:
        click.echo(dumps(env), nl=False)
    else:
        from assay.cli import render  # noqa: PLC0415 - rich is only needed for tables

        render.environment_table(env, environment_digest(env))


@env_group.command("capture")
@_source
@_format
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the artifact here (atomically) instead of stdout.",
)
def capture(source: Path, format_name: str | None, output: Path | None) -> None:
    """Capture SOURCE as a canonical, hashed JSON artifact."""
    env = _load(source, format_name)
    text, digest = dumps_with_digest(env)
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomically(output, text)
    click.echo(
        f"captured {len(env.packages)} packages from {env.source.kind} {source} "
        f"to {output} ({digest})",
        err=True,
    )


@env_group.command("diff")
@click.argument("before", type=click.Path(path_type=Path))
@click.argument("after", type=click.Path(path_type=Path))
@click.option("--before-format", metavar="FORMAT", help=FORMAT_HELP)
@click.option("--after-format", metavar="FORMAT", help=FORMAT_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the difference as JSON.")
def diff(
    before: Path, after: Path, before_format: str | None, after_format: str | None, as_json: bool
) -> None:
    """Compare BEFORE with AFTER (any two sources); exit 1 when they differ."""
    old = _load(before, before_format)
    new = _load(after, after_format)
    result = diff_environments(old, new)
    from assay.cli import render  # noqa: PLC0415 - rich is only needed for tables

    if as_json:
        click.echo(json.dumps(render.diff_document(old, new, result), indent=2, sort_keys=True))
    else:
        render.diff_table(old, new, result)
    if not result.empty:
        raise click.exceptions.Exit(1)


@env_group.command("formats")
def formats() -> None:
    """List the formats assay reads, in detection order."""
    for name in format_names():
        click.echo(f"{name:20} {reader_for(name).description}")
