"""API tokens: scopes, project restriction, expiry, revocation, hashed storage."""

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from assay.registry.tokens import (
    TokenError,
    TokenStore,
    TokenStoreError,
    UnknownTokenError,
    parse_expiry,
    parse_scopes,
    split_token,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    tokens = TokenStore.in_directory(tmp_path / "reg")
    yield tokens
    tokens.close()


def test_created_token_verifies_and_only_its_hash_is_stored(store):
    new = store.create(["read", "upload"], description="ci")
    assert new.secret.startswith("asy_")
    assert store.verify(new.secret) == new.token
    parts = split_token(new.secret)
    assert parts is not None
    secret = parts[1]
    raw = store.path.read_bytes()
    assert secret.encode() not in raw
    with sqlite3.connect(store.path) as db:
        (stored,) = db.execute("SELECT secret_sha256 FROM tokens").fetchone()
    assert stored == hashlib.sha256(secret.encode()).hexdigest()


def test_wrong_secret_unknown_id_and_garbage_are_refused(store):
    new = store.create(["read"])
    parts = split_token(new.secret)
    assert parts is not None
    token_id, secret = parts
    assert store.verify(f"asy_{token_id}_{'x' * len(secret)}") is None
    assert store.verify(f"asy_000000000000_{secret}") is None
    assert store.verify("not-a-token") is None
    assert store.verify("") is None


def test_revoked_token_stops_working_at_once(store):
    new = store.create(["read"])
    revoked = store.revoke(new.token.token_id, now=NOW)
    assert revoked.revoked == NOW
    assert store.verify(new.secret) is None
    assert store.counts(NOW) == {"active": 0, "expired": 0, "revoked": 1}


def test_expired_token_is_refused(store):
    new = store.create(["read"], expires=NOW, now=NOW - timedelta(days=1))
    assert store.verify(new.secret, now=NOW - timedelta(seconds=1)) is not None
    assert store.verify(new.secret, now=NOW) is None
    assert new.token.state(NOW) == "expired"


def test_scopes_admin_implies_the_others_and_projects_restrict_uploads(store):
    admin = store.create(["admin"]).token
    assert admin.allows("read")
    assert admin.allows("upload")
    assert admin.allows("admin")
    reader = store.create(["read"]).token
    assert not reader.allows("upload")
    assert not reader.may_upload("anything")
    uploader = store.create(["upload"], ["Acme_Tools"]).token
    assert uploader.projects == ("acme-tools",)
    assert uploader.may_upload("acme.tools")
    assert not uploader.may_upload("other")
    assert not uploader.allows("read")


def test_bad_scopes_projects_and_expiry_are_usage_errors():
    with pytest.raises(TokenError, match="unknown scope 'write'"):
        parse_scopes("read,write")
    with pytest.raises(TokenError, match="no scope"):
        parse_scopes(" , ")
    with pytest.raises(TokenError, match="--expires"):
        parse_expiry("next tuesday")
    assert parse_scopes("Read, upload") == {"read", "upload"}


def test_expiry_date_is_valid_through_that_day():
    assert parse_expiry("2026-12-31") == datetime(2027, 1, 1, tzinfo=UTC)
    assert parse_expiry("30d", now=NOW) == NOW + timedelta(days=30)
    assert parse_expiry("2026-12-31T10:00:00+02:00") == datetime(2026, 12, 31, 8, tzinfo=UTC)


def test_list_get_and_unknown_id(store):
    first = store.create(["read"], now=NOW).token
    second = store.create(["upload"], now=NOW + timedelta(seconds=1)).token
    assert [t.token_id for t in store.tokens()] == [first.token_id, second.token_id]
    assert store.get(second.token_id) == second
    with pytest.raises(UnknownTokenError):
        store.revoke("ffffffffffff")


def test_reading_an_empty_directory_creates_nothing(tmp_path):
    store = TokenStore.in_directory(tmp_path / "none")
    assert store.tokens() == []
    assert store.verify("asy_0123456789ab_" + "a" * 43) is None
    assert not (tmp_path / "none").exists()


def test_a_file_that_is_not_a_token_store_is_an_input_error(tmp_path):
    path = tmp_path / "tokens.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(TokenStoreError) as caught:
        TokenStore(path).tokens()
    assert caught.value.exit_code == 3
