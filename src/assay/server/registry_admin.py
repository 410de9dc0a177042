"""The registry's admin JSON API (every route needs a token with the ``admin`` scope).

``GET /-/status``              the registry's state (cache, hit rate, blocked requests,
                               pending vetting, upstream health: the service's own
                               ``status()``), plus ``internal`` (projects, files, bytes,
                               yanked) and ``tokens`` (active, expired, revoked)
``GET /-/tokens``              ``{"tokens": [token, ...]}`` (never a secret)
``POST /-/tokens``             body ``{"scopes": ["read", "upload"], "projects": [...],
                               "description": "...", "expires": "2026-12-31" | "30d"}``
                               -> 201 ``{"token": token, "secret": "asy_..."}`` (shown once)
``GET /-/tokens/{id}``         one token; 404 when unknown
``DELETE /-/tokens/{id}``      revoke it (idempotent) -> the token, now ``revoked``
``POST /-/yank``               ``{"filename": "...", "reason": "..." | null}``: yank (PEP 592)
                               or, with a null reason, un-yank an internal file

Errors are ``{"error": "..."}`` with 400 (malformed body), 404 (unknown id or
file) or 503 (a store cannot be read).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from packaging.utils import NormalizedName
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from assay.errors import AssayError
from assay.registry.internal import InternalStore, InternalStoreError
from assay.registry.tokens import (
    TokenError,
    TokenStore,
    TokenStoreError,
    UnknownTokenError,
    parse_expiry,
    token_document,
)

MAX_BODY = 64 * 1024

Status = Callable[[], Mapping[str, Any]]


def _error(message: str, status: int) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _status_of(exc: AssayError) -> int:
    if isinstance(exc, UnknownTokenError):
        return 404
    if isinstance(exc, TokenStoreError | InternalStoreError):
        return 503
    return 400


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise TokenError(f"the request body is over {MAX_BODY} bytes")
    try:
        data = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TokenError(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise TokenError("the request body must be a JSON object")
    return data


def _strings(value: object, key: str) -> list[str]:
    if isinstance(value, str):
        return [item for item in value.split(",") if item.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise TokenError(f"{key!r} must be a list of strings or a comma-separated string")


def registry_status(
    tokens: TokenStore, store: InternalStore, status: Status | None = None
) -> dict[str, Any]:
    """The ``/-/status`` document (also what ``assay registry status --state-dir`` prints)."""
    document: dict[str, Any] = dict(status()) if status is not None else {}
    stats = store.stats()
    document["internal"] = {
        "projects": stats.projects,
        "files": stats.files,
        "bytes": stats.bytes,
        "yanked": stats.yanked,
    }
    document["tokens"] = tokens.counts()
    return document


class AdminApi:
    def __init__(
        self,
        tokens: TokenStore,
        store: InternalStore,
        status: Status | None,
        on_change: Callable[[NormalizedName], object] | None,
    ) -> None:
        self.tokens = tokens
        self.store = store
        self.status = status
        self.on_change = on_change

    async def _run(self, work: Callable[[], Response]) -> Response:
        try:
            return await asyncio.to_thread(work)
        except AssayError as exc:
            return _error(exc.message, _status_of(exc))

    async def get_status(self, request: Request) -> Response:
        return await self._run(
            lambda: JSONResponse(registry_status(self.tokens, self.store, self.status))
        )

    async def list_tokens(self, request: Request) -> Response:
        now = datetime.now(UTC)
        return await self._run(
            lambda: JSONResponse({"tokens": [token_document(t, now) for t in self.tokens.tokens()]})
        )

    async def create_token(self, request: Request) -> Response:
        try:
            body = await _body(request)
            scopes = _strings(body.get("scopes", []), "scopes")
            projects = _strings(body.get("projects", []), "projects")
            expires = body.get("expires")
            if expires is not None and not isinstance(expires, str):
                raise TokenError("'expires' must be a date string or null")
            description = body.get("description", "")
            if not isinstance(description, str):
                raise TokenError("'description' must be a string")
        except AssayError as exc:
            return _error(exc.message, 400)

        def create() -> Response:
            new = self.tokens.create(
                scopes,
                projects,
                description=description,
                expires=parse_expiry(expires) if expires else None,
            )
            document = {"token": token_document(new.token), "secret": new.secret}
            return JSONResponse(document, status_code=201)

        return await self._run(create)

    async def one_token(self, request: Request) -> Response:
        token_id = str(request.path_params["token_id"])
        if request.method == "DELETE":
            return await self._run(
                lambda: JSONResponse(token_document(self.tokens.revoke(token_id)))
            )
        return await self._run(lambda: JSONResponse(token_document(self.tokens.get(token_id))))

    async def yank(self, request: Request) -> Response:
        try:
            body = await _body(request)
        except AssayError as exc:
            return _error(exc.message, 400)
        filename, reason = body.get("filename"), body.get("reason")
        if not isinstance(filename, str) or not (reason is None or isinstance(reason, str)):
            return _error("expected {'filename': str, 'reason': str or null}", 400)
        if not self.store.has_file(filename):
            return _error(f"no internal file named {filename!r}", 404)

        def change() -> Response:
            stored = self.store.yank(filename, reason)
            if self.on_change is not None:
                self.on_change(stored.project)
            return JSONResponse({"filename": stored.filename, "yanked": stored.yanked})

        return await self._run(change)


def admin_routes(
    tokens: TokenStore,
    store: InternalStore,
    *,
    status: Status | None = None,
    on_change: Callable[[NormalizedName], object] | None = None,
) -> list[Route]:
    """The ``/-/`` routes; the auth middleware makes them admin-only."""
    api = AdminApi(tokens, store, status, on_change)
    return [
        Route("/-/status", api.get_status, methods=["GET"]),
        Route("/-/tokens", api.list_tokens, methods=["GET"]),
        Route("/-/tokens", api.create_token, methods=["POST"]),
        Route("/-/tokens/{token_id}", api.one_token, methods=["GET", "DELETE"]),
        Route("/-/yank", api.yank, methods=["POST"]),
    ]
