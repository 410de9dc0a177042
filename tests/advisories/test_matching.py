"""The OSV matcher on tricky cases, most taken from real PyPA records."""

from pathlib import Path

import pytest
import yaml
from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

from assay.advisories.matching import (
    _equality_key,
    fixed_versions,
    in_range,
    is_affected,
    parse_version,
    range_is_usable,
)
from assay.advisories.model import Advisory, Affected, Event, EventKind, Range
from assay.advisories.osv import parse_record

VULNS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "advisories"
VULNS = VULNS / "pypa-advisory-database" / "vulns"


def real(package: str, advisory_id: str) -> Advisory:
    path = VULNS / package / f"{advisory_id}.yaml"
    return parse_record(yaml.load(path.read_text(), Loader=yaml.CSafeLoader))


def synthetic(*events: tuple[str, str], versions: tuple[str, ...] = ()) -> Advisory:
    return Advisory(
        id="TEST-1",
        modified="2026-01-01T00:00:00Z",
        affected=(
            Affected(
                name="demo",
                ranges=(Range("ECOSYSTEM", tuple(Event(EventKind(k), v) for k, v in events)),),
                versions=versions,
            ),
        ),
    )


def test_plain_fixed_range_from_a_real_record():
    advisory = real("requests", "PYSEC-2014-13")
    assert is_affected(advisory, "requests", "2.2.1")
    assert not is_affected(advisory, "requests", "2.3.0")
    assert not is_affected(advisory, "requests", "2.31.0")
    assert fixed_versions(advisory, "requests") == ("2.3.0",)


def test_prerelease_below_the_fix_is_affected():
    # werkzeug PYSEC-2022-203: ECOSYSTEM introduced 0, fixed 2.1.1; a GIT range is ignored
    advisory = real("werkzeug", "PYSEC-2022-203")
    assert is_affected(advisory, "werkzeug", "2.1.1rc1")  # pre-release of the fix: still affected
    assert is_affected(advisory, "werkzeug", "2.1.0")
    assert not is_affected(advisory, "werkzeug", "2.1.1")
    assert not is_affected(advisory, "werkzeug", "2.1.1.post1")


def test_prerelease_fix_event_orders_by_pep440():
    advisory = synthetic(("introduced", "0"), ("fixed", "1.8.0"))
    assert is_affected(advisory, "demo", "1.8.0rc1")
    assert is_affected(advisory, "demo", "1.8.0.dev3")
    assert not is_affected(advisory, "demo", "1.8.0")
    assert not is_affected(advisory, "demo", "1.8.0.post1")


def test_local_versions_match_on_their_public_part():
    advisory = synthetic(("introduced", "2.0.0"), ("fixed", "2.1.0"), versions=("2.0.0",))
    assert is_affected(advisory, "demo", "2.0.0+cu118")
    assert is_affected(advisory, "demo", "2.0.5+cpu")
    assert not is_affected(advisory, "demo", "2.1.0+cu121")


def test_last_affected_includes_the_bound():
    advisory = synthetic(("introduced", "1.0"), ("last_affected", "1.4"))
    assert is_affected(advisory, "demo", "1.4")
    assert is_affected(advisory, "demo", "1.4.0")
    assert not is_affected(advisory, "demo", "1.4.1")
    assert not is_affected(advisory, "demo", "0.9")


def test_limit_caps_the_range():
    advisory = synthetic(("introduced", "0"), ("limit", "2.0"))
    assert is_affected(advisory, "demo", "1.9")
    assert not is_affected(advisory, "demo", "2.0")
    star = synthetic(("introduced", "1.0"), ("limit", "*"))
    assert is_affected(star, "demo", "99.0")


def test_several_introduced_fixed_pairs():
    advisory = synthetic(
        ("introduced", "1.0"), ("fixed", "1.5"), ("introduced", "2.0"), ("fixed", "2.3")
    )
    assert [is_affected(advisory, "demo", v) for v in ("0.9", "1.2", "1.7", "2.1", "2.3")] == [
        False,
        True,
        False,
        True,
        False,
    ]


def test_events_are_sorted_before_walking():
    advisory = synthetic(
        ("fixed", "2.3"), ("introduced", "2.0"), ("fixed", "1.5"), ("introduced", "1.0")
    )
    assert is_affected(advisory, "demo", "2.1")
    assert not is_affected(advisory, "demo", "1.7")


def test_range_with_an_invalid_event_is_not_used_but_versions_still_are():
    # torch PYSEC-2025-193: last_affected "2.6.0-NA" is not a PEP 440 version
    advisory = real("torch", "PYSEC-2025-193")
    range_ = advisory.affected[0].ranges[0]
    assert not range_is_usable(range_)
    version = parse_version("2.6.0")
    assert version is not None
    assert not in_range(version, range_)
    listed = synthetic(("introduced", "0"), ("last_affected", "1.0-NA"), versions=("0.9",))
    assert is_affected(listed, "demo", "0.9")
    assert not is_affected(listed, "demo", "0.95")


def test_versions_only_record():
    advisory = synthetic(versions=("3.1.7", "3.1.8"))
    assert is_affected(advisory, "demo", "3.1.7")
    assert is_affected(advisory, "demo", "3.1.7.0")  # PEP 440 equal
    assert not is_affected(advisory, "demo", "3.1.9")


def test_non_pep440_versions_compare_as_exact_strings():
    advisory = synthetic(("introduced", "0"), ("fixed", "5.0"), versions=("1.0-custom",))
    assert is_affected(advisory, "demo", "1.0-custom")
    assert not is_affected(advisory, "demo", "1.0-Custom")
    assert not is_affected(advisory, "demo", "not a version")


def test_withdrawn_records_never_match():
    advisory = real("zstd", "PYSEC-2023-121")
    assert advisory.withdrawn
    assert not is_affected(advisory, "zstd", "1.4.0")


def test_names_are_compared_in_canonical_form():
    record = yaml.load(
        (VULNS / "requests" / "PYSEC-2014-13.yaml").read_text(), Loader=yaml.CSafeLoader
    )
    record["affected"][0]["package"]["name"] = "Requests"
    advisory = parse_record(record)
    assert advisory.affected[0].name == "requests"
    assert is_affected(advisory, "requests", "2.0.0")
    assert not is_affected(advisory, "Requests", "2.0.0")  # callers pass canonical names


@pytest.mark.parametrize("version", ["0.999999998", "0.11.1", "0.10"])
def test_versions_list_and_range_agree(version):
    advisory = real("html5lib", "PYSEC-2017-15")
    assert is_affected(advisory, "html5lib", version)
    assert not is_affected(advisory, "html5lib", "0.999999999")


def test_other_packages_in_the_record_do_not_match():
    advisory = real("requests", "PYSEC-2014-13")
    assert not is_affected(advisory, "urllib3", "1.0")


def test_equality_key_agrees_with_pep440_on_every_listed_version_of_the_shared_database():
    listed = {
        str(version)
        for path in VULNS.glob("*/*.yaml")
        for entry in (yaml.load(path.read_text(), Loader=yaml.CSafeLoader).get("affected") or [])
        for version in entry.get("versions") or []
    }
    assert len(listed) > 20_000
    for text in listed:
        try:
            expected: str | None = canonicalize_version(Version(text), strip_trailing_zero=True)
        except InvalidVersion:
            expected = None
        assert _equality_key(text) == expected, text


def test_introduced_zero_covers_prereleases_of_zero():
    advisory = synthetic(("introduced", "0"), ("fixed", "1.0"))
    for version in ("0.0.0.dev0", "0a1", "0rc1", "0.dev0", "0.5"):
        assert is_affected(advisory, "demo", version), version
    assert is_affected(synthetic(("introduced", "0")), "demo", "0.0.0.dev0")


def test_listed_local_versions_match_pep440_equal_installed_versions():
    advisory = synthetic(versions=("1.0+cpu",))
    assert is_affected(advisory, "demo", "1.0+CPU")
    assert is_affected(advisory, "demo", "1.0.0+cpu")
    assert not is_affected(advisory, "demo", "1.0+cu118")


def test_events_at_one_version_do_not_depend_on_their_order():
    forward = synthetic(
        ("introduced", "0"), ("fixed", "1.0"), ("introduced", "1.0"), ("fixed", "2.0")
    )
    backward = synthetic(
        ("introduced", "1.0"), ("fixed", "2.0"), ("introduced", "0"), ("fixed", "1.0")
    )
    for version in ("0.5", "1.0", "1.5", "2.0"):
        assert is_affected(forward, "demo", version) == is_affected(backward, "demo", version)
    assert is_affected(forward, "demo", "1.0")


def test_fixed_versions_are_distinct_by_pep440_equality():
    advisory = Advisory(
        id="TEST-2",
        modified="2026-01-01T00:00:00Z",
        affected=(
            Affected(
                name="demo",
                ranges=(
                    Range(
                        "ECOSYSTEM",
                        (Event(EventKind.INTRODUCED, "0"), Event(EventKind.FIXED, "1.0")),
                    ),
                    Range(
                        "ECOSYSTEM",
                        (Event(EventKind.INTRODUCED, "0"), Event(EventKind.FIXED, "1.0.0")),
                    ),
                ),
            ),
        ),
    )
    assert fixed_versions(advisory, "demo") == ("1.0",)


def test_introduced_and_last_affected_at_one_version_is_that_version():
    for events in (
        (("introduced", "2.0"), ("last_affected", "2.0.0")),
        (("last_affected", "2.0.0"), ("introduced", "2.0")),
    ):
        advisory = synthetic(*events)
        assert is_affected(advisory, "demo", "2.0")
        assert not is_affected(advisory, "demo", "2.0.0.post1")
        assert not is_affected(advisory, "demo", "9")
