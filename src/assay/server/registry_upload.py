"""The legacy upload API (``POST /legacy/`` or ``/upload/``): ``twine upload`` and ``uv publish``.

``twine upload --repository-url http://HOST:PORT/legacy/`` and
``uv publish --publish-url http://HOST:PORT/legacy/`` POST one
``multipart/form-data`` request per file.  The request must carry a token with
the ``upload`` scope (checked by :mod:`assay.server.registry_auth`) that may
upload to the project; the form is checked by :func:`assay.registry.uploads.parse_upload`,
the file name must be new, and the package analysis must score it under the
threshold.  Answers (``text/plain``, one line):

* 200 the file is stored;
* 400 a malformed form, a file that does not match its name, version or
  digests, or a file name already stored ("File already exists", which
  ``twine upload --skip-existing`` recognises);
* 401 no or a wrong token; 403 a token without the scope or project, or a
  file refused by vetting (with the score and reasons);
* 413 a request over the size limit (``max_bytes`` plus room for the fields).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from packaging.utils import NormalizedName
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message, Receive

from assay.registry.internal import DuplicateFileError, InternalStore, file_exists_message
from assay.registry.ports import Vetter
from assay.registry.service import RegistryService
from assay.registry.tokens import TokenStore
from assay.registry.uploads import (
    MAX_UPLOAD_BYTES,
    UncachedVetter,
    UploadError,
    UploadTooLargeError,
    parse_upload,
    vet_upload,
)
from assay.server.registry_admin import admin_routes
from assay.server.registry_auth import auth_middleware, forbidden, request_token, unauthorized
from assay.vetting.scoring import DEFAULT_THRESHOLD

UPLOAD_PATHS = ("/legacy/", "/legacy", "/upload/", "/upload")
FORM_ALLOWANCE = 1024 * 1024  # room for the form fields (description, classifiers) beside the file


class _TooLargeError(Exception):
    pass


def _limited(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises once the request body passes ``limit`` bytes."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLargeError
        return message

    return wrapped


def _text(message: str, status: int) -> Response:
    return PlainTextResponse(message + "\n", status_code=status)


class UploadEndpoint:
    """One ASGI endpoint for every upload path."""

    def __init__(
        self,
        store: InternalStore,
        vetter: Vetter,
        *,
        on_upload: Callable[[NormalizedName], object] | None = None,
        max_bytes: int = MAX_UPLOAD_BYTES,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.store = store
        self.vetter = vetter
        self.on_upload = on_upload
        self.max_bytes = max_bytes
        self.threshold = threshold

    async def handle(self, request: Request) -> Response:
        token = request_token(request)
        if token is None:
            return unauthorized("authentication required: a token with the upload scope")
        try:
            fields, filename, content = await self._read_form(request)
            upload = parse_upload(fields, filename, content, max_bytes=self.max_bytes)
            if not token.may_upload(upload.project):
                return forbidden(f"token {token.token_id} may not upload to {upload.project}")
            if self.store.has_file(upload.filename):
                raise DuplicateFileError(file_exists_message(upload.filename))
            summary = await vet_upload(upload, self.vetter, self.threshold)
            stored = await asyncio.to_thread(
                self.store.add, upload, uploader=token.token_id, vet=summary
            )
        except UploadError as exc:
            return _text(exc.message, exc.status)
        if self.on_upload is not None:
            self.on_upload(upload.project)
        return _text(f"OK: stored {stored.filename} (sha256 {stored.sha256})", 200)

    async def _read_form(self, request: Request) -> tuple[dict[str, str], str, bytes]:
        """(first value of each text field, the file part's name, its bytes)."""
        limit = self.max_bytes + FORM_ALLOWANCE
        too_large = UploadTooLargeError(
            f"the request is over the upload limit of {self.max_bytes} bytes"
        )
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise UploadError("expected a multipart/form-data upload form")
        limited = Request(request.scope, receive=_limited(request.receive, limit))
        try:
            form = await limited.form(max_files=1, max_fields=2000, max_part_size=FORM_ALLOWANCE)
        except _TooLargeError:
            raise too_large from None
        except HTTPException as exc:
            raise UploadError(f"malformed upload form: {exc.detail}") from None
        try:
            fields: dict[str, str] = {}
            for key, value in form.multi_items():
                if isinstance(value, str):
                    fields.setdefault(key, value)
            part = form.get("content")
            if not isinstance(part, UploadFile):
                raise UploadError("the form has no 'content' file part")
            return fields, part.filename or "", await part.read()
        finally:
            await form.close()


def upload_routes(
    store: InternalStore,
    *,
    vetter: Vetter,
    on_upload: Callable[[NormalizedName], object] | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Route]:
    """The upload routes (POST only; matched before the index routes)."""
    endpoint = UploadEndpoint(
        store, vetter, on_upload=on_upload, max_bytes=max_bytes, threshold=threshold
    )
    return [Route(path, endpoint.handle, methods=["POST"]) for path in UPLOAD_PATHS]


class InternalPackagesKit:
    """Everything internal packages add to a registry app, wired in three lines::

        kit = InternalPackagesKit(config.state_dir)
        service = build_service(config, ..., internal=kit.store)
        app = create_app(service, config, routes=kit.routes(service),
                         middleware=kit.middleware(config.anonymous_read))

    The upload vetting uses the service's vetter (so its cache is shared and a file
    vetted at upload is not vetted again when served), else the engine uncached.
    """

    def __init__(self, state_dir: Path, *, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.store = InternalStore(state_dir)
        self.tokens = TokenStore.in_directory(state_dir)
        self.max_bytes = max_bytes

    def routes(self, service: RegistryService) -> list[BaseRoute]:
        self.store.publish_metadata_to(service.store.put_bytes)
        vetter = service.vetter or UncachedVetter()
        uploads = upload_routes(
            self.store, vetter=vetter, on_upload=service.invalidate, max_bytes=self.max_bytes
        )
        admin = admin_routes(
            self.tokens, self.store, status=service.status, on_change=service.invalidate
        )
        return [*uploads, *admin]

    def middleware(self, anonymous_read: bool) -> list[Middleware]:
        return [auth_middleware(self.tokens, anonymous_read=anonymous_read)]

    def close(self) -> None:
        self.store.close()
        self.tokens.close()
