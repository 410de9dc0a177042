"""Fact gathering over fake ports, the real advisory database, and the PEP 691 adapter."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from assay.advisories.store import AdvisoryDatabase
from assay.environments.model import (
    Ecosystem,
    Environment,
    Hash,
    HashSource,
    License,
    Origin,
    OriginKind,
    Package,
    Source,
)
from assay.environments.readers import read_environment
from assay.policy.fact_sources import (
    IndexUnavailableError,
    IndexUnreachableError,
    Missing,
    ProjectMetadataSource,
    ProjectReleases,
    ReleaseInfo,
    VetResult,
    VetResultSource,
)
from assay.policy.gathering import INDEX_FACTS, FactGatherer, GatheredFacts
from assay.policy.index_facts import IndexProjects, project_releases
from assay.vetting.names import NameIndex, PopularPackages
from tests.support import REPO

T1 = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
T2 = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
SHA = "a" * 64
OFF = Missing("--offline")


class FakeIndex(ProjectMetadataSource):
    def __init__(self, projects: dict[str, ProjectReleases | Exception | None]) -> None:
        self.projects = projects
        self.asked: list[str] = []
        self._lock = threading.Lock()

    def releases(self, name: str) -> ProjectReleases | None:
        with self._lock:
            self.asked.append(name)
        found = self.projects.get(name)
        if isinstance(found, Exception):
            raise found
        return found


class FakeVet(VetResultSource):
    def __init__(self, by_hash: dict[str, VetResult], by_release: dict[str, VetResult]) -> None:
        self.by_hash, self.by_release = by_hash, by_release

    def lookup(self, name: str, version: str, sha256s: Sequence[str]) -> VetResult | None:
        for digest in sha256s:
            if digest in self.by_hash:
                return self.by_hash[digest]
        return self.by_release.get(f"{name}=={version}")


def env(*packages: Package) -> Environment:
    return Environment(source=Source("test", "test", "sha256:0"), packages=packages)


def pkg(name: str, version: str | None = "1.0", **fields: object) -> Package:
    return Package(name=name, version_raw=version, **fields)  # type: ignore[arg-type]


def gatherer(
    advisories: object = None, index: object = OFF, vet: object = None, names: object = None
) -> FactGatherer:
    return FactGatherer(
        advisories=advisories if advisories is not None else Missing("no advisory database"),  # type: ignore[arg-type]
        index=index,  # type: ignore[arg-type]
        vet=vet if vet is not None else Missing("no vet cache"),  # type: ignore[arg-type]
        names=names if names is not None else Missing("no popular list"),  # type: ignore[arg-type]
        workers=1,
    )


def causes(gathered: GatheredFacts, fact: str) -> dict[str, tuple[str, ...]]:
    return {u.cause: u.packages for u in gathered.unavailable_for(fact)}


def test_environment_facts_license_pins_hashes_direct() -> None:
    gathered = gatherer().gather(
        env(
            pkg(
                "Demo_Pkg",
                hashes=(Hash("sha256", SHA),),
                hash_source=HashSource.LOCK,
                requested=True,
                license=License(raw="MIT", spdx="MIT"),
            ),
            pkg("loose", None, specifier=">=1", license=License(raw="Some custom terms")),
            pkg("installed", "2.0", hashes=(Hash("sha256", SHA),), hash_source=HashSource.RECORD),
        )
    )
    facts = {str(f.name): f for f in gathered.packages}
    demo = facts["demo-pkg"]
    assert (demo.version, demo.license_expression, demo.pinned, demo.hashed, demo.direct) == (
        "1.0",
        "MIT",
        True,
        True,
        True,
    )
    assert facts["loose"].pinned is False
    assert facts["loose"].version is None
    assert facts["installed"].hashed is False  # a RECORD hash is not an archive hash
    assert facts["installed"].direct is None
    licenses = causes(gathered, "license_expression")
    assert licenses == {
        "the declared license is not an SPDX expression": ("loose (unpinned)",),
        "the source records no license": ("installed==2.0",),
    }


def test_one_facts_entry_per_name_and_version_across_platforms() -> None:
    gathered = gatherer().gather(
        env(
            pkg(
                "numpy",
                "2.0",
                platform="linux",
                hashes=(Hash("sha256", SHA),),
                hash_source=HashSource.LOCK,
            ),
            pkg("numpy", "2.0", platform="win", requested=False),
        )
    )
    assert len(gathered.packages) == 1
    assert gathered.packages[0].hashed is False  # one platform's entry has no hash


def test_missing_sources_leave_facts_none_and_say_why() -> None:
    gathered = gatherer().gather(env(pkg("demo")))
    facts = gathered.packages[0]
    assert facts.vulnerabilities is None
    assert facts.vet_score is None
    assert facts.squat_findings is None
    assert facts.release_time is None
    assert facts.yanked is None
    assert causes(gathered, "vulnerabilities") == {"no advisory database": ("demo==1.0",)}
    assert causes(gathered, "vet_score") == {"no vet cache": ("demo==1.0",)}
    assert causes(gathered, "squat_findings") == {"no popular list": ("demo==1.0",)}
    for fact in INDEX_FACTS:
        assert causes(gathered, fact) == {"--offline": ("demo==1.0",)}


def test_vulnerabilities_from_the_advisory_database(shared_advisory_db: Path) -> None:
    environment = read_environment(REPO / "examples" / "churn-model" / "uv.lock")
    with AdvisoryDatabase(shared_advisory_db) as database:
        gathered = gatherer(advisories=database).gather(environment)
    facts = {str(f.name): f for f in gathered.packages}
    aiohttp = facts["aiohttp"].vulnerabilities
    assert aiohttp is not None
    assert len(aiohttp) > 5
    first = next(v for v in aiohttp if v.id == "PYSEC-2023-246")
    assert (first.severity, first.score, first.fixed_versions[:1]) == ("high", 7.5, ("3.8.6",))
    assert first.aliases  # the CVE / GHSA ids of the same vulnerability
    assert facts["click"].vulnerabilities == ()  # looked, found nothing
    assert not gathered.unavailable_for("vulnerabilities")


def test_conda_and_unpinned_packages_are_not_audited(shared_advisory_db: Path) -> None:
    with AdvisoryDatabase(shared_advisory_db) as database:
        gathered = gatherer(advisories=database).gather(
            env(pkg("numpy", "1.0", ecosystem=Ecosystem.CONDA), pkg("flask", None))
        )
    assert all(f.vulnerabilities is None for f in gathered.packages)
    assert set(causes(gathered, "vulnerabilities")) == {
        "conda package (not in the PyPI ecosystem)",
        "unpinned (no exact version)",
    }


def releases() -> ProjectReleases:
    return ProjectReleases.of(
        "demo",
        [
            ReleaseInfo("1.0", T1, yanked=False),
            ReleaseInfo("1.1", T2, yanked=True, yanked_reason="broken build"),
        ],
        status="archived",
    )


def test_index_facts_release_time_yank_status_latest() -> None:
    index = FakeIndex({"demo": releases(), "gone": None})
    gathered = gatherer(index=index).gather(
        env(
            pkg("demo", "1.0"),
            pkg("demo", "1.1.0", platform="x"),
            pkg("gone", "3"),
            pkg("demo2", "1"),
        )
    )
    facts = {(str(f.name), f.version): f for f in gathered.packages}
    old, yanked = facts[("demo", "1.0")], facts[("demo", "1.1.0")]
    assert (old.release_time, old.yanked, old.project_status) == (T1, False, "archived")
    assert old.latest_release_time == T1  # the newest release that is not yanked
    assert (yanked.release_time, yanked.yanked, yanked.yanked_reason) == (T2, True, "broken build")
    assert causes(gathered, "release_time") == {
        "not on the configured package index": ("demo2==1", "gone==3"),
    }
    assert sorted(index.asked) == ["demo", "demo2", "gone"]  # each project asked once


def test_packages_not_from_an_index_are_not_asked() -> None:
    index = FakeIndex({})
    gathered = gatherer(index=index).gather(
        env(
            pkg("local", "0.1", origin=Origin(OriginKind.DIRECTORY, path=".")),
            pkg("conda-thing", "1", ecosystem=Ecosystem.CONDA),
        )
    )
    assert index.asked == []
    assert set(causes(gathered, "yanked")) == {
        "installed from local, not from the package index",
        "conda package (not in the PyPI ecosystem)",
    }


def test_an_unreachable_index_stops_the_asking() -> None:
    index = FakeIndex({"a": IndexUnreachableError("cannot reach the package index: refused")})
    gathered = gatherer(index=index).gather(env(pkg("a"), pkg("b"), pkg("c")))
    assert index.asked == ["a"]  # one worker: nothing asked after the failure
    assert causes(gathered, "release_time") == {
        "cannot reach the package index: refused": ("a==1.0", "b==1.0", "c==1.0")
    }


def test_one_failing_project_does_not_stop_the_others() -> None:
    index = FakeIndex({"a": IndexUnavailableError("a: HTTP 500"), "b": releases()})
    gathered = gatherer(index=index).gather(env(pkg("a"), pkg("b")))
    assert sorted(index.asked) == ["a", "b"]
    assert causes(gathered, "project_status") == {"a: HTTP 500": ("a==1.0",)}


def test_vet_results_by_hash_then_by_release() -> None:
    vet = FakeVet(
        {SHA: VetResult(8.5, "high", ("runs code at install",))},
        {"plain==2.0": VetResult(1.0, "low")},
    )
    gathered = gatherer(vet=vet).gather(
        env(
            pkg("hashed", hashes=(Hash("sha256", SHA),), hash_source=HashSource.LOCK),
            pkg("plain", "2.0"),
            pkg("unknown", "1"),
        )
    )
    facts = {str(f.name): f for f in gathered.packages}
    assert (facts["hashed"].vet_score, facts["hashed"].vet_reasons) == (
        8.5,
        ("runs code at install",),
    )
    assert facts["plain"].vet_label == "low"
    assert causes(gathered, "vet_score") == {
        "not vetted: no cached 'assay vet' result": ("unknown==1",)
    }


def test_squat_findings_from_the_popular_list() -> None:
    popular = PopularPackages(names=("requests", "numpy"), downloads=(10**9, 10**9))
    gathered = gatherer(names=NameIndex.build(popular)).gather(env(pkg("reqeusts"), pkg("numpy")))
    facts = {str(f.name): f for f in gathered.packages}
    assert facts["numpy"].squat_findings == ()
    found = facts["reqeusts"].squat_findings
    assert found
    assert "requests" in found[0]


# -- the PEP 691 adapter ---------------------------------------------------------------------

PAGE = {
    "meta": {"api-version": "1.4"},
    "name": "demo",
    "project-status": {"status": "quarantined", "reason": "under review"},
    "files": [
        {
            "filename": "demo-1.0.tar.gz",
            "url": "x",
            "hashes": {},
            "upload-time": "2026-01-10T09:00:00Z",
        },
        {
            "filename": "demo-1.0-py3-none-any.whl",
            "url": "x",
            "hashes": {},
            "upload-time": "2026-01-10T08:00:00.123Z",
        },
        {
            "filename": "demo-2.0-py3-none-any.whl",
            "url": "x",
            "hashes": {},
            "upload-time": "2026-05-01T09:30:00Z",
            "yanked": "broken",
        },
        {
            "filename": "demo-2.0.tar.gz",
            "url": "x",
            "hashes": {},
            "upload-time": "2026-05-01T09:40:00Z",
            "yanked": True,
        },
        {
            "filename": "demo-3.0.tar.gz",
            "url": "x",
            "hashes": {},
            "upload-time": "2026-06-01T00:00:00Z",
            "yanked": "half",
        },
        {
            "filename": "demo-3.0-py3-none-any.whl",
            "url": "x",
            "hashes": {},
            "upload-time": "2026-06-01T00:00:00Z",
        },
        {"filename": "other-9.0.tar.gz", "url": "x", "hashes": {}},
    ],
}


def test_project_releases_from_a_pep_691_page() -> None:
    found = project_releases("Demo", PAGE)
    assert (found.status, found.status_reason) == ("quarantined", "under review")
    one = found.release("1.0")
    assert one is not None
    assert one.upload_time == datetime(2026, 1, 10, 8, 0, 0, 123000, tzinfo=UTC)  # earliest file
    two, three = found.release("2"), found.release("3.0.0")
    assert two is not None
    assert (two.yanked, two.yanked_reason) == (True, "broken")
    assert three is not None
    assert three.yanked is False
    assert sorted(r.version for r in found.releases.values()) == ["1.0", "2.0", "3.0"]
    assert found.latest_upload == datetime(2026, 6, 1, tzinfo=UTC)
    assert project_releases("demo", {"files": []}).status == "active"


def test_a_page_without_files_is_unavailable() -> None:
    with pytest.raises(IndexUnavailableError, match="PEP 691"):
        project_releases("demo", {"name": "demo"})


def adapter(handler: object) -> IndexProjects:
    return IndexProjects("http://index.test/simple", transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


def test_the_adapter_asks_for_pep_691_json() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/simple/demo/":
            return httpx.Response(
                200, json=PAGE, headers={"content-type": "application/vnd.pypi.simple.v1+json"}
            )
        return httpx.Response(404)

    source = adapter(handle)
    assert source.releases("Demo") is not None
    assert source.releases("missing") is None
    assert seen[0].headers["accept"] == "application/vnd.pypi.simple.v1+json"


def test_the_adapter_separates_unavailable_from_unreachable() -> None:
    with pytest.raises(IndexUnavailableError, match="HTTP 503") as failed:
        adapter(lambda request: httpx.Response(503)).releases("demo")
    assert not isinstance(failed.value, IndexUnreachableError)
    with pytest.raises(IndexUnavailableError, match="not a PEP 691 JSON"):
        adapter(lambda request: httpx.Response(200, text="<html>")).releases("demo")
    with pytest.raises(IndexUnavailableError, match="not valid JSON"):
        adapter(
            lambda request: httpx.Response(
                200, text="{", headers={"content-type": "application/json"}
            )
        ).releases("demo")
    with pytest.raises(IndexUnavailableError, match="not valid JSON"):  # not a RecursionError
        adapter(
            lambda request: httpx.Response(
                200, text="[" * 100_000, headers={"content-type": "application/json"}
            )
        ).releases("demo")

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(IndexUnreachableError, match="cannot reach the package index"):
        adapter(refuse).releases("demo")


def test_the_adapter_refuses_non_http_indexes() -> None:
    with pytest.raises(IndexUnreachableError, match="not an HTTP"):
        IndexProjects("file:///srv/simple").releases("demo")


def test_page_fixture_is_json() -> None:
    assert json.loads(json.dumps(PAGE))["name"] == "demo"


def test_the_vet_cache_adapter(tmp_path: Path) -> None:
    from assay.policy.vet_facts import CachedVetResults  # noqa: PLC0415
    from assay.vetting.cache import VetCache, VetSummary  # noqa: PLC0415

    with VetCache(tmp_path / "vet.sqlite3") as cache:
        for filename, digest, score in (
            ("demo-1.0.tar.gz", "b" * 64, 7.0),
            ("demo-1.0-py3-none-any.whl", "c" * 64, 2.0),
        ):
            cache.put(
                VetSummary(
                    "demo", "1.0", filename, digest, score, "high" if score > 5 else "low", ("r",)
                )
            )
        results = CachedVetResults(cache)
        by_hash = results.lookup("demo", "1.0", ["c" * 64])
        assert by_hash is not None
        assert by_hash.score == 2.0  # the exact bytes recorded
        worst = results.lookup("demo", "1.0.0", ["d" * 64])
        assert worst is not None
        assert (worst.score, worst.label) == (7.0, "high")  # no hash matched: worst of the release
        assert results.lookup("other", "1.0", []) is None
