"""SARIF 2.1.0 for code-scanning services (GitHub code scanning among them).

One run; one rule per vulnerability (primary id) with its aliases as tags and
a ``security-severity`` score; one result per (source, package, vulnerability)
pointing at the source file (relative URI, ``%SRCROOT%`` base) and, when the
package's line is known, at that line.  ``partialFingerprints`` hash the
source, package and vulnerability (not the version), so an alert keeps its
identity across upgrades that do not fix it.  Suppressed findings are kept as
results with an external, accepted suppression carrying the reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from assay.advisories.audit import AuditReport, Finding, SuppressedFinding, id_sort_key
from assay.advisories.reports import ReportContext, reference_url
from assay.advisories.severity import Level

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "assayVulnerability/v1"

_LEVELS = {
    Level.CRITICAL: "error",
    Level.HIGH: "error",
    Level.MEDIUM: "warning",
    Level.LOW: "note",
    Level.NONE: "note",
    Level.UNKNOWN: "warning",
}
# a label without a vector still needs a number for code scanning's severity bands
_LABEL_SCORES = {Level.CRITICAL: 9.0, Level.HIGH: 7.0, Level.MEDIUM: 4.0, Level.LOW: 0.1}


def _security_severity(finding: Finding) -> str | None:
    severity = finding.severity
    if severity.score is not None:
        return f"{severity.score:.1f}"
    score = _LABEL_SCORES.get(severity.level)
    return None if score is None else f"{score:.1f}"


def _rule(finding: Finding) -> dict[str, Any]:
    details = next((r.details for r in finding.records if r.details), None) or finding.summary
    properties: dict[str, Any] = {
        "tags": ["security", "vulnerability", *finding.ids[1:]],
        "precision": "very-high",
    }
    if (score := _security_severity(finding)) is not None:
        properties["security-severity"] = score
    help_lines = [f"{finding.id}: {finding.summary or 'no summary'}"]
    if finding.ids[1:]:
        help_lines.append(f"Aliases: {', '.join(finding.ids[1:])}")
    help_lines.append(f"Severity: {finding.severity.describe()}")
    rule: dict[str, Any] = {
        "id": finding.id,
        "name": finding.id.replace("-", ""),
        "shortDescription": {"text": f"{finding.id}: {finding.summary or 'vulnerability'}"},
        "fullDescription": {"text": " ".join(details.split()) or finding.id},
        "help": {"text": "\n".join(help_lines)},
        "defaultConfiguration": {"level": _LEVELS[finding.severity.level]},
        "properties": properties,
    }
    if (url := reference_url(finding.records)) is not None:
        rule["helpUri"] = url
    return rule


def _message(finding: Finding, fix: str | None) -> str:
    package = finding.package
    text = f"{package.name} {package.version_raw} is affected by {finding.id}"
    if finding.ids[1:]:
        text += f" ({', '.join(finding.ids[1:])})"
    text += f", severity {finding.severity.describe()}."
    if finding.upgrades:
        text += f" Fixed in {', '.join(finding.upgrades)}."
    else:
        text += " No fixed version is known."
    if fix is not None:
        text += f" Smallest upgrade clearing every finding of {package.name}: {fix}."
    if finding.summary:
        text += f" {finding.summary}"
    return text


def _fingerprint(report: AuditReport, finding: Finding, uri: str) -> str:
    key = "\0".join((uri, finding.package.canonical_name, finding.id))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _result(
    report: AuditReport,
    context: ReportContext,
    *,
    finding: Finding,
    rule_index: int,
    fix: str | None,
    suppressed: SuppressedFinding | None,
) -> dict[str, Any]:
    location = context.location(report)
    physical: dict[str, Any] = {"artifactLocation": {"uri": location.uri, "uriBaseId": "%SRCROOT%"}}
    line = location.lines.get(finding.package.canonical_name)
    if line is not None:
        physical["region"] = {"startLine": line}
    result: dict[str, Any] = {
        "ruleId": finding.id,
        "ruleIndex": rule_index,
        "level": _LEVELS[finding.severity.level],
        "message": {"text": _message(finding, fix)},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(report, finding, location.uri)},
        "properties": {
            "package": finding.package.name,
            "version": finding.package.version_raw,
            "purl": finding.package.purl,
            "ids": list(finding.ids),
            "fixedVersions": list(finding.fixed_versions),
            "severity": finding.severity.describe(),
        },
    }
    if suppressed is not None:
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{suppressed.kind}: {suppressed.reason} ({suppressed.origin})",
            }
        ]
    return result


def document(reports: Sequence[AuditReport], context: ReportContext) -> dict[str, Any]:
    entries: list[tuple[AuditReport, Finding, str | None, SuppressedFinding | None]] = []
    for report in reports:
        fixes = {r.package.canonical_name: r.fix for r in report.results}
        entries += [(report, f, fixes.get(f.package.canonical_name), None) for f in report.findings]
        entries += [(report, s.finding, None, s) for s in report.suppressed]
    rules: dict[str, dict[str, Any]] = {}
    for _, finding, _, _ in entries:
        rules.setdefault(finding.id, _rule(finding))
    ordered = sorted(rules, key=id_sort_key)
    index = {rule_id: position for position, rule_id in enumerate(ordered)}
    results = [
        _result(
            report,
            context,
            finding=finding,
            rule_index=index[finding.id],
            fix=fix,
            suppressed=suppressed,
        )
        for report, finding, fix, suppressed in entries
    ]
    return sarif_log(context.tool_version, [rules[rule_id] for rule_id in ordered], results)


def sarif_log(
    tool_version: str,
    rules: list[dict[str, Any]],
    results: list[dict[str, Any]],
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run of assay (shared by audit, gate and vet reports)."""
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "assay",
                "version": tool_version,
                "semanticVersion": tool_version,
                "rules": rules,
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if properties is not None:
        run["properties"] = properties
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(reports: Sequence[AuditReport], context: ReportContext) -> str:
    return json.dumps(document(reports, context), indent=2, sort_keys=True) + "\n"
