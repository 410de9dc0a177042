"""SARIF 2.1.0 as GitHub code scanning accepts it."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from assay.advisories.audit import AuditReport
from assay.advisories.reports import ReportContext
from assay.advisories.reports.sarif import render
from tests.advisories.reports.conftest import check_golden

LEVELS = {"none", "note", "warning", "error"}


def check_sarif_essentials(document: dict[str, Any]) -> None:
    """The parts of SARIF 2.1.0 (and GitHub's upload rules) a consumer relies on."""
    assert document["version"] == "2.1.0"
    assert document["$schema"].endswith("sarif-2.1.0.json")
    assert isinstance(document["runs"], list)
    assert document["runs"]
    for run in document["runs"]:
        driver = run["tool"]["driver"]
        assert isinstance(driver["name"], str)
        assert driver["name"]
        rules = driver["rules"]
        ids = [rule["id"] for rule in rules]
        assert len(ids) == len(set(ids)), "rule ids must be unique"
        for rule in rules:
            assert rule["shortDescription"]["text"]
            assert rule["fullDescription"]["text"]
            assert rule["defaultConfiguration"]["level"] in LEVELS
            score = rule["properties"].get("security-severity")
            if score is not None:  # GitHub reads it as a string holding a number 0-10
                assert isinstance(score, str)
                assert 0.0 <= float(score) <= 10.0
        for result in run["results"]:
            assert result["ruleId"] in ids
            assert ids[result["ruleIndex"]] == result["ruleId"]
            assert result["level"] in LEVELS
            assert result["message"]["text"]
            assert result["locations"], "code scanning needs at least one location"
            for location in result["locations"]:
                artifact = location["physicalLocation"]["artifactLocation"]
                uri = artifact["uri"]
                assert not re.match(r"^[a-z]+:", uri), "URIs must be repository-relative"
                assert not uri.startswith("/")
                region = location["physicalLocation"].get("region")
                if region is not None:
                    assert isinstance(region["startLine"], int)
                    assert region["startLine"] >= 1
            fingerprints = result["partialFingerprints"]
            assert fingerprints
            assert all(isinstance(v, str) for v in fingerprints.values())
            for suppression in result.get("suppressions", []):
                assert suppression["kind"] in {"inSource", "external"}
                assert suppression["status"] in {"accepted", "underReview", "rejected"}


def test_sarif_matches_golden(
    audit_reports: list[AuditReport], report_context: ReportContext
) -> None:
    check_golden("audit.sarif", render(audit_reports, report_context))


def test_sarif_essentials(audit_reports: list[AuditReport], report_context: ReportContext) -> None:
    document = json.loads(render(audit_reports, report_context))
    check_sarif_essentials(document)
    (run,) = document["runs"]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert sorted(rules) == [
        "PYSEC-2023-221",
        "PYSEC-2023-74",
        "PYSEC-2024-110",
        "PYSEC-2026-2275",
        "PYSEC-2026-2320",
    ]
    assert rules["PYSEC-2023-74"]["properties"]["security-severity"] == "5.3"
    assert "CVE-2023-32681" in rules["PYSEC-2023-74"]["properties"]["tags"]
    results = {r["ruleId"]: r for r in run["results"]}
    leak = results["PYSEC-2023-74"]
    assert leak["level"] == "warning"
    location = leak["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "examples/churn-model/uv.lock"
    assert location["region"] == {"startLine": 1296}
    assert results["PYSEC-2023-221"]["level"] == "error"  # high 7.5
    assert results["PYSEC-2024-110"]["suppressions"][0]["status"] == "accepted"
    assert "suppressions" not in leak


def test_fingerprints_ignore_the_version(
    audit_reports: list[AuditReport], report_context: ReportContext
) -> None:
    (report,) = audit_reports
    first = json.loads(render([report], report_context))
    moved = [replace(r, package=replace(r.package, version_raw="2.30.1")) for r in report.results]
    second = json.loads(render([replace(report, results=tuple(moved))], report_context))
    prints = [
        sorted(r["partialFingerprints"]["assayVulnerability/v1"] for r in doc["runs"][0]["results"])
        for doc in (first, second)
    ]
    assert prints[0] == prints[1]
