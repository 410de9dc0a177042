"""Token authentication for the registry: HTTP basic auth as pip, uv and twine send it.

Credentials are read from ``Authorization``:

* ``Basic base64(user:password)``: the password is the token (pip and uv put
  ``https://__token__:TOKEN@host/simple/`` into the index URL; twine and
  ``uv publish`` send ``__token__`` and the token).  The user name is ignored,
  except that a token given as the user name with an empty password is
  accepted too (``https://TOKEN@host/simple/``).
* ``Bearer TOKEN`` (curl, ``assay registry status --url``).

What each request needs, by path:

* ``/-/...`` (the admin API): a token with the ``admin`` scope;
* ``POST`` to an upload path: a token with ``upload`` (the upload route also
  checks the token's project restriction, once it knows the project);
* everything else: ``read``, or nothing when anonymous reading is enabled.

Missing or wrong credentials (unknown, revoked, expired token) answer 401 with
``WWW-Authenticate: Basic``; a valid token without the scope answers 403.  A
wrong token is refused even where anonymous reading is allowed: a client
whose credentials are wrong should learn it.  The verified token is put in
``request.state.token`` (None for anonymous reads).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from assay.registry.tokens import ADMIN, READ, UPLOAD, Token, TokenStore

REALM = "assay registry"
ADMIN_PREFIX = "/-/"
UPLOAD_PATHS = frozenset({"/legacy/", "/legacy", "/upload/", "/upload"})


def presented_token(authorization: str) -> str | None:
    """The token string in an ``Authorization`` header value, None when there is none."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, _, password = decoded.partition(":")
    return password or user or None


def required_scope(method: str, path: str, upload_paths: Collection[str] = UPLOAD_PATHS) -> str:
    if path.startswith(ADMIN_PREFIX):
        return ADMIN
    if method == "POST" and path in upload_paths:
        return UPLOAD
    return READ


def unauthorized(message: str) -> Response:
    return PlainTextResponse(
        message + "\n",
        status_code=401,
        headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'},
    )


def forbidden(message: str) -> Response:
    return PlainTextResponse(message + "\n", status_code=403)


class RegistryAuthMiddleware:
    """Pure ASGI middleware: authenticates every HTTP request before the app sees it."""

    def __init__(
        self,
        app: ASGIApp,
        tokens: TokenStore,
        anonymous_read: bool = True,
        upload_paths: Collection[str] = UPLOAD_PATHS,
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.anonymous_read = anonymous_read
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal, token = self.check(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        scope.setdefault("state", {})["token"] = token
        await self.app(scope, receive, send)

    def check(self, request: Request) -> tuple[Response | None, Token | None]:
        """(a refusal or None, the verified token or None)."""
        needed = required_scope(request.method, request.url.path, self.upload_paths)
        header = request.headers.get("authorization")
        token: Token | None = None
        if header is not None:
            presented = presented_token(header)
            token = self.tokens.verify(presented) if presented else None
            if token is None:
                return unauthorized("invalid, expired or revoked token"), None
        elif needed == READ and self.anonymous_read:
            return None, None
        else:
            return unauthorized(f"authentication required: a token with the {needed} scope"), None
        if not token.allows(needed):
            return forbidden(f"token {token.token_id} lacks the {needed} scope"), token
        return None, token


def auth_middleware(tokens: TokenStore, *, anonymous_read: bool = True) -> Middleware:
    """The middleware entry for ``create_app(..., middleware=[...])``."""
    return Middleware(RegistryAuthMiddleware, tokens=tokens, anonymous_read=anonymous_read)


def request_token(request: Request) -> Token | None:
    """The token the middleware verified for this request (None: anonymous)."""
    token = getattr(request.state, "token", None)
    return token if isinstance(token, Token) else None
