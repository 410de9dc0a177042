"""Output of ``assay vet``: a table for people, JSON and SARIF 2.1.0 for machines."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from assay import __version__
from assay.advisories.reports.sarif import SARIF_SCHEMA, SARIF_VERSION
from assay.advisories.severity import Level
from assay.vetting import names as name_rules
from assay.vetting import slopsquat
from assay.vetting.archive_model import ArchiveReport
from assay.vetting.cache import ENGINE_VERSION
from assay.vetting.names import NameFinding
from assay.vetting.rules import ALL_RULES, PackageFinding, integrity
from assay.vetting.scoring import SEVERITY_POINTS
from assay.vetting.verdict import Verdict

FINGERPRINT_KEY = "assayVet/v1"
VERDICT_RULE = "vet-verdict"
_LEVELS = {
    Level.CRITICAL: "error",
    Level.HIGH: "error",
    Level.MEDIUM: "warning",
    Level.LOW: "note",
    Level.NONE: "note",
    Level.UNKNOWN: "note",
}
_LABEL_LEVELS = {"critical": "error", "high": "error", "medium": "warning"}
_STYLES = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "green",
    "none": "green",
    "unknown": "dim",
}
_INTEGRITY = {
    integrity.ARCHIVE_INCOMPLETE: (Level.HIGH, "the archive could not be read completely"),
    integrity.ARCHIVE_ANOMALY: (Level.LOW, "the archive has an unusual entry"),
    integrity.PYTHON_UNPARSED: (Level.LOW, "Python source that ast.parse rejects"),
}


@dataclass(frozen=True, slots=True)
class Context:
    """What the whole run used: the threshold, the popular list, the upstream index."""

    threshold: float
    popular: str | None
    upstream: str  # "queried", "offline" or "unavailable"
    all_findings: bool = False


def _catalogue() -> dict[str, tuple[Level, str]]:
    """Rule id -> (default severity, description) for every rule ``assay vet`` reports."""
    known: dict[str, tuple[Level, str]] = {
        r.rule_id: (r.severity, r.explanation) for r in ALL_RULES
    }
    known.update(_INTEGRITY)
    known.update(name_rules.RULES)
    known.update(slopsquat.RULES)
    known[VERDICT_RULE] = (Level.HIGH, "the package's risk score (0-10) and what to do about it")
    return known


# -- JSON ----------------------------------------------------------------------------------------


def _finding(finding: PackageFinding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "severity": finding.severity.label(),
        "category": finding.category,
        "where": finding.where,
        "file": finding.file,
        "line": finding.line,
        "snippet": finding.snippet,
        "explanation": finding.explanation,
    }


def _name_finding(finding: NameFinding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "severity": finding.severity.label(),
        "imitates": finding.target,
        "message": finding.message,
    }


def _archive(report: ArchiveReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "format": report.format,
        "members_read": report.members_read,
        "bytes_read": report.bytes_read,
        "complete": report.complete,
        "problems": [{"kind": p.kind, "path": p.path, "detail": p.detail} for p in report.problems],
    }


def verdict_document(verdict: Verdict) -> dict[str, Any]:
    identity = verdict.identity
    return {
        "target": verdict.target,
        "file": verdict.file,
        "origin": verdict.origin,
        "sha256": verdict.sha256,
        "name": identity.name,
        "version": identity.version,
        "kind": identity.kind,
        "score": verdict.score,
        "label": verdict.label,
        "flagged": verdict.flagged,
        "code_score": verdict.code_score,
        "explanation": verdict.explanation,
        "reasons": [_finding(f) for f in verdict.reasons],
        "name_checks": {
            "status": verdict.names.status,
            "note": verdict.names.note or None,
            "reasons": [f.rule for f in verdict.name_reasons],
            "findings": [_name_finding(f) for f in verdict.names.findings],
        },
        "archive": _archive(verdict.archive),
        "findings": [_finding(f) for f in verdict.findings],
    }


def as_json(verdicts: list[Verdict], context: Context) -> str:
    """Every finding of every file (JSON always carries them all)."""
    document = {
        "tool": {"name": "assay", "version": __version__, "engine": ENGINE_VERSION},
        "threshold": context.threshold,
        "popular": context.popular,
        "upstream": context.upstream,
        "summary": {
            "files": len(verdicts),
            "flagged": sum(1 for v in verdicts if v.flagged),
            "worst": max((v.score for v in verdicts), default=0.0),
        },
        "results": [verdict_document(v) for v in verdicts],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# -- SARIF ---------------------------------------------------------------------------------------


def _uri(verdict: Verdict, inner: str = "") -> str:
    """The file as given (repository-relative when under the working directory), then inner."""
    path = Path(verdict.file)
    base = path.as_posix()
    if path.is_absolute():
        try:
            base = path.resolve().relative_to(Path.cwd().resolve()).as_posix()
        except ValueError:
            base = base.lstrip("/")
    base = base.removeprefix("./")
    if not inner or inner in {verdict.file, path.name}:
        return base
    separator = "/" if verdict.origin == "directory" else "!/"
    return f"{base}{separator}{inner}"


def _location(uri: str, line: int = 0, snippet: str = "") -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"}}
    if line > 0:
        region: dict[str, Any] = {"startLine": line}
        if snippet:
            region["snippet"] = {"text": snippet}
        physical["region"] = region
    return {"physicalLocation": physical}


def _fingerprint(*parts: str) -> dict[str, str]:
    digest = hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()
    return {FINGERPRINT_KEY: digest}


def _package(verdict: Verdict) -> str:
    identity = verdict.identity
    return identity.name or verdict.file


def _results(verdict: Verdict, context: Context) -> list[dict[str, Any]]:
    package = _package(verdict)
    properties = {
        "target": verdict.target,
        "package": verdict.identity.name,
        "version": verdict.identity.version,
        "sha256": verdict.sha256,
        "score": verdict.score,
        "label": verdict.label,
    }
    results: list[dict[str, Any]] = []
    if verdict.label != "none":
        results.append(
            {
                "ruleId": VERDICT_RULE,
                "level": _LABEL_LEVELS.get(verdict.label, "note"),
                "message": {"text": verdict.explanation},
                "locations": [_location(_uri(verdict))],
                "partialFingerprints": _fingerprint(package, VERDICT_RULE),
                "properties": {**properties, "flagged": verdict.flagged},
            }
        )
    for f in verdict.names.findings:
        if f.severity > Level.NONE or context.all_findings:
            results.append(
                {
                    "ruleId": f.rule,
                    "level": _LEVELS[f.severity],
                    "message": {"text": f.describe()},
                    "locations": [_location(_uri(verdict))],
                    "partialFingerprints": _fingerprint(package, f.rule, f.target or ""),
                    "properties": {"severity": f.severity.label(), "imitates": f.target},
                }
            )
    reasons = set(verdict.reasons)
    for p in verdict.findings:
        if p not in reasons and p.severity <= Level.NONE and not context.all_findings:
            continue
        text = p.explanation + (f" [{p.where}]" if p.where else "")
        results.append(
            {
                "ruleId": p.rule,
                "level": _LEVELS[p.severity],
                "message": {"text": text},
                "locations": [_location(_uri(verdict, p.file), p.line, p.snippet)],
                "partialFingerprints": _fingerprint(package, p.rule, p.file, p.snippet),
                "properties": {
                    "severity": p.severity.label(),
                    "category": p.category,
                    "where": p.where,
                    "reason": p in reasons,
                },
            }
        )
    return results


def _rule(rule_id: str, known: dict[str, tuple[Level, str]], seen: str) -> dict[str, Any]:
    severity, description = known.get(rule_id, (Level.UNKNOWN, seen))
    properties: dict[str, Any] = {"tags": ["security", "supply-chain"]}
    points = SEVERITY_POINTS.get(severity, 0.0)
    if points > 0:
        properties["security-severity"] = f"{points:.1f}"
    text = description or rule_id
    return {
        "id": rule_id,
        "name": "".join(part.capitalize() for part in rule_id.split("-")),
        "shortDescription": {"text": f"{rule_id}: {text}"},
        "fullDescription": {"text": text},
        "defaultConfiguration": {"level": _LEVELS[severity]},
        "properties": properties,
    }


def sarif_document(verdicts: list[Verdict], context: Context) -> dict[str, Any]:
    results = [r for v in verdicts for r in _results(v, context)]
    known = _catalogue()
    seen = {r["ruleId"]: r["message"]["text"] for r in reversed(results)}
    ordered = sorted(seen)
    index = {rule_id: position for position, rule_id in enumerate(ordered)}
    for result in results:
        result["ruleIndex"] = index[result["ruleId"]]
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "assay",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": [_rule(r, known, seen[r]) for r in ordered],
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
                "properties": {
                    "engine": ENGINE_VERSION,
                    "threshold": context.threshold,
                    "upstream": context.upstream,
                },
            }
        ],
    }


def as_sarif(verdicts: list[Verdict], context: Context) -> str:
    return json.dumps(sarif_document(verdicts, context), indent=2, sort_keys=True) + "\n"


# -- table ---------------------------------------------------------------------------------------


def _styled(label: str) -> str:
    return f"[{_STYLES.get(label, 'dim')}]{label}[/]"


def _header(verdict: Verdict) -> str:
    identity = verdict.identity
    project = f"{identity.name} {identity.version}" if identity.name else "project unknown"
    verdict_text = "FLAGGED" if verdict.flagged else "below the threshold"
    digest = f"  sha256 {verdict.sha256[:16]}..." if verdict.sha256 else ""
    return (
        f"[bold]{escape(verdict.file)}[/]  ({escape(project)}, {identity.kind}){digest}\n"
        f"risk [bold]{verdict.score:.1f}/10[/] {_styled(verdict.label)}  {verdict_text} "
        f"(--fail-on {verdict.threshold:g})"
    )


def _findings_table(title: str, findings: list[PackageFinding]) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
    for column in ("severity", "rule", "where", "location"):
        table.add_column(column, no_wrap=True)
    table.add_column("evidence", overflow="fold", ratio=1, min_width=30)
    for f in findings:
        at = f"{f.file}:{f.line}" if f.line else f.file
        snippet = f"\n[dim]{escape(f.snippet[:160])}[/]" if f.snippet else ""
        table.add_row(
            _styled(f.severity.label()),
            f.rule,
            f.where,
            escape(at),
            escape(f.explanation) + snippet,
        )
    return table


def print_verdicts(console: Console, verdicts: list[Verdict], context: Context) -> None:
    for position, verdict in enumerate(verdicts):
        if position:
            console.print()
        console.print(_header(verdict))
        console.print(escape(verdict.explanation), overflow="fold")
        names = [f for f in verdict.names.findings if f.rule != slopsquat.UNAVAILABLE]
        for f in names:
            console.print(f"name check: {escape(f.describe())}")
        if verdict.reasons:
            console.print(_findings_table("reasons", list(verdict.reasons)))
        others = [f for f in verdict.findings if f not in set(verdict.reasons)]
        if context.all_findings and others:
            console.print(_findings_table("other findings", others))
        elif others:
            console.print(f"[dim]{len(others)} other finding(s): --all-findings shows them[/]")
