"""The admin JSON API (/-/status, /-/tokens, /-/yank) and the `assay registry` commands."""

import asyncio
import json

import pytest
from packaging.utils import canonicalize_name
from starlette.testclient import TestClient

from assay.cli.app import run
from assay.registry.internal import InternalStore
from assay.registry.service import Blocked
from assay.registry.tokens import TokenStore
from assay.registry.uploads import parse_upload
from assay.server.registry_app import running
from tests.registry import upload_kit
from tests.registry.fakes import FakeUpstream, RuleGovernor, make_service
from tests.registry.upload_kit import fields, wheel

ACME = canonicalize_name("acme-tools")


@pytest.fixture
def admin(tmp_path):
    tokens = TokenStore.in_directory(tmp_path)
    client = TestClient(upload_kit.app(tmp_path))
    client.auth = ("__token__", tokens.create(["admin"]).secret)
    yield client, tokens
    tokens.close()


def _store_one(directory) -> str:
    filename, data = wheel()
    store = InternalStore(directory)
    store.add(parse_upload(fields(filename, data), filename, data), uploader="t")
    store.close()
    return filename


def test_status_merges_the_service_status_with_internal_and_token_counts(admin, tmp_path):
    client, _ = admin
    _store_one(tmp_path)
    document = client.get("/-/status").json()
    assert document["cache"] == {"files": 0}  # the service's own part, passed through
    assert document["internal"]["projects"] == 1
    assert document["internal"]["files"] == 1
    assert document["internal"]["bytes"] > 0
    assert document["tokens"] == {"active": 1, "expired": 0, "revoked": 0}


def test_token_crud_over_http(admin):
    client, tokens = admin
    created = client.post(
        "/-/tokens", json={"scopes": "read,upload", "projects": ["Acme"], "expires": "30d"}
    )
    assert created.status_code == 201
    body = created.json()
    token_id = body["token"]["id"]
    assert body["secret"].startswith(f"asy_{token_id}_")
    assert body["token"]["projects"] == ["acme"]
    assert tokens.verify(body["secret"]) is not None
    listed = client.get("/-/tokens").json()["tokens"]
    assert len(listed) == 2
    assert token_id in {t["id"] for t in listed}
    assert all("secret" not in t for t in listed)
    assert client.get(f"/-/tokens/{token_id}").json()["state"] == "active"
    revoked = client.delete(f"/-/tokens/{token_id}")
    assert revoked.json()["state"] == "revoked"
    assert tokens.verify(body["secret"]) is None
    assert client.get("/-/tokens/ffffffffffff").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[1]", "JSON object"),
        (b"{", "not valid JSON"),
        (b'{"scopes": "write"}', "unknown scope"),
        (b'{"scopes": "read", "expires": "soon"}', "--expires"),
        (b'{"scopes": 5}', "list of strings"),
    ],
)
def test_token_creation_errors_are_400_json(admin, body, message):
    client, _ = admin
    answer = client.post("/-/tokens", content=body)
    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_yank_over_http(admin, tmp_path):
    client, _ = admin
    filename = _store_one(tmp_path)
    answer = client.post("/-/yank", json={"filename": filename, "reason": "broken"})
    assert answer.json() == {"filename": filename, "yanked": "broken"}
    page = InternalStore(tmp_path).project(ACME)
    assert page is not None
    assert page.files[0].yanked == "broken"
    assert client.post("/-/yank", json={"filename": "nope.whl", "reason": None}).status_code == 404


def test_cli_token_create_list_revoke(tmp_path, capsys):
    state = str(tmp_path / "reg")
    assert run(["registry", "token", "create", "--scope", "read,upload", "--state-dir", state]) == 0
    secret = capsys.readouterr().out.strip()
    store = TokenStore.in_directory(tmp_path / "reg")
    token = store.verify(secret)
    assert token is not None
    assert run(["registry", "token", "list", "--state-dir", state, "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)["tokens"]
    assert [t["id"] for t in listed] == [token.token_id]
    assert secret not in json.dumps(listed)
    assert run(["registry", "token", "revoke", token.token_id, "--state-dir", state]) == 0
    assert store.verify(secret) is None
    assert run(["registry", "token", "revoke", "000000000000", "--state-dir", state]) == 3
    assert "no token with id" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--scope", "write"], 2, "unknown scope 'write'"),
        (["--scope", "read", "--expires", "2001-01-01"], 2, "is in the past"),
        (["--scope", "read", "--expires", "whenever"], 2, "--expires 'whenever'"),
        (["--scope", "upload", "--project", "not a name"], 2, "not a valid project name"),
    ],
)
def test_cli_token_create_usage_errors(tmp_path, capsys, args, code, message):
    assert run(["registry", "token", "create", *args, "--state-dir", str(tmp_path)]) == code
    assert message in capsys.readouterr().err
    assert not (tmp_path / "tokens.sqlite3").exists()


def test_cli_status_from_the_state_directory(tmp_path, capsys):
    _store_one(tmp_path)
    assert run(["registry", "status", "--state-dir", str(tmp_path), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["internal"]["files"] == 1
    assert document["state_dir"] == str(tmp_path)
    assert run(["registry", "status", "--state-dir", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "internal.files" in table


def test_cli_status_from_a_running_registry(tmp_path, capsys):
    tokens = TokenStore.in_directory(tmp_path)
    secret = tokens.create(["admin"]).secret
    reader = tokens.create(["read"]).secret
    with running(upload_kit.app(tmp_path)) as base:
        assert (
            run(["registry", "status", "--url", base, "--token", secret, "--format", "json"]) == 0
        )
        assert json.loads(capsys.readouterr().out)["tokens"]["active"] == 2
        assert run(["registry", "status", "--url", base, "--token", reader]) == 2
        assert "an admin token is needed" in capsys.readouterr().err
    assert run(["registry", "status", "--url", base, "--token", secret]) == 4
    assert "cannot reach the registry" in capsys.readouterr().err
    tokens.close()


def test_cli_status_url_and_state_dir_are_exclusive(tmp_path, capsys):
    args = ["registry", "status", "--url", "http://127.0.0.1:1", "--state-dir", str(tmp_path)]
    assert run(args) == 2
    assert "not both" in capsys.readouterr().err


def test_cli_status_reads_the_registry_core_state_offline(tmp_path, capsys):
    upstream = FakeUpstream()
    allowed = upstream.add("numpy", "2.0")
    bad = upstream.add("numpy", "1.0")
    governor = RuleGovernor(lambda index, file, vet: ["too old"] if file.version == "1.0" else [])
    service = make_service(tmp_path, upstream, governor=governor)
    index = service.config.indexes[0]

    async def traffic() -> None:
        await service.page(index, "numpy")
        await service.file(index, allowed.sha256, allowed.filename)
        with pytest.raises(Blocked):
            await service.file(index, bad.sha256, bad.filename)
        await service.aclose()

    asyncio.run(traffic())
    state = str(tmp_path / "registry")
    assert run(["registry", "status", "--state-dir", state, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["cache"]["files"] >= 1
    assert document["cache"]["bytes"] >= allowed.size
    assert document["cache"]["projects"] == 1
    assert [b["filename"] for b in document["blocked"]] == [bad.filename]
    assert document["blocked"][0]["reasons"] == "too old"
    assert document["pending_vetting"] == []
    assert run(["registry", "status", "--state-dir", state]) == 0
    table = capsys.readouterr().out
    assert "blocked[0]" in table
    assert "too old" in table
