"""The policy at serve time: PolicyGovernor over the real engine, with fake fact sources."""

from __future__ import annotations

import io
import tarfile
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from packaging.utils import canonicalize_name

from assay.policy.facts import VulnerabilityFact
from assay.policy.loading import parse_policy
from assay.registry.governance import LicenseSource, PolicyGovernor
from assay.registry.licenses import StoredLicenses, license_from_metadata, metadata_in_archive
from assay.registry.model import DistributionFile, IndexConfig
from assay.registry.store import FileStore
from assay.vetting.cache import VetSummary

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
POLICY = parse_policy(
    """
[rules.vulnerabilities]
action = { sandbox = "off", default = "block" }
severity = "high"

[rules.vetting]
action = "block"
threshold = 7.0

[rules.licenses]
action = { sandbox = "warn", default = "block" }
allow = ["MIT", "Apache-2.0"]
unlisted = "block"
unknown = "block"

[rules.cooldown]
action = { sandbox = "off", default = "block" }
days = 7

[rules.denylist]
action = "block"
packages = ["evil-pkg"]

[rules.squatting]
action = "block"
""",
    "test-policy.toml",
)
PROD = IndexConfig("prod", "production", prefix="/prod")
SANDBOX = IndexConfig("sandbox", "sandbox", prefix="/sandbox")


class FakeLicenses(LicenseSource):
    def __init__(self, known: dict[str, str | None]) -> None:
        self.known = known

    def fetched(self, file):
        return file.filename in self.known

    def license_of(self, file):
        return self.known[file.filename]


def dist(name="demo", version="1.0", age_days=30, yanked: bool | str = False):
    filename = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
    return DistributionFile(
        filename=filename,
        url=f"https://upstream.invalid/{filename}",
        hashes={"sha256": "ab" * 32},
        project=canonicalize_name(name),
        version=version,
        requires_python=None,
        yanked=yanked,
        size=10,
        upload_time=NOW - timedelta(days=age_days),
        core_metadata=None,
    )


def vet(score: float) -> VetSummary:
    return VetSummary(
        name="demo",
        version="1.0",
        filename="demo-1.0-py3-none-any.whl",
        sha256="ab" * 32,
        score=score,
        label="critical" if score >= 9 else "none",
        reasons=("setup.py:3: install-time code reaches the network and runs code",)
        if score
        else (),
        engine_version="test",
        vetted_at="2026-11-25T00:00:00+00:00",
    )


def governor(licenses=None, vulns=None, names=None):
    table = vulns or {}
    return PolicyGovernor(
        POLICY,
        vulnerabilities=lambda name, version: table.get((name, version), ()),
        licenses=licenses or FakeLicenses({}),
        names=names or (lambda name: ()),
        clock=lambda: NOW,
    )


def test_a_clean_old_mit_file_is_allowed():
    file = dist()
    ruling = governor(FakeLicenses({file.filename: "MIT"})).decide(PROD, file, vet(0.0))
    assert ruling.allowed
    assert ruling.reasons == ()


def test_a_high_vulnerability_blocks_in_production_but_not_in_sandbox():
    high = VulnerabilityFact("PYSEC-2026-9", ("CVE-2026-9",), "high", 8.1, ("1.1",))
    g = governor(FakeLicenses({"demo-1.0-py3-none-any.whl": "MIT"}), {("demo", "1.0"): (high,)})
    ruling = g.decide(PROD, dist(), vet(0.0))
    assert not ruling.allowed
    assert any("PYSEC-2026-9" in r and r.startswith("vulnerabilities: ") for r in ruling.reasons)
    assert g.decide(SANDBOX, dist(), vet(0.0)).allowed


def test_cooldown_holds_a_fresh_release_and_passes_at_exactly_the_boundary():
    g = governor(FakeLicenses({"demo-1.0-py3-none-any.whl": "MIT"}))
    assert not g.decide(PROD, dist(age_days=1), vet(0.0)).allowed
    assert g.decide(PROD, dist(age_days=7), vet(0.0)).allowed


def test_license_is_pending_on_a_page_until_the_bytes_are_local():
    file = dist()
    # not fetched and not vetted: license and vetting rules wait for the download
    assert governor(FakeLicenses({})).decide(PROD, file, None).allowed
    # fetched: an unlisted license blocks, an allowed one passes
    blocked = governor(FakeLicenses({file.filename: "GPL-3.0-only"})).decide(PROD, file, vet(0.0))
    assert not blocked.allowed
    assert any(r.startswith("licenses: ") for r in blocked.reasons)
    # fetched but the metadata declares nothing: the policy's `unknown` setting applies
    assert not governor(FakeLicenses({file.filename: None})).decide(PROD, file, vet(0.0)).allowed


def test_a_fetched_file_that_was_not_vetted_is_held_fail_closed():
    file = dist()
    ruling = governor(FakeLicenses({file.filename: "MIT"})).decide(PROD, file, None)
    assert not ruling.allowed
    assert any(r.startswith("vetting: ") for r in ruling.reasons)


def test_a_risky_vetting_score_blocks_with_the_finding_in_the_reason():
    file = dist()
    ruling = governor(FakeLicenses({file.filename: "MIT"})).decide(PROD, file, vet(9.5))
    assert not ruling.allowed
    assert any(r.startswith("vetting: ") for r in ruling.reasons)


def test_denylist_and_squatting_block_before_any_download():
    assert not governor().decide(PROD, dist(name="evil-pkg"), None).allowed
    squat = governor(
        names=lambda name: ("high typosquat of 'requests'",) if name == "reqeusts" else ()
    )
    ruling = squat.decide(PROD, dist(name="reqeusts"), None)
    assert not ruling.allowed
    assert any("typosquat" in r for r in ruling.reasons)


def test_an_unknown_stage_is_refused():
    with pytest.raises(Exception, match="unknown stage"):
        governor().decide(IndexConfig("x", "qa"), dist(), None)


def _wheel(metadata: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("demo/__init__.py", "")
        archive.writestr("demo-1.0.dist-info/METADATA", metadata)
    return out.getvalue()


def _sdist(metadata: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        data = metadata.encode()
        info = tarfile.TarInfo("demo-1.0/PKG-INFO")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (
            "Metadata-Version: 2.4\nName: demo\nLicense-Expression: MIT OR Apache-2.0\n",
            "MIT OR Apache-2.0",
        ),
        ("Metadata-Version: 2.1\nName: demo\nLicense: BSD-3-Clause\n", "BSD-3-Clause"),
        (
            (
                "Metadata-Version: 2.1\nName: demo\n"
                "Classifier: License :: OSI Approved :: MIT License\n"
            ),
            "MIT",
        ),
        ("Metadata-Version: 2.1\nName: demo\n", None),
    ],
)
def test_license_from_core_metadata(metadata, expected):
    assert license_from_metadata(metadata.encode()) == expected


def test_stored_licenses_read_a_wheel_and_an_sdist_in_place(tmp_path):
    store = FileStore(tmp_path / "files")
    meta = "Metadata-Version: 2.4\nName: demo\nLicense-Expression: Apache-2.0\n"
    wheel_sha, wheel_path = store.put_bytes(_wheel(meta))
    sdist_sha, _ = store.put_bytes(_sdist(meta))
    licenses = StoredLicenses(store)
    wheel = DistributionFile(
        "demo-1.0-py3-none-any.whl",
        "u",
        {"sha256": wheel_sha},
        canonicalize_name("demo"),
        "1.0",
        None,
        False,
        1,
        NOW,
        None,
    )
    sdist = DistributionFile(
        "demo-1.0.tar.gz",
        "u",
        {"sha256": sdist_sha},
        canonicalize_name("demo"),
        "1.0",
        None,
        False,
        1,
        NOW,
        None,
    )
    missing = DistributionFile(
        "demo-2.0.tar.gz",
        "u",
        {"sha256": "cd" * 32},
        canonicalize_name("demo"),
        "2.0",
        None,
        False,
        1,
        NOW,
        None,
    )
    assert licenses.fetched(wheel)
    assert licenses.license_of(wheel) == "Apache-2.0"
    assert licenses.fetched(sdist)
    assert licenses.license_of(sdist) == "Apache-2.0"
    assert not licenses.fetched(missing)
    assert metadata_in_archive(wheel_path, "demo-1.0-py3-none-any.whl") is not None
    (tmp_path / "junk.whl").write_bytes(b"not a zip")
    assert metadata_in_archive(tmp_path / "junk.whl", "junk.whl") is None


def test_internal_uploads_skip_cooldown_and_name_checks_but_not_the_rest():
    fresh = dist(age_days=0)
    internal = DistributionFile(**{**_fields(fresh), "url": "internal:" + "ab" * 32})
    g = governor(
        FakeLicenses({fresh.filename: "MIT"}), names=lambda name: ("high typosquat of 'dem0'",)
    )
    assert not g.decide(PROD, fresh, vet(0.0)).allowed
    assert g.decide(PROD, internal, vet(0.0)).allowed
    assert not g.decide(PROD, internal, vet(9.5)).allowed


def _fields(file):
    return {name: getattr(file, name) for name in DistributionFile.__dataclass_fields__}
