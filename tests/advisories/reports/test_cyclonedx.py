"""CycloneDX 1.6 with a vulnerabilities section, built with cyclonedx-python-lib."""

from __future__ import annotations

import json
from datetime import date

import pytest
from cyclonedx.exception import MissingOptionalDependencyException
from cyclonedx.model.bom import Bom
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from assay.advisories.audit import Auditor, AuditReport
from assay.advisories.reports import ReportContext
from assay.advisories.reports.cyclonedx import render
from assay.advisories.suppress import SuppressionPolicy, parse_vex
from assay.environments.model import Environment, Package, Source
from tests.advisories.audit_fakes import AUDIT_ASSETS, FakeSource, asset, pypa_package
from tests.advisories.reports.conftest import check_golden


def test_cyclonedx_matches_golden(
    audit_reports: list[AuditReport], report_context: ReportContext
) -> None:
    check_golden("audit.cdx.json", render(audit_reports, report_context))


def test_cyclonedx_content(audit_reports: list[AuditReport], report_context: ReportContext) -> None:
    document = json.loads(render(audit_reports, report_context))
    assert document["bomFormat"] == "CycloneDX"
    assert document["specVersion"] == "1.6"
    assert document["metadata"]["timestamp"] == "2026-04-01T12:00:00+00:00"
    assert document["metadata"]["tools"]["components"][0]["name"] == "assay"
    refs = {c["bom-ref"] for c in document["components"]}
    assert "pkg:pypi/requests@2.30.0" in refs
    assert "pkg:conda/openssl@3.0.0" in refs
    vulnerabilities = {v["id"]: v for v in document["vulnerabilities"]}
    leak = vulnerabilities["PYSEC-2023-74"]
    assert sorted(r["id"] for r in leak["references"]) == ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"]
    assert leak["ratings"][0]["score"] == 5.3
    assert leak["ratings"][0]["method"] == "CVSSv31"
    assert leak["affects"] == [
        {
            "ref": "pkg:pypi/requests@2.30.0",
            "versions": [{"status": "affected", "version": "2.30.0"}],
        }
    ]
    assert leak["recommendation"] == "upgrade requests to 2.33.0"
    assert "ignored" in vulnerabilities["PYSEC-2024-110"]["analysis"]["detail"]
    # every affects ref points at a component
    assert all(a["ref"] in refs for v in document["vulnerabilities"] for a in v["affects"])


def test_cyclonedx_reads_back_with_the_library(
    audit_reports: list[AuditReport], report_context: ReportContext
) -> None:
    bom = Bom.from_json(json.loads(render(audit_reports, report_context)))  # type: ignore[attr-defined]
    assert len(bom.components) == 6
    assert len(bom.vulnerabilities) == 5


def test_cyclonedx_validates_against_the_1_6_schema(
    audit_reports: list[AuditReport], report_context: ReportContext
) -> None:
    validator = JsonStrictValidator(SchemaVersion.V1_6)
    try:
        errors = validator.validate_str(render(audit_reports, report_context))
    except MissingOptionalDependencyException:
        pytest.skip("cyclonedx-python-lib[json-validation] (jsonschema) is not installed")
    assert errors is None


def test_vex_suppressions_become_an_analysis(report_context: ReportContext) -> None:
    statements = parse_vex("openvex.json", (AUDIT_ASSETS / "vex" / "openvex.json").read_text())
    records = [*pypa_package("requests"), asset("GHSA-j8r2-6x86-q33q.json")]
    env = Environment(Source("uv-lock", "uv.lock", "sha256:00"), (Package("requests", "2.30.0"),))
    policy = SuppressionPolicy(today=date(2026, 4, 1), vex=statements)
    report = Auditor(FakeSource(records)).audit(env, policy)
    document = json.loads(render([report], report_context))
    vulnerabilities = {v["id"]: v for v in document["vulnerabilities"]}
    analysis = vulnerabilities["PYSEC-2023-74"]["analysis"]
    assert analysis["state"] == "not_affected"
    assert analysis["justification"] == "code_not_reachable"
    assert "the service never talks through a proxy" in analysis["detail"]
    assert "analysis" not in vulnerabilities["PYSEC-2026-2275"]
