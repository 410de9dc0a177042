"""The audit core: alias groups, severity, smallest fix, packages that cannot be audited."""

from __future__ import annotations

import random

import pytest

from assay.advisories.audit import (
    NOT_AUDITED_CONDA,
    NOT_AUDITED_UNPINNED,
    Auditor,
    AuditReport,
    id_sort_key,
)
from assay.advisories.model import Advisory
from assay.advisories.osv import parse_record
from assay.advisories.severity import Level, advisory_severity
from assay.environments.model import Ecosystem, Environment, Package, Source
from tests.advisories.audit_fakes import FakeSource, asset, pypa, pypa_package, record

SOURCE = Source("uv-lock", "uv.lock", "sha256:00")
HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"  # 7.5
CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
LOW = "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"  # 1.8


def audit(records: list[Advisory], *packages: Package) -> AuditReport:
    return Auditor(FakeSource(records)).audit(Environment(SOURCE, packages))


def requests_records() -> list[Advisory]:
    return [*pypa_package("requests"), asset("GHSA-j8r2-6x86-q33q.json")]


def test_records_sharing_an_id_are_one_finding_with_every_id() -> None:
    report = audit(requests_records(), Package("requests", "2.30.0"))
    (result,) = report.results
    by_id = {f.id: f for f in result.findings}
    assert sorted(by_id) == ["PYSEC-2023-74", "PYSEC-2026-2275"]
    leak = by_id["PYSEC-2023-74"]
    assert leak.ids == ("PYSEC-2023-74", "GHSA-j8r2-6x86-q33q", "CVE-2023-32681")
    assert leak.aliases == ("CVE-2023-32681",)
    assert [r.id for r in leak.records] == ["PYSEC-2023-74", "GHSA-j8r2-6x86-q33q"]
    # the PYSEC record has no summary of its own: the GHSA record's is used
    assert leak.summary == "Unintended leak of Proxy-Authorization header in requests"
    assert leak.fixed_versions == ("2.31.0",)


def test_primary_id_does_not_depend_on_record_order() -> None:
    records = requests_records()
    seen = set()
    for seed in range(5):
        random.Random(seed).shuffle(records)
        report = audit(list(records), Package("requests", "2.30.0"))
        seen.add(tuple(f.ids for f in report.findings))
    assert len(seen) == 1


def test_alias_groups_are_transitive() -> None:
    events = [{"introduced": "0"}, {"fixed": "2.0"}]
    records = [
        record("PYSEC-1", "demo", events, aliases=["CVE-2020-1"]),
        record("GHSA-aaaa-bbbb-cccc", "demo", events, aliases=["CVE-2020-1", "CVE-2020-2"]),
        record("OSV-2020-9", "demo", events, aliases=["CVE-2020-2"]),
        record("PYSEC-2", "demo", events, aliases=["CVE-2021-7"]),
    ]
    report = audit(records, Package("demo", "1.0"))
    ids = sorted(f.ids for f in report.findings)
    assert ids == [
        ("PYSEC-1", "GHSA-aaaa-bbbb-cccc", "OSV-2020-9", "CVE-2020-1", "CVE-2020-2"),
        ("PYSEC-2", "CVE-2021-7"),
    ]


def test_id_rank_prefers_pysec_then_ghsa_then_others_then_cve() -> None:
    ids = ["CVE-2020-1", "OSV-2020-1", "GHSA-x", "PYSEC-2020-10", "PYSEC-2020-9"]
    assert sorted(ids, key=id_sort_key) == [
        "PYSEC-2020-9",
        "PYSEC-2020-10",
        "GHSA-x",
        "OSV-2020-1",
        "CVE-2020-1",
    ]


def test_group_severity_is_the_highest_of_its_records() -> None:
    ghsa = asset("GHSA-j8r2-6x86-q33q.json")
    report = audit(requests_records(), Package("requests", "2.30.0"))
    leak = next(f for f in report.findings if f.id == "PYSEC-2023-74")
    assert advisory_severity(pypa("requests", "PYSEC-2023-74")).level is Level.UNKNOWN
    assert leak.severity == advisory_severity(ghsa)
    assert leak.severity.level is Level.MEDIUM
    assert leak.severity.score == 5.3
    events = [{"introduced": "0"}]
    mixed = [
        record("PYSEC-1", "demo", events, aliases=["CVE-1"], vector=LOW),
        record("GHSA-1", "demo", events, aliases=["CVE-1"], vector=CRITICAL),
        record("OSV-1", "demo", events, aliases=["CVE-1"]),
    ]
    (finding,) = audit(mixed, Package("demo", "1.0")).findings
    assert finding.severity.level is Level.CRITICAL
    assert finding.severity.score == 9.8


def test_a_finding_without_any_vector_says_so() -> None:
    (finding,) = audit([pypa("pillow", "PYSEC-2023-175")], Package("pillow", "10.0.0")).findings
    assert finding.severity.level is Level.UNKNOWN
    assert "no CVSS vector" in finding.severity.describe()


def test_smallest_fix_clears_every_finding_of_the_package() -> None:
    report = audit(requests_records(), Package("requests", "2.30.0"))
    assert report.results[0].fix == "2.33.0"
    werkzeug = audit(pypa_package("werkzeug"), Package("werkzeug", "2.3.6"))
    (result,) = werkzeug.results
    assert {f.id: f.upgrades for f in result.findings} == {
        "PYSEC-2023-221": ("2.3.8", "3.0.1"),
        "PYSEC-2026-2320": ("3.1.6",),
    }
    assert result.fix == "3.1.6"


def test_smallest_fix_uses_fixed_versions_of_other_records() -> None:
    # PYSEC-2026-2290 ends with last_affected 5.2.0: no fix of its own, but 5.3.0
    # (the fix of PYSEC-2026-2289) is outside every range.
    (result,) = audit(pypa_package("transformers"), Package("transformers", "5.2.0")).results
    assert {f.id: f.upgrades for f in result.findings} == {
        "PYSEC-2026-2289": ("5.3.0",),
        "PYSEC-2026-2290": (),
    }
    assert result.fix == "5.3.0"


def test_smallest_fix_avoids_versions_hit_by_other_advisories() -> None:
    finding = record("PYSEC-1", "demo", [{"introduced": "0"}, {"fixed": "1.1"}])
    later = record("PYSEC-2", "demo", [{"introduced": "1.1"}, {"fixed": "1.2"}])
    (result,) = audit([finding, later], Package("demo", "1.0")).results
    assert [f.id for f in result.findings] == ["PYSEC-1"]
    assert result.fix == "1.2"
    unfixed = record("PYSEC-3", "demo", [{"introduced": "1.1"}])
    (result,) = audit([finding, unfixed], Package("demo", "1.0")).results
    assert result.fix == "1.1"  # nothing is clean: the lowest that clears the findings
    second = record("PYSEC-4", "demo", [{"introduced": "0"}, {"fixed": "1.3"}])
    from_1_3 = record("PYSEC-5", "demo", [{"introduced": "1.3"}])
    (result,) = audit([finding, second, from_1_3], Package("demo", "1.0")).results
    assert [f.id for f in result.findings] == ["PYSEC-1", "PYSEC-4"]
    assert result.fix == "1.3"  # 1.1 leaves PYSEC-4; 1.3 clears both though PYSEC-5 hits it


def test_no_fix_when_the_database_knows_none() -> None:
    open_ended = record("PYSEC-1", "demo", [{"introduced": "0"}, {"last_affected": "3.0"}])
    (result,) = audit([open_ended], Package("demo", "2.0")).results
    assert result.findings[0].fixed_versions == ()
    assert result.fix is None


def test_unpinned_and_conda_packages_are_reported_not_audited() -> None:
    source = FakeSource(requests_records())
    env = Environment(
        SOURCE,
        (
            Package("requests", "2.30.0"),
            Package("numpy", None, specifier=">=1.24"),
            Package("openssl", "3.0.0", ecosystem=Ecosystem.CONDA),
        ),
    )
    report = Auditor(source).audit(env)
    assert report.package_count == 3
    assert report.audited_count == 1
    reasons = {n.package.name: n.reason for n in report.not_audited}
    assert reasons == {"numpy": NOT_AUDITED_UNPINNED, "openssl": NOT_AUDITED_CONDA}
    described = {n.package.name: n.describe() for n in report.not_audited}
    assert described["numpy"] == "unpinned (>=1.24)"
    assert "conda" in described["openssl"]
    assert source.queries == ["requests"]


def test_names_are_normalised_and_repeated_pins_audited_once() -> None:
    source = FakeSource(requests_records())
    env = Environment(
        SOURCE,
        (
            Package("Requests", "2.30.0", platform="linux"),
            Package("requests", "2.30.0", platform="win32"),
        ),
    )
    report = Auditor(source).audit(env)
    assert len(report.results) == 1
    assert len(report.findings) == 2
    assert source.queries == ["requests"]


def test_withdrawn_records_and_unaffected_versions_give_no_finding() -> None:
    assert pypa("py", "PYSEC-2022-42969").withdrawn
    report = audit(pypa_package("py"), Package("py", "1.11.0"))
    assert report.findings == ()
    assert audit(requests_records(), Package("requests", "2.33.0")).results == ()


def test_a_non_pep440_version_matches_only_listed_strings_and_has_no_fix() -> None:
    ranged = record("PYSEC-1", "demo", [{"introduced": "0"}, {"fixed": "2.0"}])
    listed = parse_record(
        {
            "id": "PYSEC-2",
            "modified": "2026-01-01T00:00:00Z",
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "demo"},
                    "versions": ["1.0-custom"],
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}
                    ],
                }
            ],
        }
    )
    report = audit([ranged, listed], Package("demo", "1.0-custom"))
    (result,) = report.results
    assert [f.id for f in result.findings] == ["PYSEC-2"]
    assert result.findings[0].upgrades == ("2.0",)
    assert result.fix is None  # no order is defined above a version that is not PEP 440


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [(None, 2), (Level.LOW, 2), (Level.MEDIUM, 2), (Level.HIGH, 0), (Level.CRITICAL, 0)],
)
def test_failing_respects_the_threshold(threshold: Level | None, expected: int) -> None:
    report = audit(requests_records(), Package("requests", "2.30.0"))
    assert len(report.failing(threshold)) == expected


@pytest.mark.parametrize("threshold", [None, Level.LOW, Level.HIGH, Level.CRITICAL])
def test_unknown_severity_fails_every_threshold(threshold: Level | None) -> None:
    unscored = record("PYSEC-9", "demo", [{"introduced": "0"}, {"fixed": "2.0"}])
    report = audit([unscored], Package("demo", "1.0"))
    assert [f.id for f in report.failing(threshold)] == ["PYSEC-9"]


def test_finding_upgrades_clear_every_record_of_the_alias_group() -> None:
    early = record("T-5", "pkgc", [{"introduced": "0"}, {"fixed": "1.0"}], aliases=["CVE-9"])
    late = record("T-6", "pkgc", [{"introduced": "0"}, {"fixed": "1.1"}], aliases=["CVE-9"])
    report = audit([early, late], Package("pkgc", "0.5"))
    (result,) = report.results
    (finding,) = result.findings
    assert finding.upgrades == ("1.1",)
    assert result.fix == "1.1"
