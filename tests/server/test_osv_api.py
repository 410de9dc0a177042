"""The OSV-compatible API over a fake advisory source, through Starlette's TestClient."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.testclient import TestClient

from assay.advisories.model import Advisory
from assay.advisories.osv import parse_record
from assay.advisories.ports import AdvisoryError, AdvisorySource
from assay.server import create_osv_app

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "osv-api"
PYPA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "advisories"
JINJA2 = PYPA / "pypa-advisory-database" / "vulns" / "jinja2"


class FakeSource(AdvisorySource):
    """Advisories in memory, answering as the port says (withdrawn ones only by id)."""

    def __init__(self, advisories: Sequence[Advisory]) -> None:
        self.advisories = list(advisories)
        self.queried: list[str] = []

    def query(self, name: str) -> Sequence[Advisory]:
        self.queried.append(name)
        return [
            a
            for a in self.advisories
            if not a.withdrawn and any(entry.name == name for entry in a.affected)
        ]

    def get(self, advisory_id: str) -> Advisory | None:
        return next((a for a in self.advisories if advisory_id in a.ids), None)


class BrokenSource(AdvisorySource):
    def query(self, name: str) -> Sequence[Advisory]:
        raise AdvisoryError("advisories.sqlite3: database disk image is malformed")

    def get(self, advisory_id: str) -> Advisory | None:
        raise AdvisoryError("advisories.sqlite3: database disk image is malformed")


def _records() -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    for path in sorted(ASSETS.glob("*.json")):
        records[path.stem] = json.loads(path.read_text())
    for path in sorted(JINJA2.glob("*.yaml")):
        records[path.stem] = yaml.safe_load(path.read_text())
    return records


RECORDS = _records()


@pytest.fixture
def source() -> FakeSource:
    return FakeSource([parse_record(record) for record in RECORDS.values()])


@pytest.fixture
def client(source: FakeSource) -> TestClient:
    return TestClient(create_osv_app(source, max_batch=5))


def _query(client: TestClient, body: Any) -> httpx.Response:
    response: httpx.Response = client.post("/v1/query", json=body)
    assert response.headers["content-type"] == "application/json"
    return response


def _ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [vuln["id"] for vuln in response.json().get("vulns", [])]


def test_query_returns_the_full_stored_records(client: TestClient, source: FakeSource) -> None:
    body = {"package": {"name": "foo-bar", "ecosystem": "PyPI"}, "version": "1.0"}
    response = _query(client, body)
    assert _ids(response) == ["TEST-2099-1"]
    record = response.json()["vulns"][0]
    assert record == RECORDS["TEST-2099-1"]  # unchanged, npm entry and all
    assert source.queried == ["foo-bar"]


def test_query_with_nothing_affected_answers_an_empty_object(client: TestClient) -> None:
    body = {"package": {"name": "foo-bar", "ecosystem": "PyPI"}, "version": "1.8.0"}
    response = _query(client, body)
    assert response.status_code == 200
    assert response.json() == {}


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.8.0rc1", ["TEST-2099-1"]),  # pre-release below fixed: 1.8.0
        ("1.7.9.post1", ["TEST-2099-1"]),
        ("1.7+cu118", ["TEST-2099-1"]),  # local version: public part compared
        ("1.8.0", []),
        ("2.0.0", ["TEST-2099-2"]),  # last_affected is inclusive
        ("2.0.0.post1", []),
        ("9", []),  # the withdrawn TEST-2099-3 would match everything
    ],
)
def test_versions_are_matched_by_osv_semantics(
    client: TestClient, version: str, expected: list[str]
) -> None:
    body = {"package": {"name": "foo-bar", "ecosystem": "PyPI"}, "version": version}
    assert _ids(_query(client, body)) == expected


@pytest.mark.parametrize("name", ["Foo_Bar", "FOO.BAR", "foo--bar", "foo_bar"])
def test_names_are_normalised_on_both_sides(
    client: TestClient, name: str, source: FakeSource
) -> None:
    body = {"package": {"name": name, "ecosystem": "PyPI"}, "version": "2.0"}
    assert _ids(_query(client, body)) == ["TEST-2099-2"]
    assert source.queried == ["foo-bar"]


def test_query_without_version_returns_every_advisory_naming_the_package(
    client: TestClient,
) -> None:
    assert _ids(_query(client, {"package": {"name": "foo-bar", "ecosystem": "PyPI"}})) == [
        "TEST-2099-1",
        "TEST-2099-2",
    ]
    jinja2 = _ids(_query(client, {"package": {"name": "Jinja2", "ecosystem": "PyPI"}}))
    withdrawn = {p.stem for p in JINJA2.glob("*.yaml") if "withdrawn" in RECORDS[p.stem]}
    assert withdrawn == {"PYSEC-2025-74"}  # a real withdrawn record: never a query answer
    assert jinja2 == sorted({p.stem for p in JINJA2.glob("*.yaml")} - withdrawn)
    assert len(jinja2) >= 5


def test_real_record_from_yaml_is_served_as_json(client: TestClient) -> None:
    body = {"package": {"name": "jinja2", "ecosystem": "PyPI"}, "version": "2.7.1"}
    response = _query(client, body)
    assert "PYSEC-2014-8" in _ids(response)
    served = next(v for v in response.json()["vulns"] if v["id"] == "PYSEC-2014-8")
    assert served["modified"] == "2021-07-05T00:01:22.043149Z"
    assert served["affected"][0]["ranges"][0]["events"] == [{"introduced": "0"}, {"fixed": "2.7.2"}]


def test_versions_only_record_matches_exact_strings(client: TestClient) -> None:
    def ids(version: str) -> list[str]:
        return _ids(_query(client, {"package": {"name": "other-pkg"}, "version": version}))

    assert ids("1.0") == ["TEST-2099-4"]
    assert ids("1.0.0") == ["TEST-2099-4"]  # PEP 440 equal
    assert ids("2023.weird-build") == ["TEST-2099-4"]  # not PEP 440: exact string only
    assert ids("1.1") == []


@pytest.mark.parametrize("ecosystem", ["npm", "pypi", "Go", "crates.io"])
def test_other_ecosystems_match_nothing(
    client: TestClient, ecosystem: str, source: FakeSource
) -> None:
    body = {"package": {"name": "foo-bar", "ecosystem": ecosystem}, "version": "1.0"}
    assert _query(client, body).json() == {}
    assert source.queried == []


def test_missing_ecosystem_means_pypi(client: TestClient) -> None:
    assert _ids(_query(client, {"package": {"name": "foo-bar"}, "version": "1.0"})) == [
        "TEST-2099-1"
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"package": {"purl": "pkg:pypi/foo-bar@1.0"}}, ["TEST-2099-1"]),
        ({"package": {"purl": "pkg:pypi/Foo_Bar@2.0.0"}}, ["TEST-2099-2"]),
        ({"package": {"purl": "pkg:pypi/foo-bar"}, "version": "1.0"}, ["TEST-2099-1"]),
        ({"package": {"purl": "pkg:pypi/foo-bar"}}, ["TEST-2099-1", "TEST-2099-2"]),
        ({"package": {"purl": "pkg:pypi/foo-bar@1.0%2Bcu118"}}, ["TEST-2099-1"]),
        ({"package": {"purl": "pkg:npm/foo-bar@1.0"}}, []),
    ],
)
def test_purl_queries(client: TestClient, body: Any, expected: list[str]) -> None:
    assert _ids(_query(client, body)) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"package": {"purl": "pkg:pypi/foo-bar@1.0"}, "version": "1.0"}, "version specified"),
        ({"package": {"purl": "pkg:pypi/foo-bar", "name": "foo-bar"}}, "name specified"),
        ({"package": {"purl": "pkg:pypi/x", "ecosystem": "PyPI"}}, "ecosystem specified"),
        ({"package": {"purl": "not a purl"}}, "invalid purl"),
        ({"package": {"ecosystem": "PyPI"}, "version": "1.0"}, "needs a 'name' or a 'purl'"),
        ({"version": "1.0"}, "'package' must be an object"),
        ({"package": "foo-bar"}, "'package' must be an object"),
        ({"package": {"name": 7, "ecosystem": "PyPI"}}, "'name' must be a string"),
        ({"package": {"name": "foo-bar"}, "version": 1.0}, "'version' must be a string"),
        ({"package": {"name": "foo-bar"}, "versions": ["1.0"]}, "unknown field 'versions'"),
        ({"package": {"name": "foo-bar", "version": "1"}}, "unknown field 'version'"),
        ({"package": {"name": "foo-bar"}, "page_token": "abc"}, "Invalid page token."),
        ([{"package": {"name": "foo-bar"}}], "must be a JSON object"),
    ],
)
def test_malformed_queries_are_400_in_osv_shape(
    client: TestClient, body: Any, message: str
) -> None:
    response = _query(client, body)
    assert response.status_code == 400
    error = response.json()
    assert set(error) == {"code", "message"}
    assert error["code"] == 3
    assert message in error["message"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"{", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_unparsable_bodies_are_400(client: TestClient, raw: bytes, message: str) -> None:
    response = client.post("/v1/query", content=raw)
    assert response.status_code == 400
    assert response.json()["code"] == 3
    assert message in response.json()["message"]


def test_body_without_content_type_is_accepted(client: TestClient) -> None:
    # pip-audit posts ``data=json.dumps(query)``: no JSON content type
    body = json.dumps({"package": {"name": "foo-bar", "ecosystem": "PyPI"}, "version": "1.0"})
    response = client.post("/v1/query", content=body, headers={"content-type": ""})
    assert _ids(response) == ["TEST-2099-1"]


def test_commit_queries_are_refused_not_answered_empty(client: TestClient) -> None:
    response = _query(client, {"commit": "6879efc2c1596d11a6a6ad296f80063b558d5e0f"})
    assert response.status_code == 501
    assert response.json()["code"] == 12


def test_querybatch_answers_ids_and_modified_in_query_order(client: TestClient) -> None:
    queries = [
        {"package": {"name": "jinja2", "ecosystem": "PyPI"}, "version": "2.7.1"},
        {"package": {"name": "foo-bar", "ecosystem": "PyPI"}, "version": "1.8.0"},
        {"package": {"purl": "pkg:pypi/foo.bar@2.0"}},
        {"package": {"name": "foo-bar", "ecosystem": "npm"}, "version": "1.0"},
        {"package": {"name": "Foo_Bar", "ecosystem": "PyPI"}, "version": "1.0"},
    ]
    response = client.post("/v1/querybatch", json={"queries": queries})
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 5
    assert "PYSEC-2014-8" in [v["id"] for v in results[0]["vulns"]]
    assert results[1] == {}
    assert results[2] == {"vulns": [{"id": "TEST-2099-2", "modified": "2099-02-01T00:00:00Z"}]}
    assert results[3] == {}
    assert results[4] == {"vulns": [{"id": "TEST-2099-1", "modified": "2099-01-02T03:04:05Z"}]}
    assert all(set(v) == {"id", "modified"} for r in results for v in r.get("vulns", []))


def test_querybatch_of_nothing(client: TestClient) -> None:
    response = client.post("/v1/querybatch", json={"queries": []})
    assert response.json() == {"results": []}


def test_querybatch_is_bounded(client: TestClient, source: FakeSource) -> None:
    queries = [{"package": {"name": "foo-bar"}, "version": "1.0"}] * 6  # max_batch=5
    response = client.post("/v1/querybatch", json={"queries": queries})
    assert response.status_code == 400
    assert response.json() == {"code": 3, "message": "Too many queries. (at most 5 per request)"}
    assert source.queried == []


def test_default_batch_bound_is_osvs_1000(source: FakeSource) -> None:
    client = TestClient(create_osv_app(source))
    query = {"package": {"name": "nothing-here"}, "version": "1.0"}
    assert client.post("/v1/querybatch", json={"queries": [query] * 1000}).status_code == 200
    assert client.post("/v1/querybatch", json={"queries": [query] * 1001}).status_code == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"queries": [{"package": {"name": "a"}}, {"package": {}}]}, "queries[1]: "),
        ({"queries": {"package": {"name": "a"}}}, "'queries' must be a list"),
        ({"query": []}, "unknown field 'query'"),
        ([], "must be a JSON object"),
    ],
)
def test_malformed_batches_are_400(client: TestClient, body: Any, message: str) -> None:
    response = client.post("/v1/querybatch", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == 3
    assert message in response.json()["message"]


def test_body_size_is_bounded(source: FakeSource) -> None:
    client = TestClient(create_osv_app(source, max_body_bytes=64))
    query = {"package": {"name": "foo-bar" * 20, "ecosystem": "PyPI"}}
    response = client.post("/v1/query", json=query)
    assert response.status_code == 413
    assert response.json()["code"] == 3
    # a lying or absent content-length does not get past the limit either
    chunks = iter([b'{"package": {"name": "', b"x" * 100, b'"}}'])
    response = client.post("/v1/query", content=chunks)
    assert response.status_code == 413


def test_vuln_by_id(client: TestClient) -> None:
    response = client.get("/v1/vulns/TEST-2099-2")
    assert response.status_code == 200
    assert response.json() == RECORDS["TEST-2099-2"]


def test_vuln_by_alias(client: TestClient) -> None:
    assert client.get("/v1/vulns/GHSA-test-0001-aaaa").json()["id"] == "TEST-2099-1"
    assert client.get("/v1/vulns/CVE-2014-1402").json()["id"] == "PYSEC-2014-8"


def test_withdrawn_vuln_is_still_served_by_id(client: TestClient) -> None:
    assert client.get("/v1/vulns/TEST-2099-3").json()["withdrawn"] == "2099-03-01T00:00:00Z"


def test_unknown_vuln_is_404_bug_not_found(client: TestClient) -> None:
    response = client.get("/v1/vulns/PYSEC-0000-0")
    assert response.status_code == 404
    assert response.json() == {"code": 5, "message": "Bug not found."}


def test_overlong_vuln_id_is_400(client: TestClient) -> None:
    response = client.get("/v1/vulns/" + "X" * 101)
    assert response.status_code == 400
    assert response.json() == {"code": 3, "message": "ID too long"}


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/query", 405, 12),
        ("PUT", "/v1/querybatch", 405, 12),
        ("POST", "/v1/vulns/TEST-2099-1", 405, 12),
        ("GET", "/v2/query", 404, 5),
        ("GET", "/", 404, 5),
    ],
)
def test_wrong_routes_answer_json_errors(
    client: TestClient, method: str, path: str, status: int, code: int
) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    assert response.json()["code"] == code


def test_unreadable_database_is_503(client: TestClient) -> None:
    client = TestClient(create_osv_app(BrokenSource()))
    for response in (
        client.post("/v1/query", json={"package": {"name": "x"}}),
        client.post("/v1/querybatch", json={"queries": [{"package": {"name": "x"}}]}),
        client.get("/v1/vulns/X-1"),
    ):
        assert response.status_code == 503
        assert response.json()["code"] == 14
        assert "malformed" in response.json()["message"]
