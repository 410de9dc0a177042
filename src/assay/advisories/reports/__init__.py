"""Audit reports: one module per output format, all pure functions of the audit.

Each format module has ``render(reports, context) -> str``.  Output is
deterministic: findings are sorted, keys are sorted, and the only timestamp
(CycloneDX ``metadata.timestamp``) is ``context.generated_at``, injected by
the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from packaging.utils import canonicalize_name

from assay.advisories.audit import AuditReport
from assay.advisories.model import Advisory
from assay.advisories.severity import Level, Severity

FORMATS = ("json", "sarif", "cyclonedx", "markdown")


@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where a source lives for code-scanning tools: a relative URI and package lines."""

    uri: str
    lines: Mapping[str, int] = field(default_factory=dict)  # canonical name -> 1-based line


@dataclass(frozen=True, slots=True)
class ReportContext:
    tool_version: str
    fail_on: Level | None = None  # None: every finding fails
    generated_at: datetime | None = None
    locations: Mapping[str, SourceLocation] = field(default_factory=dict)  # by source path

    def location(self, report: AuditReport) -> SourceLocation:
        path = report.source.path
        return self.locations.get(path) or SourceLocation(uri=path.replace("\\", "/"))


def fail_on_label(level: Level | None) -> str:
    return "any" if level is None else level.label()


def severity_document(severity: Severity) -> dict[str, Any]:
    return {
        "level": severity.level.label(),
        "score": severity.score,
        "vector": severity.vector,
        "kind": severity.kind,
        "text": severity.describe(),
    }


def reference_url(records: Sequence[Advisory]) -> str | None:
    """The first ADVISORY reference of the group, else the first reference at all."""
    for wanted in ("ADVISORY", None):
        for record in records:
            for reference in record.references:
                if wanted is None or reference.type == wanted:
                    return reference.url
    return None


_KEYED = re.compile(r"""^\s*(?:name\s*=|"name"\s*:)\s*["']([^"']+)["']""")
_REQUIREMENT = re.compile(
    r"^\s*(?:-\s+)?([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?:===|==|~=|!=|<=|>=|<|>|@|;|$)"
)


def package_lines(text: str) -> dict[str, int]:
    """The first line that names each package in a lock, requirements or SBOM file.

    Recognises ``name = "x"`` (TOML locks), ``"name": "x"`` (JSON), and
    requirement lines (``x==1.0``, ``x[extra]>=1``, ``x @ url``, ``- x==1.0``).
    Names are PEP 503 canonical.  Only used to point code-scanning results at
    a line, so a miss just leaves the line out.
    """
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith(("#", "[")):
            continue
        match = _KEYED.match(line) or _REQUIREMENT.match(line)
        if match is not None:
            found.setdefault(canonicalize_name(match.group(1)), number)
    return found


Renderer = Callable[[Sequence[AuditReport], ReportContext], str]


def renderer(format_name: str) -> Renderer:
    """The ``render`` function of one format module."""
    if format_name == "json":
        from assay.advisories.reports import json_report  # noqa: PLC0415 - lazy per format

        return json_report.render
    if format_name == "sarif":
        from assay.advisories.reports import sarif  # noqa: PLC0415

        return sarif.render
    if format_name == "cyclonedx":
        from assay.advisories.reports import cyclonedx  # noqa: PLC0415

        return cyclonedx.render
    if format_name == "markdown":
        from assay.advisories.reports import markdown  # noqa: PLC0415

        return markdown.render
    raise KeyError(format_name)
