"""``assay aibom MODEL``: a CycloneDX 1.6 AIBOM of a model directory, with model-file safety."""

from __future__ import annotations

from pathlib import Path

import click

from assay.errors import AssayError
from assay.sbom.aibom import aibom_document
from assay.sbom.aibom_source import read_model
from assay.vetting import blocking


def _write(target: Path, text: str) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AssayError(f"{target}: cannot write: {exc.strerror or exc}") from None


@click.command("aibom")
@click.argument("model", type=click.Path(path_type=Path))
@click.option(
    "--card",
    type=click.Path(path_type=Path),
    help="A model card YAML with facts to add or override (see docs/aibom.md).",
)
@click.option(
    "--env",
    "env_source",
    type=click.Path(path_type=Path),
    help="The model's environment: any source 'assay env' reads (default: MLflow files).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the AIBOM here instead of stdout.",
)
@click.option(
    "--reproducible", is_flag=True, help="No timestamp: the same input gives the same bytes."
)
@click.option(
    "--check",
    is_flag=True,
    help="Print the scanner's findings; exit 1 if any is high or critical.",
)
def aibom_command(
    model: Path,
    *,
    card: Path | None,
    env_source: Path | None,
    output: Path | None,
    reproducible: bool,
    check: bool,
) -> None:
    """Write a CycloneDX 1.6 AIBOM of the model directory MODEL.

    MODEL is an MLflow model directory, a Hugging Face style directory or a
    plain directory of weight files.  Every file is hashed; pickle-based,
    safetensors, NumPy and Keras files are scanned statically (never loaded).
    With --check (and no -o) only the findings are printed.
    """
    source = read_model(model, card, env_source)
    text = aibom_document(source, reproducible=reproducible)
    if output is not None:
        _write(output, text)
    elif not check:
        click.echo(text, nl=False)
    if not check:
        return
    findings = [f for scan in source.files for f in scan.findings]
    for finding in findings:
        click.echo(finding.describe())
    failing = blocking(findings)
    scanned = sum(1 for scan in source.files if scan.scanned)
    click.echo(
        f"{len(source.files)} files, {scanned} scanned, {len(findings)} findings, "
        f"{len(failing)} high or critical",
        err=True,
    )
    if failing:
        raise click.exceptions.Exit(1)
