"""The registry's HTTP surface (Starlette TestClient over fake ports)."""

import json

import pytest
from starlette.testclient import TestClient

from assay.registry.config import RegistryConfig
from assay.registry.model import IndexConfig
from assay.registry.simple import JSON_V1
from assay.server.registry_app import create_app
from tests.registry.fakes import UPSTREAM, FakeUpstream, FakeVetter, RuleGovernor, make_service

SANDBOX = IndexConfig("sandbox", "sandbox", "/sandbox")
PROD = IndexConfig("prod", "production", "/prod", blocked_action="yank")
DEFAULT = IndexConfig("default", "production")


def _policy(index, file, vet):
    reasons = []
    if index.stage == "production" and file.version == "2.0":
        reasons.append("release younger than 14 days (cooldown)")
    if vet is not None and vet.score >= 7:
        reasons.extend(vet.reasons)
    return reasons


@pytest.fixture
def upstream():
    fake = FakeUpstream()
    fake.add("Demo_Pkg", "1.0", b"wheel one", metadata=b"Metadata-Version: 2.1\nName: demo-pkg\n")
    fake.add("Demo_Pkg", "2.0", b"wheel two", requires_python=">=3.9")
    fake.add("evil", "1.0", b"EVIL payload")
    return fake


@pytest.fixture
def client(tmp_path, upstream):
    indexes = (DEFAULT, SANDBOX, PROD)
    service = make_service(
        tmp_path,
        upstream,
        governor=RuleGovernor(_policy),
        vetter=FakeVetter(),
        indexes=indexes,
    )
    config = RegistryConfig(state_dir=tmp_path, upstream_urls=(UPSTREAM,), indexes=indexes)
    with TestClient(create_app(service, config), follow_redirects=False) as test_client:
        yield test_client


def test_json_page_with_vary(client):
    response = client.get("/sandbox/simple/demo-pkg/", headers={"Accept": JSON_V1})
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_V1
    assert response.headers["vary"] == "Accept"
    page = response.json()
    assert [f["filename"] for f in page["files"]] == [
        "demo_pkg-1.0-py3-none-any.whl",
        "demo_pkg-2.0-py3-none-any.whl",
    ]
    assert page["files"][1]["requires-python"] == ">=3.9"


def test_html_by_default(client):
    response = client.get("/simple/demo-pkg/", headers={"Accept": ""})
    assert response.headers["content-type"].startswith("text/html")
    assert '<a href="../../files/' in response.text


def test_unacceptable_accept_is_406(client):
    response = client.get("/simple/demo-pkg/", headers={"Accept": "application/xml"})
    assert response.status_code == 406


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/simple/Demo_Pkg/", "/simple/demo-pkg/"),
        ("/prod/simple/DEMO.pkg/?format=json", "/prod/simple/demo-pkg/?format=json"),
        ("/simple/demo-pkg", "/simple/demo-pkg/"),
        ("/simple", "/simple/"),
    ],
)
def test_redirects_to_the_canonical_url(client, path, location):
    response = client.get(path)
    assert response.status_code == 301
    assert response.headers["location"] == location


def test_unknown_project_is_404(client):
    assert client.get("/simple/nothing/").status_code == 404


def test_etag_revalidation(client):
    first = client.get("/simple/demo-pkg/")
    again = client.get("/simple/demo-pkg/", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_stages_differ_per_index(client):
    sandbox = client.get("/sandbox/simple/demo-pkg/?format=json").json()
    prod = client.get("/prod/simple/demo-pkg/?format=json").json()
    default = client.get("/simple/demo-pkg/?format=json").json()
    assert [f.get("yanked", False) for f in sandbox["files"]] == [False, False]
    assert [f.get("yanked", False) for f in prod["files"]] == [
        False,
        "blocked by policy: release younger than 14 days (cooldown)",
    ]
    assert [f["filename"] for f in default["files"]] == ["demo_pkg-1.0-py3-none-any.whl"]
    assert default["versions"] == ["1.0"]


def test_file_download_and_blocked_download(client):
    page = client.get("/sandbox/simple/demo-pkg/?format=json").json()
    url = "/sandbox/simple/demo-pkg/" + page["files"][1]["url"]
    allowed = client.get(url)
    assert allowed.status_code == 200
    assert allowed.content == b"wheel two"
    blocked = client.get(url.replace("/sandbox/", "/prod/"))
    assert blocked.status_code == 403
    assert "release younger than 14 days (cooldown)" in blocked.text
    assert "stage production" in blocked.text


def test_vetting_blocks_before_first_serve(client):
    page = client.get("/simple/evil/?format=json").json()
    url = "/simple/evil/" + page["files"][0]["url"]
    response = client.get(url)
    assert response.status_code == 403
    assert "posts credentials" in response.text
    assert client.get("/simple/evil/?format=json").json()["files"] == []


def test_metadata_file(client):
    page = client.get("/simple/demo-pkg/?format=json").json()
    entry = page["files"][0]
    response = client.get("/simple/demo-pkg/" + entry["url"] + ".metadata")
    assert response.status_code == 200
    assert response.content.startswith(b"Metadata-Version: 2.1")
    assert entry["core-metadata"]["sha256"]


def test_unknown_file_is_404(client):
    assert client.get("/files/" + "0" * 64 + "/x-1.0-py3-none-any.whl").status_code == 404


def test_upstream_down_without_cache_is_503(client, upstream):
    upstream.down = True
    response = client.get("/simple/demo-pkg/")
    assert response.status_code == 503
    assert response.headers["retry-after"]


def test_hash_mismatch_is_502(tmp_path):
    fake = FakeUpstream()
    fake.add("demo", "1.0", b"real", served=b"fake")
    service = make_service(tmp_path, fake)
    config = service.config
    with TestClient(create_app(service, config)) as test_client:
        entry = test_client.get("/simple/demo/?format=json").json()["files"][0]
        response = test_client.get("/simple/demo/" + entry["url"])
    assert response.status_code == 502
    assert "sha256 mismatch" in response.text


def test_project_list(client):
    client.get("/simple/demo-pkg/")
    response = client.get("/simple/", headers={"Accept": JSON_V1})
    assert json.loads(response.content)["projects"] == [{"name": "demo-pkg"}]
    assert 'href="demo-pkg/"' in client.get("/simple/").text
