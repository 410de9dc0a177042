"""Suppressions: --ignore, the ignore file, OpenVEX and CycloneDX VEX."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assay.advisories.audit import Auditor, AuditReport
from assay.advisories.suppress import (
    SuppressionError,
    SuppressionPolicy,
    command_line_ignores,
    parse_ignore_file,
    parse_vex,
)
from assay.advisories.vex import VexError, pypi_product
from assay.environments.model import Environment, Package, Source
from tests.advisories.audit_fakes import AUDIT_ASSETS, FakeSource, asset, pypa_package

IGNORE = AUDIT_ASSETS / "ignore"
VEX = AUDIT_ASSETS / "vex"
TODAY = date(2026, 4, 1)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def run(policy: SuppressionPolicy, *packages: Package) -> AuditReport:
    records = [
        *pypa_package("requests"),
        *pypa_package("aiohttp"),
        asset("GHSA-j8r2-6x86-q33q.json"),
    ]
    env = Environment(Source("uv-lock", "uv.lock", "sha256:00"), packages)
    return Auditor(FakeSource(records)).audit(env, policy)


REQUESTS = Package("requests", "2.30.0")


def ids_of(report: AuditReport) -> list[str]:
    return [f.id for f in report.findings]


def test_ignore_on_the_command_line_matches_any_alias() -> None:
    policy = SuppressionPolicy(today=TODAY, ignores=command_line_ignores(["cve-2023-32681"]))
    report = run(policy, REQUESTS)
    assert ids_of(report) == ["PYSEC-2026-2275"]
    (item,) = report.suppressed
    assert item.finding.id == "PYSEC-2023-74"
    assert (item.kind, item.origin, item.matched_id) == ("ignore", "--ignore", "cve-2023-32681")
    # the smallest fix is recomputed for what is left
    assert report.results[0].fix == "2.33.0"


def test_ignoring_every_finding_of_a_package_removes_it_from_results() -> None:
    policy = SuppressionPolicy(
        today=TODAY, ignores=command_line_ignores(["GHSA-j8r2-6x86-q33q", "CVE-2026-25645"])
    )
    report = run(policy, REQUESTS)
    assert report.results == ()
    assert len(report.suppressed) == 2
    assert report.failing(None) == ()


def test_ignore_file_entries_apply_until_they_expire() -> None:
    entries = parse_ignore_file("ignore.toml", read(IGNORE / "valid.toml"))
    assert [(e.id, e.expires, e.origin, e.package) for e in entries] == [
        ("CVE-2023-32681", date(2027, 6, 30), "ignore.toml:3", None),
        ("PYSEC-2026-2275", date(2025, 12, 31), "ignore.toml:8", "requests"),
        ("GHSA-gfw2-4jvh-wgfg", date(2026, 6, 1), "ignore.toml:14", None),
    ]
    policy = SuppressionPolicy(today=TODAY, ignores=entries)
    report = run(policy, REQUESTS, Package("aiohttp", "3.8.5"))
    suppressed = {s.finding.id: s for s in report.suppressed}
    assert sorted(suppressed) == ["PYSEC-2023-246", "PYSEC-2023-74"]
    assert suppressed["PYSEC-2023-74"].reason == "no proxies are configured in production"
    assert suppressed["PYSEC-2023-74"].kind == "ignore-file"
    assert "PYSEC-2026-2275" in ids_of(report)  # expired on 2025-12-31: reported again
    (expired,) = report.expired_ignores
    assert (expired.id, expired.expires, expired.origin) == (
        "PYSEC-2026-2275",
        "2025-12-31",
        "ignore.toml:8",
    )
    assert expired.matched == ("requests 2.30.0 PYSEC-2026-2275",)


def test_an_entry_applies_on_its_expiry_day_and_not_after() -> None:
    entries = parse_ignore_file("i.toml", read(IGNORE / "valid.toml"))
    on_the_day = SuppressionPolicy(today=date(2025, 12, 31), ignores=entries)
    assert "PYSEC-2026-2275" not in ids_of(run(on_the_day, REQUESTS))
    day_after = SuppressionPolicy(today=date(2026, 1, 1), ignores=entries)
    assert "PYSEC-2026-2275" in ids_of(run(day_after, REQUESTS))


def test_a_package_scoped_entry_does_not_apply_to_other_packages() -> None:
    text = (
        '[[ignore]]\nid = "CVE-2023-32681"\nreason = "r"\nexpires = 2030-01-01\npackage = "Flask"\n'
    )
    policy = SuppressionPolicy(today=TODAY, ignores=parse_ignore_file("i.toml", text))
    assert "PYSEC-2023-74" in ids_of(run(policy, REQUESTS))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "missing-reason.toml",
            "missing-reason.toml:6: ignore entry 2: missing required key 'reason'",
        ),
        ("bad-date.toml", "bad-date.toml:4: 'expires' must be a date such as 2026-12-31"),
        ("unknown-key.toml", "unknown-key.toml:5: ignore entry 1: unknown key 'severity'"),
        ("invalid-toml.toml", "invalid-toml.toml:3: invalid TOML"),
    ],
)
def test_malformed_ignore_files_name_the_file_and_line(name: str, message: str) -> None:
    with pytest.raises(SuppressionError) as caught:
        parse_ignore_file(name, read(IGNORE / name))
    assert str(caught.value).startswith(message)
    assert caught.value.exit_code == 3


def test_ignore_file_rejects_other_shapes() -> None:
    with pytest.raises(SuppressionError, match="unknown top-level key 'ignores'"):
        parse_ignore_file("i.toml", '[[ignores]]\nid = "x"\n')
    with pytest.raises(SuppressionError, match="'id' must be a non-empty string"):
        parse_ignore_file("i.toml", '[[ignore]]\nid = ""\nreason = "r"\nexpires = 2030-01-01\n')
    with pytest.raises(SuppressionError, match=r"i\.toml:1: ignore entry 1: missing required"):
        parse_ignore_file("i.toml", '[[ignore]]\nid = "x"\nreason = "r"\n')
    assert parse_ignore_file("i.toml", "# nothing ignored\n") == ()


def test_openvex_not_affected_suppresses_with_its_justification() -> None:
    statements = parse_vex("openvex.json", read(VEX / "openvex.json"))
    assert len(statements) == 5
    policy = SuppressionPolicy(today=TODAY, vex=statements)
    report = run(policy, REQUESTS, Package("requests", "2.31.0"))
    (item,) = report.suppressed
    assert item.finding.id == "PYSEC-2023-74"
    assert item.finding.package.version_raw == "2.30.0"
    assert item.kind == "vex"
    assert item.reason == (
        "not_affected: vulnerable_code_not_in_execute_path "
        "(the service never talks through a proxy)"
    )
    assert item.origin == "openvex.json statements[0]"
    assert (item.status, item.justification) == (
        "not_affected",
        "vulnerable_code_not_in_execute_path",
    )
    # PYSEC-2026-2275 (CVE-2026-25645): a later under_investigation statement wins
    assert sorted((f.package.version_raw, f.id) for f in report.findings) == [
        ("2.30.0", "PYSEC-2026-2275"),
        ("2.31.0", "PYSEC-2026-2275"),
    ]


def test_openvex_statement_order_decides_without_timestamps() -> None:
    text = read(VEX / "openvex.json").replace('"timestamp": "2026-03-05T09:00:00Z"', '"x": 1')
    policy = SuppressionPolicy(today=TODAY, vex=parse_vex("v.json", text))
    # both statements now carry the document's timestamp: the later in the file wins
    assert "PYSEC-2026-2275" in ids_of(run(policy, REQUESTS))


def test_cyclonedx_vex_suppresses_by_bom_ref_and_purl() -> None:
    statements = parse_vex("cdx.json", read(VEX / "cyclonedx-vex.json"))
    policy = SuppressionPolicy(today=TODAY, vex=statements)
    report = run(policy, REQUESTS, Package("aiohttp", "3.8.5"))
    suppressed = {s.finding.id: s for s in report.suppressed}
    assert sorted(suppressed) == ["PYSEC-2023-246", "PYSEC-2023-74"]
    assert suppressed["PYSEC-2023-74"].reason == (
        "not_affected: code_not_reachable (proxies are never configured)"
    )
    assert suppressed["PYSEC-2023-246"].reason == "false_positive"
    remaining = ids_of(report)
    assert "PYSEC-2026-2275" in remaining  # exploitable: stays
    assert "PYSEC-2023-250" in remaining  # a vers: range is not evaluated, so never matches


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1]", "must be a JSON object"),
        ("{", "v.json:1: invalid JSON"),
        ('{"statements": []}', "not an OpenVEX"),
        (
            (
                '{"@context": "https://openvex.dev/ns/v0.2.0", "statements": '
                '[{"vulnerability": {"name": "X"}, "status": "fine"}]}'
            ),
            "statements[0].status: unknown status 'fine'",
        ),
        (
            (
                '{"bomFormat": "CycloneDX", "vulnerabilities": '
                '[{"id": "X", "analysis": {"state": "ok"}}]}'
            ),
            "vulnerabilities[0].analysis.state: unknown state 'ok'",
        ),
        (
            '{"bomFormat": "CycloneDX", "vulnerabilities": [{"analysis": {}}]}',
            "vulnerabilities[0].id must be a non-empty string",
        ),
    ],
)
def test_malformed_vex_is_refused(text: str, message: str) -> None:
    with pytest.raises(VexError) as caught:
        parse_vex("v.json", text)
    assert message in str(caught.value)
    assert caught.value.exit_code == 3


def test_openvex_not_affected_needs_a_justification() -> None:
    with pytest.raises(VexError, match="needs a justification or an impact_statement"):
        parse_vex("bad.json", read(VEX / "bad-status.json"))


def test_products_are_pypi_purls_with_or_without_version() -> None:
    product = pypi_product("pkg:pypi/Requests_Toolbelt@1.0.0")
    assert product is not None
    assert (product.name, product.version) == ("requests-toolbelt", "1.0.0")
    assert product.matches("requests-toolbelt", "1.0")  # equal as PEP 440 versions
    assert not product.matches("requests-toolbelt", "1.0.1")
    assert pypi_product("pkg:npm/requests@1.0.0") is None
    assert pypi_product("requests") is None
    unversioned = pypi_product("pkg:pypi/requests")
    assert unversioned is not None
    assert unversioned.matches("requests", "0.1")
