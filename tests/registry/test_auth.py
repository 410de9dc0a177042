"""Token authentication at the HTTP level: basic auth as pip/uv/twine send it, scopes per route."""

import base64

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from assay.registry.tokens import TokenStore
from assay.server.registry_auth import presented_token, request_token, required_scope
from tests.registry.upload_kit import app


async def _simple(request: Request) -> PlainTextResponse:
    token = request_token(request)
    return PlainTextResponse("reader=" + (token.token_id if token else "anonymous"))


READ_ROUTE = [Route("/simple/", _simple)]


def _basic(user: str, password: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@pytest.fixture
def tokens(tmp_path):
    store = TokenStore.in_directory(tmp_path)
    yield store
    store.close()


def _client(tmp_path, anonymous_read: bool = True) -> TestClient:
    return TestClient(app(tmp_path, anonymous_read=anonymous_read, routes=READ_ROUTE))


def test_anonymous_read_is_allowed_only_when_configured(tmp_path):
    assert _client(tmp_path).get("/simple/").text == "reader=anonymous"
    closed = _client(tmp_path, anonymous_read=False).get("/simple/")
    assert closed.status_code == 401
    assert closed.headers["www-authenticate"].startswith('Basic realm="assay registry"')


def test_basic_auth_with_token_as_password_or_user_and_bearer(tmp_path, tokens):
    new = tokens.create(["read"])
    client = _client(tmp_path, anonymous_read=False)
    expected = f"reader={new.token.token_id}"
    assert client.get("/simple/", headers=_basic("__token__", new.secret)).text == expected
    assert client.get("/simple/", headers=_basic("alice", new.secret)).text == expected
    assert client.get("/simple/", headers=_basic(new.secret, "")).text == expected
    bearer = {"Authorization": f"Bearer {new.secret}"}
    assert client.get("/simple/", headers=bearer).text == expected


@pytest.mark.parametrize("anonymous_read", [True, False])
def test_wrong_revoked_and_expired_tokens_get_401_even_with_anonymous_read(
    tmp_path, tokens, anonymous_read
):
    client = _client(tmp_path, anonymous_read=anonymous_read)
    revoked = tokens.create(["read"])
    tokens.revoke(revoked.token.token_id)
    expired = tokens.create(["read"], expires=revoked.token.created)
    wrong = revoked.secret[:-4] + "AAAA"
    for secret in (revoked.secret, expired.secret, wrong, "garbage"):
        answer = client.get("/simple/", headers=_basic("__token__", secret))
        assert answer.status_code == 401, secret
        assert "invalid, expired or revoked token" in answer.text
    malformed = client.get("/simple/", headers={"Authorization": "Basic %%%"})
    assert malformed.status_code == 401


def test_scopes_are_checked_per_route(tmp_path, tokens):
    client = _client(tmp_path, anonymous_read=False)
    uploader = tokens.create(["upload"]).secret
    reader = tokens.create(["read"]).secret
    admin = tokens.create(["admin"]).secret
    assert client.get("/simple/", headers=_basic("__token__", uploader)).status_code == 403
    assert client.get("/-/status", headers=_basic("__token__", reader)).status_code == 403
    assert client.get("/-/status", headers=_basic("__token__", uploader)).status_code == 403
    assert client.get("/-/status", headers=_basic("__token__", admin)).status_code == 200
    assert client.get("/simple/", headers=_basic("__token__", admin)).status_code == 200
    refused = client.post("/legacy/", headers=_basic("__token__", reader), data={"a": "b"})
    assert refused.status_code == 403
    assert "lacks the upload scope" in refused.text
    assert client.post("/legacy/", data={"a": "b"}).status_code == 401
    assert client.get("/-/tokens").status_code == 401


def test_header_parsing_and_scope_table():
    assert presented_token("Basic " + base64.b64encode(b"__token__:s3cret").decode()) == "s3cret"
    assert presented_token("Basic " + base64.b64encode(b"s3cret:").decode()) == "s3cret"
    assert presented_token("Bearer  abc ") == "abc"
    assert presented_token("Digest abc") is None
    assert presented_token("Basic !!!") is None
    assert required_scope("GET", "/-/status") == "admin"
    assert required_scope("POST", "/legacy/") == "upload"
    assert required_scope("GET", "/legacy/") == "read"
    assert required_scope("GET", "/prod/simple/numpy/") == "read"
