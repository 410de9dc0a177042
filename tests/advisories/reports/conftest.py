"""One fixed audit that every report format renders, compared with golden files."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from assay.advisories.audit import Auditor, AuditReport
from assay.advisories.reports import ReportContext, SourceLocation
from assay.advisories.suppress import SuppressionPolicy, command_line_ignores, parse_ignore_file
from assay.environments.model import Ecosystem, Environment, Package, Source
from tests.advisories.audit_fakes import AUDIT_ASSETS, FakeSource, asset, pypa_package

GOLDEN = AUDIT_ASSETS / "golden"

EXPIRED = """\
[[ignore]]
id = "CVE-2026-27199"
reason = "waiting for the 3.x migration"
expires = 2026-01-31
"""


@pytest.fixture(scope="session")
def audit_reports() -> list[AuditReport]:
    records = [
        *pypa_package("requests"),
        *pypa_package("werkzeug"),
        *pypa_package("scikit-learn"),
        asset("GHSA-j8r2-6x86-q33q.json"),
    ]
    env = Environment(
        Source("uv-lock", "examples/churn-model/uv.lock", "sha256:" + "ab" * 32),
        (
            Package("requests", "2.30.0"),
            Package("werkzeug", "2.3.6"),
            Package("scikit-learn", "1.3.0"),
            Package("flask", "3.1.3"),
            Package("numpy", None, specifier=">=1.24"),
            Package("openssl", "3.0.0", ecosystem=Ecosystem.CONDA),
        ),
    )
    policy = SuppressionPolicy(
        today=date(2026, 4, 1),
        ignores=[
            *command_line_ignores(["CVE-2024-5206"]),
            *parse_ignore_file("audit-ignore.toml", EXPIRED),
        ],
    )
    return [Auditor(FakeSource(records)).audit(env, policy)]


@pytest.fixture(scope="session")
def report_context() -> ReportContext:
    return ReportContext(
        tool_version="0.1.0",
        generated_at=datetime(2026, 4, 1, 12, 0, tzinfo=UTC),
        locations={
            "examples/churn-model/uv.lock": SourceLocation(
                uri="examples/churn-model/uv.lock",
                lines={"requests": 1296, "werkzeug": 1720},
            )
        },
    )


def check_golden(name: str, text: str) -> None:
    """Compare with tests/assets/audit/golden/NAME; ASSAY_UPDATE_GOLDEN=1 rewrites it."""
    path: Path = GOLDEN / name
    if os.environ.get("ASSAY_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}; run with ASSAY_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")
