"""Registry API tokens: scopes, project restriction, expiry; stored hashed in SQLite.

A token reads ``asy_<id>_<secret>``: ``id`` (12 hex digits) finds the row, the
secret (32 random bytes, URL-safe base64) is never stored, only its sha256, and
is compared in constant time (:func:`hmac.compare_digest`).  The full token is
shown once, when it is created.

Scopes are ``read`` (simple pages and files), ``upload`` (the upload API) and
``admin`` (the ``/-/`` admin API; it implies the other two).  A token may be
restricted to a list of projects: the restriction applies to uploads only, since
installing one project reads the pages of all its dependencies.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from packaging.utils import canonicalize_name

from assay.errors import AssayError

READ = "read"
UPLOAD = "upload"
ADMIN = "admin"
SCOPES = (READ, UPLOAD, ADMIN)
PREFIX = "asy_"
TOKENS_FILE = "tokens.sqlite3"

_TOKEN = re.compile(r"^asy_(?P<id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{20,100})$")
_PROJECT = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


class TokenError(AssayError):
    """A token operation failed (bad scope, unknown id, unreadable store): exit 2 or 3."""

    exit_code = 2


class UnknownTokenError(TokenError):
    exit_code = 3


class TokenStoreError(TokenError):
    """The token database cannot be opened or is not one."""

    exit_code = 3


@dataclass(frozen=True, slots=True)
class Token:
    """What is stored about a token (never its secret)."""

    token_id: str
    scopes: frozenset[str]
    projects: tuple[str, ...]  # canonical names; empty: every project
    description: str
    created: datetime
    expires: datetime | None
    revoked: datetime | None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or ADMIN in self.scopes

    def may_upload(self, project: str) -> bool:
        if not self.allows(UPLOAD):
            return False
        return not self.projects or canonicalize_name(project) in self.projects

    def state(self, now: datetime) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked is not None:
            return "revoked"
        if self.expires is not None and now >= self.expires:
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class NewToken:
    token: Token
    secret: str  # the full ``asy_...`` string, shown once


def parse_scopes(text: str | Iterable[str]) -> frozenset[str]:
    """``"read,upload"`` (or a list) -> a validated set; unknown or empty is a TokenError."""
    items = text.split(",") if isinstance(text, str) else list(text)
    found = frozenset(item.strip().lower() for item in items if item.strip())
    unknown = sorted(found - set(SCOPES))
    if unknown or not found:
        what = f"unknown scope {', '.join(map(repr, unknown))}" if unknown else "no scope given"
        raise TokenError(f"{what}; choose from: {', '.join(SCOPES)}")
    return found


def parse_projects(names: Iterable[str]) -> tuple[str, ...]:
    found: set[str] = set()
    for name in names:
        if not _PROJECT.match(name.strip()):
            raise TokenError(f"--project {name!r} is not a valid project name")
        found.add(canonicalize_name(name.strip()))
    return tuple(sorted(found))


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """An ISO date (valid through that day, UTC), an ISO date-time, or ``<N>d`` days from now."""
    value = text.strip()
    if re.fullmatch(r"\d{1,5}d", value):
        return (now or datetime.now(UTC)) + timedelta(days=int(value[:-1]))
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return datetime.combine(date.fromisoformat(value) + timedelta(days=1), time(), UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise TokenError(
            f"--expires {text!r}: expected YYYY-MM-DD, an ISO date-time or a number of days (30d)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def split_token(text: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed token string, else None."""
    match = _TOKEN.match(text.strip())
    return (match["id"], match["secret"]) if match else None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    secret_sha256 TEXT NOT NULL,
    scopes TEXT NOT NULL,
    projects TEXT NOT NULL,
    description TEXT NOT NULL,
    created TEXT NOT NULL,
    expires TEXT,
    revoked TEXT
);
"""


_EMPTY = sqlite3.connect(":memory:", check_same_thread=False)
_EMPTY.executescript(_SCHEMA)


class TokenStore:
    """Tokens in ``<registry dir>/tokens.sqlite3`` (created on first write)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    @classmethod
    def in_directory(cls, directory: Path) -> TokenStore:
        return cls(directory / TOKENS_FILE)

    def _open(self, write: bool) -> sqlite3.Connection | None:
        if self._connection is None:
            if not write and not self.path.is_file():
                return None  # nothing stored yet: reading never creates the file
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.executescript(_SCHEMA)
            except (OSError, sqlite3.Error) as exc:
                raise TokenStoreError(f"{self.path}: cannot open the token store: {exc}") from None
            self._connection = connection
        return self._connection

    @contextmanager
    def _connect(self, write: bool) -> Iterator[sqlite3.Connection]:
        with self._lock:
            connection = self._open(write) or _EMPTY
            try:
                with connection:
                    yield connection
            except sqlite3.DatabaseError as exc:
                raise TokenStoreError(f"{self.path}: not a token store: {exc}") from None

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def create(
        self,
        scopes: Iterable[str],
        projects: Iterable[str] = (),
        *,
        description: str = "",
        expires: datetime | None = None,
        now: datetime | None = None,
    ) -> NewToken:
        created = (now or datetime.now(UTC)).replace(microsecond=0)
        token = Token(
            token_id=secrets.token_hex(6),
            scopes=parse_scopes(scopes),
            projects=parse_projects(projects),
            description=description,
            created=created,
            expires=expires,
            revoked=None,
        )
        secret = secrets.token_urlsafe(32)
        with self._connect(write=True) as db:
            db.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    token.token_id,
                    _digest(secret),
                    ",".join(sorted(token.scopes)),
                    ",".join(token.projects),
                    description,
                    _stamp(created),
                    _stamp(expires),
                ),
            )
        return NewToken(token, f"{PREFIX}{token.token_id}_{secret}")

    def tokens(self) -> list[Token]:
        with self._connect(write=False) as db:
            rows = db.execute("SELECT * FROM tokens ORDER BY created, id").fetchall()
        return [_token(row) for row in rows]

    def get(self, token_id: str) -> Token:
        with self._connect(write=False) as db:
            row = db.execute("SELECT * FROM tokens WHERE id = ?", (token_id,)).fetchone()
        if row is None:
            raise UnknownTokenError(
                f"no token with id {token_id!r} (see 'assay registry token list')"
            )
        return _token(row)

    def revoke(self, token_id: str, now: datetime | None = None) -> Token:
        self.get(token_id)
        with self._connect(write=True) as db:
            db.execute(
                "UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL",
                (_stamp(now or datetime.now(UTC)), token_id),
            )
        return self.get(token_id)

    def verify(self, presented: str, now: datetime | None = None) -> Token | None:
        """The active token a presented string proves, else None (wrong, revoked, expired)."""
        parts = split_token(presented)
        if parts is None:
            return None
        token_id, secret = parts
        with self._connect(write=False) as db:
            row = db.execute("SELECT * FROM tokens WHERE id = ?", (token_id,)).fetchone()
        expected = row[1] if row is not None else _digest("no such token")
        matches = hmac.compare_digest(_digest(secret), expected)
        if row is None or not matches:
            return None
        token = _token(row)
        return token if token.state(now or datetime.now(UTC)) == "active" else None

    def counts(self, now: datetime | None = None) -> dict[str, int]:
        moment = now or datetime.now(UTC)
        counts = {"active": 0, "expired": 0, "revoked": 0}
        for token in self.tokens():
            counts[token.state(moment)] += 1
        return counts


def _token(row: tuple[str, ...]) -> Token:
    token_id, _, scopes, projects, description, created, expires, revoked = row
    return Token(
        token_id=token_id,
        scopes=frozenset(scopes.split(",")),
        projects=tuple(p for p in projects.split(",") if p),
        description=description,
        created=_moment(created) or datetime.now(UTC),
        expires=_moment(expires),
        revoked=_moment(revoked),
    )


def token_document(token: Token, now: datetime | None = None) -> dict[str, object]:
    """The JSON shape of a token in the admin API and ``token list --format json``."""
    return {
        "id": token.token_id,
        "scopes": sorted(token.scopes),
        "projects": list(token.projects),
        "description": token.description,
        "created": _stamp(token.created),
        "expires": _stamp(token.expires),
        "revoked": _stamp(token.revoked),
        "state": token.state(now or datetime.now(UTC)),
    }
