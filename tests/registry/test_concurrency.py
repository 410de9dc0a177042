"""Concurrency: one upstream download for many clients; no partial file after a crash."""

from __future__ import annotations

import contextlib
import hashlib
import random
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from assay.registry.config import RegistryConfig
from assay.registry.model import IndexConfig
from assay.registry.runtime import build_service
from assay.registry.service import RegistryService
from assay.server.registry_app import create_app, running
from tests.registry.upstream_index import JSON_TYPE, AssayServe, Dist, UpstreamIndex

CLIENTS = 50
WHEEL = "shared_file-1.0-py3-none-any.whl"


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[UpstreamIndex]:
    with UpstreamIndex(tmp_path) as index:
        # ~300 KiB, streamed in 16 KiB chunks: the download is long enough for the
        # clients to pile up on it (the assertions do not depend on timing).
        index.add(Dist("shared-file", "1.0", payload=random.Random(7).randbytes(150_000)))
        yield index


def _file_url(base: str, project: str, filename: str) -> str:
    page_url = f"{base}/simple/{project}/"
    page = httpx.get(page_url, headers={"Accept": JSON_TYPE}, timeout=60).json()
    entry = next(f for f in page["files"] if f["filename"] == filename)
    return str(urljoin(page_url, entry["url"])).split("#")[0]


def _published(state_dir: Path) -> dict[str, str]:
    """``name digest -> content digest`` of every file under a digest's name in the store."""
    found = {}
    for path in (state_dir / "files" / "sha256").glob("*/*"):
        if path.is_file() and not path.name.startswith(".partial-"):
            found[path.parent.name + path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _registry(
    upstream: UpstreamIndex, tmp_path: Path, state_dir: Path
) -> tuple[RegistryConfig, RegistryService]:
    """One production index in front of ``upstream``, its files under ``state_dir``."""
    config = RegistryConfig(
        state_dir=state_dir,
        upstream_urls=(upstream.simple_url,),
        indexes=(IndexConfig("default", "production"),),
    )
    return config, build_service(config, vet_cache=tmp_path / "vet-cache.sqlite3")


def _partials(state_dir: Path) -> list[Path]:
    return list((state_dir / "files").rglob(".partial-*"))


def test_fifty_clients_share_one_upstream_download(upstream: UpstreamIndex, tmp_path: Path) -> None:
    state_dir = tmp_path / "registry"
    config, service = _registry(upstream, tmp_path, state_dir)
    expected = upstream.file(WHEEL).sha256
    upstream.slow(0.005)
    with running(create_app(service, config)) as base:
        url = _file_url(base, "shared-file", WHEEL)
        assert upstream.file_hits(WHEEL) == 0  # the page alone downloads nothing
        barrier = threading.Barrier(CLIENTS)
        results: list[tuple[int, str]] = []
        lock = threading.Lock()

        def fetch() -> None:
            with httpx.Client(timeout=120) as client:
                barrier.wait()
                response = client.get(url)
                digest = hashlib.sha256(response.content).hexdigest()
                with lock:
                    results.append((response.status_code, digest))

        threads = [threading.Thread(target=fetch) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(results) == CLIENTS
    assert results == [(200, expected)] * CLIENTS
    assert upstream.file_hits(WHEEL) == 1
    published = _published(state_dir)
    assert published[expected] == expected
    assert all(name == digest for name, digest in published.items())
    assert _partials(state_dir) == []


def test_upstream_cut_mid_download_stores_nothing(upstream: UpstreamIndex, tmp_path: Path) -> None:
    state_dir = tmp_path / "registry"
    config, service = _registry(upstream, tmp_path, state_dir)
    expected = upstream.file(WHEEL).sha256
    with running(create_app(service, config)) as base:
        url = _file_url(base, "shared-file", WHEEL)
        upstream.cut_after(WHEEL, upstream.file(WHEEL).size // 2)
        failed = httpx.get(url, timeout=120)
        assert failed.status_code in (502, 503), failed.status_code
        assert upstream.file_hits(WHEEL) >= 1
        published = _published(state_dir)
        assert expected not in published
        assert all(name == digest for name, digest in published.items())
        assert _partials(state_dir) == []
        upstream.cut_after(WHEEL, None)
        again = httpx.get(url, timeout=120)
    assert again.status_code == 200
    assert hashlib.sha256(again.content).hexdigest() == expected


def test_registry_killed_mid_download_leaves_no_partial_file(
    upstream: UpstreamIndex, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    state_dir = home / "registry"
    expected = upstream.file(WHEEL).sha256
    # A policy with no rules: this test is about the store, not about governance.
    policy = tmp_path / "no-rules.toml"
    policy.write_text('[policy]\nstages = ["production"]\n', encoding="utf-8")
    env = {"ASSAY_POLICY": str(policy)}
    server = AssayServe(home, upstream.simple_url, extra_env=env)
    with server:
        url = _file_url(server.base_url, "shared-file", WHEEL)
        upstream.slow(0.05)
        # The request is under way (its upstream download counted) when the server dies.
        request = threading.Thread(target=lambda: _swallow(url), daemon=True)
        request.start()
        while upstream.file_hits(WHEEL) == 0:
            threading.Event().wait(0.01)
        server.kill()
        request.join(timeout=60)
    published = _published(state_dir)  # whatever is under a digest's name is complete
    assert expected not in published
    assert all(name == digest for name, digest in published.items())
    upstream.slow(0)
    with AssayServe(home, upstream.simple_url, extra_env=env) as restarted:
        response = httpx.get(url.replace(server.base_url, restarted.base_url), timeout=120)
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == expected


def _swallow(url: str) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(url, timeout=60)
