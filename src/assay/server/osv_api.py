"""An OSV-compatible HTTP API over any :class:`AdvisorySource` (a Starlette ASGI app).

Endpoints (request and response shapes as OSV's own API):

``POST /v1/query``       ``{"package": {"name", "ecosystem"} | {"purl"}, "version"?}``
                         -> ``{"vulns": [full OSV records]}``, ``{}`` when none
``POST /v1/querybatch``  ``{"queries": [query, ...]}`` (at most ``max_batch`` queries)
                         -> ``{"results": [{"vulns": [{"id", "modified"}]} | {}, ...]}``
``GET /v1/vulns/{id}``   the full record for an id or alias, 404 when unknown

Errors are JSON in OSV's (gRPC-gateway) shape ``{"code": N, "message": "..."}``:
400/code 3 malformed request, 404/code 5 unknown id or path, 405/code 12 wrong
method, 413/code 3 body too large, 501/code 12 ``commit`` queries, 503/code 14
advisory database unreadable.  Unmodified ``uv audit --service-url`` and
``pip-audit --osv-url`` work against it (``tests/server/test_peer_clients.py``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from assay.advisories.ports import AdvisoryError, AdvisorySource
from assay.server import osv_queries
from assay.server.osv_queries import InvalidQueryError, UnsupportedQueryError

MAX_BODY_BYTES = 4 * 1024 * 1024  # a full 1000-query batch of purls is well under 1 MiB

# gRPC status codes, as OSV's REST gateway reports them
INVALID_ARGUMENT = 3
NOT_FOUND = 5
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
_CODES = {400: INVALID_ARGUMENT, 404: NOT_FOUND, 405: UNIMPLEMENTED, 413: INVALID_ARGUMENT}

Handler = Callable[[Request], Awaitable[Response]]


class _BodyTooLargeError(Exception):
    pass


def _json(text: str, status: int = 200) -> Response:
    return Response(text, status_code=status, media_type="application/json")


def error_response(status: int, code: int, message: str) -> Response:
    return _json(json.dumps({"code": code, "message": message}), status)


async def _read_json(request: Request, limit: int) -> Any:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _BodyTooLargeError
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _BodyTooLargeError
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise InvalidQueryError("the request body is empty: expected a JSON object")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidQueryError(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidQueryError("the request body is nested too deeply") from None


def _guarded(handler: Handler, max_body_bytes: int) -> Handler:
    """Turn every failure of ``handler`` into an OSV-style JSON error."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except _BodyTooLargeError:
            return error_response(
                413, INVALID_ARGUMENT, f"the request body exceeds {max_body_bytes} bytes"
            )
        except InvalidQueryError as exc:
            return error_response(400, INVALID_ARGUMENT, str(exc))
        except UnsupportedQueryError as exc:
            return error_response(501, UNIMPLEMENTED, str(exc))
        except AdvisoryError as exc:
            return error_response(503, UNAVAILABLE, f"advisory database unavailable: {exc}")

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    return error_response(status, _CODES.get(status, INTERNAL), str(detail))


async def _internal_error(request: Request, exc: Exception) -> Response:
    return error_response(500, INTERNAL, f"internal error: {type(exc).__name__}")


def create_osv_app(
    source: AdvisorySource,
    *,
    max_batch: int = osv_queries.MAX_BATCH_QUERIES,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Starlette:
    """The OSV API answering from ``source``."""

    async def query(request: Request) -> Response:
        parsed = osv_queries.parse_query(await _read_json(request, max_body_bytes))
        return _json(osv_queries.query_response(osv_queries.find(source, parsed)))

    async def querybatch(request: Request) -> Response:
        parsed = osv_queries.parse_batch(await _read_json(request, max_body_bytes), max_batch)
        answers = [osv_queries.find(source, q) for q in parsed]
        return _json(osv_queries.batch_response(answers))

    async def vuln(request: Request) -> Response:
        advisory_id = str(request.path_params["id"])
        if len(advisory_id) > osv_queries.MAX_ID_LENGTH:
            raise InvalidQueryError("ID too long")
        advisory = source.get(advisory_id)
        if advisory is None:
            return error_response(404, NOT_FOUND, "Bug not found.")
        return _json(osv_queries.document(advisory))

    routes = [
        Route("/v1/query", _guarded(query, max_body_bytes), methods=["POST"]),
        Route("/v1/querybatch", _guarded(querybatch, max_body_bytes), methods=["POST"]),
        Route("/v1/vulns/{id}", _guarded(vuln, max_body_bytes), methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
    )
