"""Slopsquat signals with a fake port, and the PEP 691 adapter over httpx.MockTransport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from assay.advisories.severity import Level
from assay.vetting import slopsquat as s
from assay.vetting import upstream_projects as up
from assay.vetting.names import NameIndex, PopularPackages
from assay.vetting.slopsquat import ProjectInfo, ProjectInfoSource, UpstreamUnavailableError

NOW = datetime(2026, 6, 1, tzinfo=UTC)
INDEX = NameIndex.build(
    PopularPackages(
        names=("requests", "huggingface-hub", "langchain", "openai", "flask"),
        downloads=(500, 400, 300, 200, 100),
    )
)


def info(name: str, releases: int, age_days: int | None) -> ProjectInfo:
    first = None if age_days is None else NOW - timedelta(days=age_days)
    return ProjectInfo(name, releases, releases * 2, first, first)


class FakeSource(ProjectInfoSource):
    def __init__(self, projects: dict[str, ProjectInfo], fail: bool = False) -> None:
        self.projects = projects
        self.fail = fail
        self.asked: list[str] = []

    def project(self, name: str) -> ProjectInfo | None:
        self.asked.append(name)
        if self.fail:
            raise UpstreamUnavailableError("index.example: ConnectError: unreachable")
        return self.projects.get(name)


def vet(name: str, source: ProjectInfoSource | None) -> dict[str, Level]:
    return {f.rule: f.severity for f in s.vet_upstream(name, source, INDEX, now=NOW)}


def test_an_established_project_has_no_finding() -> None:
    assert vet("requests", FakeSource({"requests": info("requests", 150, 5000)})) == {}


def test_a_missing_plausible_name_is_critical_and_flagged_as_invented() -> None:
    found = vet("huggingface-cli", FakeSource({}))
    assert found == {s.MISSING: Level.CRITICAL, s.PLAUSIBLE_UNKNOWN: Level.HIGH}


def test_a_missing_implausible_name_is_only_missing() -> None:
    assert vet("zzqxv", FakeSource({})) == {s.MISSING: Level.CRITICAL}


def test_a_young_project_with_few_releases() -> None:
    source = FakeSource({"langchain-openai-helper": info("langchain-openai-helper", 1, 3)})
    found = vet("langchain-openai-helper", source)
    assert found == {
        s.YOUNG: Level.MEDIUM,
        s.FEW_RELEASES: Level.LOW,
        s.PLAUSIBLE_UNKNOWN: Level.HIGH,
    }
    messages = [
        f.message for f in s.vet_upstream("langchain-openai-helper", source, INDEX, now=NOW)
    ]
    assert any("3 days ago" in m for m in messages)


def test_thresholds_are_parameters() -> None:
    source = FakeSource({"oldish": info("oldish", 4, 40)})
    assert vet("oldish", source) == {}
    strict = s.Thresholds(young_days=60, min_releases=5)
    found = s.vet_upstream("oldish", source, INDEX, now=NOW, thresholds=strict)
    assert {f.rule for f in found} == {s.YOUNG, s.FEW_RELEASES}


def test_unknown_upload_times_skip_only_the_age_check() -> None:
    assert vet("flask", FakeSource({"flask": info("flask", 2, None)})) == {
        s.FEW_RELEASES: Level.LOW
    }


@pytest.mark.parametrize("source", [None, FakeSource({}, fail=True)], ids=["offline", "down"])
def test_offline_or_unreachable_is_said_never_a_silent_pass(
    source: ProjectInfoSource | None,
) -> None:
    found = s.vet_upstream("huggingface-cli", source, INDEX, now=NOW)
    assert [f.rule for f in found] == [s.UNAVAILABLE]
    assert found[0].severity is Level.UNKNOWN
    assert "unavailable" in found[0].message
    assert ("offline" if source is None else "unreachable") in found[0].message


# --- the httpx adapter -----------------------------------------------------------

BASE = "https://index.example/simple/"


def document() -> dict[str, object]:
    return {
        "meta": {"api-version": "1.1"},
        "name": "demo-pkg",
        "versions": ["0.1", "0.2"],
        "files": [
            {"filename": "demo_pkg-0.1.tar.gz", "upload-time": "2026-05-20T10:00:00.000000Z"},
            {"filename": "demo_pkg-0.2-py3-none-any.whl", "upload-time": "2026-05-30T10:00:00Z"},
        ],
    }


def adapter(handler: httpx.MockTransport) -> up.SimpleIndexProjects:
    return up.SimpleIndexProjects(BASE, httpx.Client(transport=handler))


def test_adapter_reads_a_pep_691_project() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=document(), headers={"content-type": up.ACCEPT})

    result = adapter(httpx.MockTransport(handle)).project("Demo_Pkg")
    assert result == ProjectInfo(
        "demo-pkg",
        2,
        2,
        datetime(2026, 5, 20, 10, tzinfo=UTC),
        datetime(2026, 5, 30, 10, tzinfo=UTC),
    )
    assert str(seen[0].url) == BASE + "demo-pkg/"
    assert seen[0].headers["accept"] == up.ACCEPT
    found = s.vet_upstream("demo-pkg", adapter(httpx.MockTransport(handle)), INDEX, now=NOW)
    assert {f.rule for f in found} == {s.YOUNG, s.FEW_RELEASES}


def test_adapter_counts_versions_from_file_names_without_a_versions_list() -> None:
    body = document()
    del body["versions"]
    assert up.project_info("demo-pkg", body).releases == 2


def test_adapter_maps_404_to_none() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(404))
    assert adapter(transport).project("nothing-here") is None


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (lambda r: httpx.Response(503), "HTTP 503"),
        (
            lambda r: httpx.Response(200, text="<html/>", headers={"content-type": "text/html"}),
            "not a PEP 691 JSON answer",
        ),
        (
            lambda r: httpx.Response(200, text="{", headers={"content-type": up.ACCEPT}),
            "not valid JSON",
        ),
        (
            lambda r: httpx.Response(200, json={"x": 1}, headers={"content-type": up.ACCEPT}),
            "without a PEP 691 file list",
        ),
    ],
)
def test_adapter_failures_are_unavailable(handler: object, message: str) -> None:
    transport = httpx.MockTransport(handler)  # type: ignore[arg-type]
    with pytest.raises(UpstreamUnavailableError, match=message):
        adapter(transport).project("demo")


def test_network_errors_are_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(UpstreamUnavailableError, match="ConnectError"):
        adapter(httpx.MockTransport(refuse)).project("demo")


def test_no_index_or_a_non_http_index_is_unavailable() -> None:
    with pytest.raises(UpstreamUnavailableError, match="ASSAY_INDEX_URL"):
        up.SimpleIndexProjects(None).project("demo")
    with pytest.raises(UpstreamUnavailableError, match="not an HTTP"):
        up.SimpleIndexProjects("file:///srv/simple").project("demo")


def test_index_url_precedence() -> None:
    def config() -> str:
        return ":env:.index-url='https://pip-config.example/simple'\n"

    def nothing() -> None:
        return None

    both = {"ASSAY_INDEX_URL": "https://a.example/simple", "PIP_INDEX_URL": "https://p.example/s/"}
    assert up.index_url(both, config, nothing) == "https://a.example/simple/"
    assert up.index_url({"PIP_INDEX_URL": "https://p.example/s"}, config, nothing) == (
        "https://p.example/s/"
    )
    assert up.index_url({}, config, nothing) == "https://pip-config.example/simple/"
    assert up.index_url({}, lambda: "", nothing) is None


def test_an_invalid_name_is_not_sent_upstream() -> None:
    source = FakeSource({})
    found = s.vet_upstream("r\u0435quests", source, INDEX, now=NOW)
    assert [f.rule for f in found] == [s.MISSING]
    assert "not a valid project name" in found[0].message
    assert source.asked == []
