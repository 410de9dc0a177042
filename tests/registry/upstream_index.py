"""A local upstream package index for the registry's tests and benchmark.

:class:`UpstreamIndex` builds real wheels (and sdists) of tiny packages the
test describes with :class:`Dist` (:mod:`tests.registry.wheels`) and serves
them on 127.0.0.1 (a random free port, a ``ThreadingHTTPServer`` in a thread)
as a PEP 503 HTML and PEP 691 JSON simple repository with content negotiation
and ``Vary: Accept``, PEP 592 yanked files, PEP 658/714 ``.metadata`` files,
PEP 700 ``versions``/``size``/``upload-time``, redirects to normalised names
and ETags.  Switches: :meth:`UpstreamIndex.corrupt` (other bytes than the
advertised hash), :meth:`UpstreamIndex.cut_after` (hang up mid-file),
:meth:`UpstreamIndex.down` (refuse connections, or answer 503),
:meth:`UpstreamIndex.slow` (stream files slowly), and a request counter per
path (:meth:`UpstreamIndex.hits`).  ``assay serve`` as a subprocess and the
client environment for pip/uv come from :mod:`tests.registry.serving` (all
re-exported here).

Use it as a context manager: the server always stops on exit::

    with UpstreamIndex(tmp_path) as upstream:
        upstream.add(Dist("demo", "1.0"))
        ... upstream.simple_url ...
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name

from tests.registry.serving import AssayServe, client_env, free_port, recent
from tests.registry.wheels import OLD, Dist, build_sdist, build_wheel, metadata_text

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
LEGACY_HTML = "text/html"
__all__ = [
    "HTML_TYPE",
    "JSON_TYPE",
    "OLD",
    "AssayServe",
    "Dist",
    "HostedFile",
    "UpstreamIndex",
    "build_sdist",
    "build_wheel",
    "client_env",
    "free_port",
    "metadata_text",
    "negotiate",
    "recent",
]


@dataclass(frozen=True)
class HostedFile:
    """A file of the index: its bytes on disk and what the index says of it."""

    dist: Dist
    filename: str
    path: Path
    sha256: str
    size: int
    metadata: bytes  # the core metadata (PEP 658), empty for sdists served without it
    upload_time: datetime
    yanked: str | None

    @property
    def metadata_sha256(self) -> str:
        return hashlib.sha256(self.metadata).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def negotiate(accept: str | None) -> str | None:
    """The simple-API content type for an ``Accept`` header, None when none is acceptable."""
    if not accept:
        return HTML_TYPE
    best: tuple[float, int, str] | None = None
    preference = {JSON_TYPE: 3, HTML_TYPE: 2, LEGACY_HTML: 1}
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        quality = 1.0
        for parameter in pieces[1:]:
            key, _, value = parameter.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        candidates = [media] if media in preference else []
        if media in {"*/*", "application/*"}:
            candidates = [HTML_TYPE]
        if media == "text/*":
            candidates = [LEGACY_HTML]
        for candidate in candidates:
            key3 = (quality, preference[candidate], candidate)
            if quality > 0 and (best is None or key3 > best):
                best = key3
    return best[2] if best else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def server_activate(self) -> None:
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().server_activate()

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        connection, address = self.socket.accept()
        with self.connections_lock:
            self.connections.add(connection)
        return connection, address

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut every open (keep-alive) connection, as a server that went away would."""
        with self.connections_lock:
            open_now = list(self.connections)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


@dataclass
class _State:
    files: dict[str, HostedFile] = field(default_factory=dict)  # filename -> file
    corrupted: set[str] = field(default_factory=set)
    cut: dict[str, int] = field(default_factory=dict)  # filename -> bytes sent before hanging up
    hits: Counter[str] = field(default_factory=Counter)
    failing: bool = False
    delay: float = 0.0  # seconds per 16 KiB chunk of a file body
    lock: threading.Lock = field(default_factory=threading.Lock)


class UpstreamIndex:
    """A PEP 503/691 index over the distributions added to it (see the module docstring)."""

    def __init__(self, directory: Path, host: str = "127.0.0.1") -> None:
        self.directory = directory / "upstream-files"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = 0
        self._state = _State()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- content -------------------------------------------------------------------------
    def add(self, dist: Dist, *, wheel: bool = True, sdist: bool = False) -> list[HostedFile]:
        """Build and publish ``dist`` (a wheel, and an sdist when asked)."""
        built = []
        if wheel:
            built.append(build_wheel(dist, self.directory))
        if sdist:
            built.append(build_sdist(dist, self.directory))
        hosted = [self._host(dist, path) for path in built]
        with self._state.lock:
            for item in hosted:
                self._state.files[item.filename] = item
        return hosted

    def _host(self, dist: Dist, path: Path) -> HostedFile:
        data = path.read_bytes()
        return HostedFile(
            dist=dist,
            filename=path.name,
            path=path,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            metadata=metadata_text(dist).encode("utf-8"),
            upload_time=dist.upload_time,
            yanked=dist.yanked,
        )

    def file(self, filename: str) -> HostedFile:
        return self._state.files[filename]

    def files_of(self, project: str) -> list[HostedFile]:
        wanted = canonicalize_name(project)
        with self._state.lock:
            found = [f for f in self._state.files.values() if f.dist.project == wanted]
        return sorted(found, key=lambda f: f.filename)

    def projects(self) -> list[str]:
        with self._state.lock:
            return sorted({f.dist.project for f in self._state.files.values()})

    # -- switches ------------------------------------------------------------------------
    def corrupt(self, filename: str, corrupted: bool = True) -> None:
        """Serve ``filename`` with one byte changed (its advertised hash stays the same)."""
        with self._state.lock:
            (self._state.corrupted.add if corrupted else self._state.corrupted.discard)(filename)

    def cut_after(self, filename: str, size: int | None) -> None:
        """Hang up after ``size`` bytes of ``filename`` (a crash mid-download); None: off."""
        with self._state.lock:
            if size is None:
                self._state.cut.pop(filename, None)
            else:
                self._state.cut[filename] = size

    def slow(self, seconds_per_chunk: float) -> None:
        """Sleep this long before each 16 KiB chunk of every file body (0: full speed)."""
        self._state.delay = seconds_per_chunk

    def down(self, mode: str = "refuse") -> None:
        """Go down: ``refuse`` closes the socket (connection refused); ``error`` answers 503."""
        if mode == "error":
            self._state.failing = True
        elif mode == "refuse":
            self._stop_server()
        else:
            raise ValueError(f"unknown mode {mode!r}")

    def up(self) -> None:
        """Answer again, on the same port."""
        self._state.failing = False
        if self._server is None:
            self._start_server(self.port)

    def hits(self, path: str) -> int:
        """How many requests reached ``path`` (e.g. ``/files/demo-1.0-py3-none-any.whl``)."""
        with self._state.lock:
            return self._state.hits[path]

    def file_hits(self, filename: str) -> int:
        return self.hits(f"/files/{filename}")

    def reset_hits(self) -> None:
        with self._state.lock:
            self._state.hits.clear()

    # -- addresses -----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def simple_url(self) -> str:
        return f"{self.base_url}/simple/"

    def file_url(self, filename: str) -> str:
        return f"{self.base_url}/files/{filename}"

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> UpstreamIndex:
        self._start_server(0)
        return self

    def stop(self) -> None:
        self._stop_server()

    def __enter__(self) -> UpstreamIndex:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _start_server(self, port: int) -> None:
        index = self

        class Handler(_Handler):
            owner = index

        server = _Server((self.host, port), Handler)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def _stop_server(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_connections()
        if thread is not None:
            thread.join(timeout=10)

    # -- pages ---------------------------------------------------------------------------
    def project_json(self, project: str) -> dict[str, object]:
        files = self.files_of(project)
        versions = sorted({f.dist.version for f in files})
        entries: list[dict[str, object]] = []
        for item in files:
            entry: dict[str, object] = {
                "filename": item.filename,
                "url": self.file_url(item.filename),
                "hashes": {"sha256": item.sha256},
                "size": item.size,
                "upload-time": _iso(item.upload_time),
                "yanked": item.yanked if item.yanked is not None else False,
            }
            if item.dist.requires_python is not None:
                entry["requires-python"] = item.dist.requires_python
            if item.filename.endswith(".whl"):
                meta = {"sha256": item.metadata_sha256}
                entry["core-metadata"] = meta
                entry["data-dist-info-metadata"] = meta
            entries.append(entry)
        return {
            "meta": {"api-version": "1.1"},
            "name": canonicalize_name(project),
            "versions": versions,
            "files": entries,
        }

    def project_html(self, project: str) -> str:
        links = []
        for item in self.files_of(project):
            attributes = [f'href="{self.file_url(item.filename)}#sha256={item.sha256}"']
            if item.dist.requires_python is not None:
                attributes.append(
                    f'data-requires-python="{html.escape(item.dist.requires_python)}"'
                )
            if item.filename.endswith(".whl"):
                meta = f"sha256={item.metadata_sha256}"
                attributes += [f'data-core-metadata="{meta}"', f'data-dist-info-metadata="{meta}"']
            if item.yanked is not None:
                attributes.append(f'data-yanked="{html.escape(item.yanked)}"')
            links.append(f"<a {' '.join(attributes)}>{item.filename}</a><br/>")
        name = canonicalize_name(project)
        return (
            '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.1">'
            f"<title>Links for {name}</title></head><body><h1>Links for {name}</h1>\n"
            + "\n".join(links)
            + "\n</body></html>\n"
        )

    def index_json(self) -> dict[str, object]:
        return {
            "meta": {"api-version": "1.1"},
            "projects": [{"name": p} for p in self.projects()],
        }

    def index_html(self) -> str:
        links = "\n".join(f'<a href="/simple/{p}/">{p}</a><br/>' for p in self.projects())
        return (
            '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.1">'
            f"<title>Simple index</title></head><body>\n{links}\n</body></html>\n"
        )


_PROJECT = re.compile(r"^/simple/(?P<name>[^/]+)(?P<slash>/?)$")


class _Handler(BaseHTTPRequestHandler):
    owner: UpstreamIndex
    protocol_version = "HTTP/1.1"
    server_version = "assay-test-upstream/1.0"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        return

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        state = self.owner._state
        path = unquote(urlsplit(self.path).path)
        with state.lock:
            state.hits[path] += 1
        if state.failing:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"upstream is down\n", "text/plain", head)
            return
        if path.startswith("/files/"):
            self._serve_file(path.removeprefix("/files/"), head)
            return
        if path in {"/simple", "/simple/"}:
            self._serve_page(None, head)
            return
        match = _PROJECT.match(path)
        if match is None:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", head)
            return
        name = match.group("name")
        normal = canonicalize_name(name)
        if name != normal or not match.group("slash"):
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", f"/simple/{normal}/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if not self.owner.files_of(normal):
            self._send(HTTPStatus.NOT_FOUND, b"no such project\n", "text/plain", head)
            return
        self._serve_page(normal, head)

    def _serve_page(self, project: str | None, head: bool) -> None:
        kind = negotiate(self.headers.get("Accept"))
        if kind is None:
            self._send(HTTPStatus.NOT_ACCEPTABLE, b"not acceptable\n", "text/plain", head)
            return
        if kind == JSON_TYPE:
            document = (
                self.owner.index_json() if project is None else self.owner.project_json(project)
            )
            body = json.dumps(document, sort_keys=True).encode("utf-8")
        else:
            page = self.owner.index_html() if project is None else self.owner.project_html(project)
            body = page.encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("ETag", etag)
            self.send_header("Vary", "Accept")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._send(HTTPStatus.OK, body, kind, head, {"ETag": etag, "Vary": "Accept"})

    def _serve_file(self, name: str, head: bool) -> None:
        state = self.owner._state
        metadata = name.endswith(".metadata")
        hosted = state.files.get(name.removesuffix(".metadata") if metadata else name)
        if hosted is None or (metadata and not hosted.filename.endswith(".whl")):
            self._send(HTTPStatus.NOT_FOUND, b"no such file\n", "text/plain", head)
            return
        if metadata:
            self._send(HTTPStatus.OK, hosted.metadata, "application/octet-stream", head)
            return
        data = hosted.path.read_bytes()
        if hosted.filename in state.corrupted:
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if head:
            return
        limit = state.cut.get(hosted.filename)
        if limit is not None:
            self.wfile.write(data[:limit])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        chunk = 16 * 1024
        try:
            for start in range(0, len(data), chunk):
                if state.delay:
                    time.sleep(state.delay)
                self.wfile.write(data[start : start + chunk])
        except (BrokenPipeError, ConnectionResetError):
            return

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str,
        head: bool,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)
