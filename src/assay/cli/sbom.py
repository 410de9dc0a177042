"""``assay sbom SOURCE`` and ``assay sbom check FILE``.

``sbom`` is a group whose first argument, when it is not a subcommand name,
is the SOURCE of the default ``generate`` command: ``assay sbom uv.lock`` and
``assay sbom check bom.json`` both work (a source literally named ``check``
is written ``./check``).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from assay.cli.output import check_reader_format, write_atomically
from assay.environments.ports import ReaderError
from assay.environments.readers import read_environment
from assay.errors import UsageError
from assay.sbom.generate import CYCLONEDX_SPECS, DEFAULT_FORMAT, FORMATS, describe

DEFAULT_COMMAND = "generate"


class _DefaultGroup(click.Group):
    """A group that runs ``generate`` when the first argument names no subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


@click.group("sbom", cls=_DefaultGroup)
def sbom_group() -> None:
    """Write a validated SBOM of SOURCE, or check any SBOM's minimum elements.

    \b
      assay sbom SOURCE [--format F] [-o FILE] ...   (same as 'assay sbom generate SOURCE')
      assay sbom check FILE [--json] [--min-score N]
    """


def _timestamp(reproducible: bool) -> datetime | None:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None and epoch.strip():
        try:
            return datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError, OSError):
            raise UsageError(f"SOURCE_DATE_EPOCH is not a Unix timestamp: {epoch!r}") from None
    if reproducible:
        return None
    return datetime.now(UTC).replace(microsecond=0)


@sbom_group.command(DEFAULT_COMMAND)
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "format_name",
    type=click.Choice(FORMATS),
    default=DEFAULT_FORMAT,
    show_default=True,
    help="Output format: CycloneDX JSON/XML, SPDX 2.3 JSON, SPDX 3.0.1 JSON-LD.",
)
@click.option(
    "--spec-version",
    type=click.Choice(CYCLONEDX_SPECS),
    help="CycloneDX specification version (default 1.6).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write here (atomically).",
)
@click.option(
    "--reproducible",
    is_flag=True,
    help="Byte-identical output for the same input: no creation time (SOURCE_DATE_EPOCH if set).",
)
@click.option(
    "--author", envvar="ASSAY_SBOM_AUTHOR", help="Who writes the SBOM (default $ASSAY_SBOM_AUTHOR)."
)
@click.option("--source-format", metavar="FORMAT", help="Reader to use instead of auto-detection.")
def generate_command(
    *,
    source: Path,
    format_name: str,
    spec_version: str | None,
    output: Path | None,
    reproducible: bool,
    author: str | None,
    source_format: str | None,
) -> None:
    """Write an SBOM of SOURCE (any source 'assay env' reads), validated before output."""
    if spec_version is not None and not format_name.startswith("cyclonedx"):
        raise UsageError("--spec-version applies to the CycloneDX formats only")
    check_reader_format(source_format, "--source-format")
    from assay.sbom.context import SbomOptions  # noqa: PLC0415
    from assay.sbom.generate import generate  # noqa: PLC0415

    env = read_environment(source, source_format)
    options = SbomOptions(
        author=author.strip() if author and author.strip() else None,
        timestamp=_timestamp(reproducible),
        reproducible=reproducible,
    )
    spec = spec_version or "1.6"
    text = generate(env, format_name, options, spec)
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomically(output, text)
    click.echo(
        f"wrote {describe(format_name, spec)} SBOM of {len(env.packages)} packages "
        f"from {env.source.kind} {source} to {output}",
        err=True,
    )


def _load(path: Path) -> Any:
    from assay.environments.readers._files import decode, parse_json, read_bytes  # noqa: PLC0415

    if path.is_dir():
        raise ReaderError(path, "is a directory, not an SBOM file")
    data = read_bytes(path)  # regular files only: never blocks on a FIFO
    if data[:256].lstrip().startswith(b"<"):
        raise ReaderError(path, "XML SBOMs are not checked; check the JSON form")
    return parse_json(path, decode(path, data))


@sbom_group.command("check")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--min-score",
    type=click.FloatRange(0, 100),
    help="Also fail when the --framework score is below N (0-100).",
)
@click.option(
    "--framework",
    type=click.Choice(("ntia", "cisa-2025")),
    default="ntia",
    show_default=True,
    help="Which minimum elements decide the exit code.",
)
def check_command(file: Path, as_json: bool, min_score: float | None, framework: str) -> None:
    """Check FILE (CycloneDX or SPDX JSON, any generator) for NTIA and CISA 2025 minimum elements.

    Exit 1 when an element of --framework is missing anywhere or the score is below --min-score.
    """
    from assay.cli import sbom_report  # noqa: PLC0415
    from assay.sbom.check import UnsupportedDocumentError, check_document  # noqa: PLC0415

    data = _load(file)
    try:
        report = check_document(data)
    except UnsupportedDocumentError as exc:
        raise ReaderError(file, str(exc)) from None
    if as_json:
        click.echo(json.dumps(sbom_report.document(file, report), indent=2, sort_keys=True))
    else:
        sbom_report.print_text(file, report, framework)
    failed = not report.complete(framework)
    if min_score is not None and report.score(framework) < min_score:
        failed = True
    if failed:
        raise click.exceptions.Exit(1)
