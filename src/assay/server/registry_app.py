"""The curated registry as an ASGI app (Starlette): the simple repository API per index.

For every configured index (prefix ``""`` or e.g. ``/prod``):

``GET <prefix>/simple/``                         project list (HTML or JSON)
``GET <prefix>/simple/<name>/``                  project page; other spellings -> 301
``GET <prefix>/files/<sha256>/<filename>``       the file (403 with the reasons if blocked)
``GET <prefix>/files/<sha256>/<filename>.metadata``  its PEP 658 core metadata

Pages are negotiated on ``Accept`` (or ``?format=json|html``) and carry
``Vary: Accept`` and an ``ETag``; a page served from cache while upstream is
down carries ``X-Assay-Stale``.  Errors are one line of ``text/plain``:
404 unknown, 403 blocked, 406 unacceptable ``Accept``, 502 hash mismatch
upstream, 503 upstream unreachable with nothing cached.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from packaging.utils import canonicalize_name
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from assay.registry.config import RegistryConfig
from assay.registry.model import IndexConfig
from assay.registry.ports import Governor, IntegrityError, Upstream, UpstreamUnavailable
from assay.registry.runtime import build_service
from assay.registry.service import Blocked, NotFound, RegistryService
from assay.registry.simple import negotiate
from assay.server.listen import base_url, bind_socket

VARY = "Accept"
PAGE_CACHE_CONTROL = "max-age=0, must-revalidate"
FILE_CACHE_CONTROL = "public, max-age=31536000, immutable"  # content-addressed
RETRY_AFTER = "30"


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


def _redirect(request: Request, path: str) -> Response:
    query = request.url.query
    return RedirectResponse(path + (f"?{query}" if query else ""), status_code=301)


def _failure(exc: Exception) -> Response:
    if isinstance(exc, NotFound):
        return _text(404, str(exc))
    if isinstance(exc, Blocked):
        return _text(403, str(exc))
    if isinstance(exc, IntegrityError):
        return _text(502, str(exc))
    if isinstance(exc, UpstreamUnavailable):
        return _text(503, f"upstream unavailable: {exc}", {"Retry-After": RETRY_AFTER})
    raise exc


def _index_routes(service: RegistryService, index: IndexConfig) -> list[BaseRoute]:
    simple = index.simple_path

    async def project_list(request: Request) -> Response:
        content_type = negotiate(request.headers.get("accept"), request.query_params.get("format"))
        if content_type is None:
            return _text(406, "acceptable: application/vnd.pypi.simple.v1+json, text/html")
        body = await service.index_body(index, content_type)
        return Response(body, media_type=content_type, headers={"Vary": VARY})

    async def project(request: Request) -> Response:
        name = str(request.path_params["name"])
        canonical = canonicalize_name(name)
        if name != canonical:
            return _redirect(request, f"{simple}{canonical}/")
        content_type = negotiate(request.headers.get("accept"), request.query_params.get("format"))
        if content_type is None:
            return _text(406, "acceptable: application/vnd.pypi.simple.v1+json, text/html")
        try:
            rendered = await service.page_body(index, canonical, content_type)
        except (NotFound, UpstreamUnavailable) as exc:
            return _failure(exc)
        headers = {"Vary": VARY, "ETag": rendered.etag, "Cache-Control": PAGE_CACHE_CONTROL}
        if rendered.stale:
            headers["X-Assay-Stale"] = "upstream unavailable; served from cache"
        if request.headers.get("if-none-match") == rendered.etag:
            return Response(status_code=304, headers=headers)
        return Response(rendered.body, media_type=content_type, headers=headers)

    async def slashless(request: Request) -> Response:
        name = canonicalize_name(str(request.path_params["name"]))
        return _redirect(request, f"{simple}{name}/")

    async def simple_root(request: Request) -> Response:
        return _redirect(request, simple)

    async def distribution(request: Request) -> Response:
        sha256 = str(request.path_params["sha256"])
        filename = str(request.path_params["filename"])
        try:
            if filename.endswith(".metadata"):
                path = await service.metadata(index, sha256, filename.removesuffix(".metadata"))
                media = "text/plain; charset=utf-8"
            else:
                path = await service.file(index, sha256, filename)
                media = "application/octet-stream"
        except (NotFound, Blocked, IntegrityError, UpstreamUnavailable) as exc:
            return _failure(exc)
        headers = {"Cache-Control": FILE_CACHE_CONTROL}
        return FileResponse(path, media_type=media, headers=headers)

    return [
        Route(simple, project_list, methods=["GET", "HEAD"]),
        Route(simple.rstrip("/"), simple_root, methods=["GET", "HEAD"]),
        Route(simple + "{name}/", project, methods=["GET", "HEAD"]),
        Route(simple + "{name}", slashless, methods=["GET", "HEAD"]),
        Route(index.files_path + "{sha256}/{filename}", distribution, methods=["GET", "HEAD"]),
    ]


async def _internal_error(request: Request, exc: Exception) -> Response:
    return _text(500, f"internal error: {type(exc).__name__}")


def create_app(
    service: RegistryService,
    config: RegistryConfig,
    *,
    routes: Sequence[BaseRoute] = (),
    middleware: Sequence[Middleware] = (),
    close_service: bool = True,
    on_shutdown: Sequence[Callable[[], object]] = (),
) -> Starlette:
    """The registry app; ``routes`` (uploads, admin) are matched before the index routes,
    ``middleware`` (authentication) wraps everything.  At shutdown the service is closed
    and every ``on_shutdown`` callable is called."""
    every: list[BaseRoute] = list(routes)
    for index in config.indexes:
        every += _index_routes(service, index)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if close_service:
                await service.aclose()
            for hook in on_shutdown:
                hook()

    return Starlette(
        routes=every,
        middleware=list(middleware),
        lifespan=lifespan,
        exception_handlers={Exception: _internal_error},
    )


def build_app(
    config: RegistryConfig,
    *,
    governor: Governor | None = None,
    upstream: Upstream | None = None,
    vet_cache: Path | None = None,
    vetting: bool = True,
) -> tuple[Starlette, RegistryService]:
    """The complete registry for ``config``: indexes, internal packages, uploads, tokens
    and the admin API (all state under ``config.state_dir``)."""
    from assay.server.registry_upload import InternalPackagesKit  # noqa: PLC0415 - it imports us

    kit = InternalPackagesKit(config.state_dir)
    try:
        options: dict[str, Any] = {} if vetting else {"vetter": None}
        service = build_service(
            config,
            governor=governor,
            internal=kit.store,
            upstream=upstream,
            vet_cache=vet_cache,
            **options,
        )
    except BaseException:
        kit.close()
        raise
    app = create_app(
        service,
        config,
        routes=kit.routes(service),
        middleware=kit.middleware(config.anonymous_read),
        on_shutdown=[kit.close],
    )
    return app, service


@contextlib.contextmanager
def running(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread; yields its base URL (``http://127.0.0.1:N``)."""
    sock = bind_socket(host, port)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        started = threading.Event()
        while not server.started and thread.is_alive():
            started.wait(0.01)
        if not server.started:
            raise RuntimeError("the registry server did not start")
        yield base_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
