"""Text and JSON output of ``assay sbom check``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from assay.sbom.check import (
    CISA_2025,
    COMPONENT_ELEMENTS,
    DOCUMENT_ELEMENTS,
    FRAMEWORKS,
    NTIA,
    CheckReport,
)

LISTED = 20  # components listed by name in the text output


def _label(element: str) -> str:
    return COMPONENT_ELEMENTS.get(element) or DOCUMENT_ELEMENTS[element]


def _presence(report: CheckReport, element: str) -> str:
    if element in DOCUMENT_ELEMENTS:
        return "yes" if element in report.document else "MISSING"
    total = len(report.components)
    count = report.count(element)
    share = 100 * count / total if total else 0.0
    mark = "" if count == total and total else "  <"
    return f"{count}/{total} ({share:.1f}%){mark}"


def print_text(path: Path, report: CheckReport, framework: str) -> None:
    click.echo(f"{path}: {report.format}, {len(report.components)} components")
    click.echo(f"  {'element':52} {'NTIA':>4} {'CISA':>4}  present")
    order = list(dict.fromkeys([*NTIA, *CISA_2025]))
    for element in order:
        ntia = "x" if element in NTIA else ""
        cisa = "x" if element in CISA_2025 else ""
        click.echo(f"  {_label(element):52} {ntia:>4} {cisa:>4}  {_presence(report, element)}")
    for name, key in (
        ("NTIA minimum elements", "ntia"),
        ("CISA 2025 minimum elements", "cisa-2025"),
    ):
        missing = report.missing(key)
        tail = "complete" if not missing else "missing: " + ", ".join(missing)
        click.echo(f"{name}: {report.score(key):.1f}% ({tail})")
    for note in report.notes:
        click.echo(f"note: {note}")
    elements = FRAMEWORKS[framework]
    lacking = [c for c in report.components if c.missing(elements)]
    if lacking:
        click.echo(f"components missing {framework} elements: {len(lacking)}")
        for component in lacking[:LISTED]:
            label = f"{component.name} {component.version or ''}".strip()
            click.echo(f"  {label}: {', '.join(component.missing(elements))}")
        if len(lacking) > LISTED:
            click.echo(f"  ... and {len(lacking) - LISTED} more (see --json)")


def document(path: Path, report: CheckReport) -> dict[str, Any]:
    """The check as JSON: scores, element coverage, per-component missing elements."""
    return {
        "file": str(path),
        "format": report.format,
        "components": len(report.components),
        "frameworks": {
            key: {
                "score": report.score(key),
                "complete": report.complete(key),
                "missing": list(report.missing(key)),
            }
            for key in FRAMEWORKS
        },
        "elements": {
            element: (
                {"present": element in report.document}
                if element in DOCUMENT_ELEMENTS
                else {"components": report.count(element)}
            )
            for element in [*COMPONENT_ELEMENTS, *DOCUMENT_ELEMENTS]
        },
        "component_results": [
            {
                "ref": c.ref,
                "name": c.name,
                "version": c.version,
                "missing": sorted(set(c.missing(NTIA)) | set(c.missing(CISA_2025))),
            }
            for c in report.components
            if c.missing(CISA_2025)
        ],
        "notes": list(report.notes),
    }
