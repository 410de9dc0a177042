"""``assay db sync``: fetch the configured OSV export and import it.

The export location is an ``http(s)://`` URL (streamed to a temporary file
within a size limit and a timeout), a ``file://`` URL or a local path (a mirror
of ``all.zip``, a directory of records or a PyPA checkout): all are imported the
same way, so a machine without network access syncs from a local mirror.  A
download that fails or is cut short raises :class:`AdvisoryError` (exit 4)
before anything is imported.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit
from urllib.request import url2pathname

import httpx

from assay import __version__
from assay.advisories.importing import ImportSummary, ZipLimits, import_source, source_label
from assay.advisories.ports import AdvisoryError
from assay.advisories.store import AdvisoryDatabase
from assay.errors import UsageError

MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024
TIMEOUT_SECONDS = 60.0
NO_URL = (
    "no OSV export configured: set ASSAY_OSV_EXPORT_URL (or pass --url) to your mirror of "
    "OSV's PyPI all.zip, a file:// URL or a local path"
)


def redact(url: str) -> str:
    """The URL without user:password, for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def local_path(url: str) -> Path | None:
    """The local path a ``file://`` URL or plain path names; None for http(s)."""
    parts = urlsplit(url)
    if parts.scheme in {"http", "https"}:
        return None
    if parts.scheme == "file":
        if parts.netloc not in {"", "localhost"}:
            raise UsageError(f"{url}: only local file:// URLs are supported")
        return Path(url2pathname(unquote(parts.path)))
    if parts.scheme and len(parts.scheme) > 1:  # one letter: a Windows drive
        raise UsageError(f"{redact(url)}: unsupported URL scheme {parts.scheme!r}")
    return Path(url).expanduser()


def download(
    url: str,
    directory: Path,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = TIMEOUT_SECONDS,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> Path:
    """Stream ``url`` into a file in ``directory``; AdvisoryError unless complete."""
    shown = redact(url)
    name = Path(urlsplit(url).path).name or "export.zip"
    target = directory / (name if name.endswith((".zip", ".json", ".yaml")) else "export.zip")
    headers = {"User-Agent": f"assay/{__version__}"}
    try:
        with (
            httpx.Client(
                transport=transport, timeout=timeout, follow_redirects=True, headers=headers
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != httpx.codes.OK:
                raise AdvisoryError(f"cannot sync from {shown}: HTTP {response.status_code}")
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                raise AdvisoryError(f"cannot sync from {shown}: larger than {max_bytes} bytes")
            received = 0
            with target.open("wb") as handle:
                for chunk in response.iter_bytes():
                    received += len(chunk)
                    if received > max_bytes:
                        raise AdvisoryError(
                            f"cannot sync from {shown}: larger than {max_bytes} bytes"
                        )
                    handle.write(chunk)
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise AdvisoryError(f"cannot sync from {shown}: {reason}") from None
    except OSError as exc:
        raise AdvisoryError(f"cannot sync from {shown}: {exc.strerror or exc}") from None
    return target


@contextmanager
def fetched(
    url: str | None,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = TIMEOUT_SECONDS,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> Iterator[tuple[Path, str]]:
    """The export at ``url`` as a local path and the label to record it under.

    A download lives in a temporary directory removed when the block ends.
    """
    if not url:
        raise UsageError(NO_URL)
    path = local_path(url)
    if path is not None:
        if not path.exists():
            raise AdvisoryError(f"cannot sync from {url}: {path} does not exist")
        yield path, source_label(path)
        return
    with tempfile.TemporaryDirectory(prefix="assay-sync-") as scratch:
        fetched_path = download(
            url, Path(scratch), transport=transport, timeout=timeout, max_bytes=max_bytes
        )
        yield fetched_path, redact(url)


def sync(
    database: AdvisoryDatabase,
    url: str | None,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = TIMEOUT_SECONDS,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    limits: ZipLimits | None = None,
) -> ImportSummary:
    """Fetch the export at ``url`` and import it as one source labelled with the URL."""
    with fetched(url, transport=transport, timeout=timeout, max_bytes=max_bytes) as (path, label):
        return import_source(database, path, label=label, limits=limits)
