"""Download the wheel and the sdist of the N most-downloaded projects (the benign corpus).

    .venv/bin/python -m benchmarks.vet.fetch_top [--top 500] [--cache DIR]
        [--max-file-mb 200] [--max-total-gb 25] [--workers 4]

Files go to ``DIR/files/`` (default ``~/.cache/assay-bench/top-N/``, outside the
repository) and every project's outcome to ``DIR/manifest.json``, rewritten after
each project, so an interrupted run resumes where it stopped: files already there
with the right sha256 are kept, failures are retried.

The index is pip's own: ``PIP_INDEX_URL``, else ``index-url`` from ``pip config``,
else pip's built-in default.  Files are chosen from the index's PEP 691 JSON
listing the way pip chooses them (newest release that is not yanked, not a
pre-release, and whose ``requires-python`` admits this interpreter; the wheel
whose tags rank best for this platform; the sdist of the same release, or of the
newest release that has one) and fetched with httpx, checking the listed sha256.
``pip download --no-binary :all:`` is not used for sdists because it runs the
build backend to prepare metadata (it executes ``setup.py``), and neither pip
command can refuse a file by size before downloading it; the listing gives the
size, so files over ``--max-file-mb`` (CUDA libraries) are skipped and counted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, sys_tags
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from benchmarks.vet.corpus import BENIGN_MANIFEST, TOP_PACKAGES, parse_top_packages

JSON_ACCEPT = "application/vnd.pypi.simple.v1+json"
SDIST_SUFFIXES = (".tar.gz", ".zip")
MiB = 1024 * 1024


def pip_setting(key: str) -> str | None:
    """A value from ``pip config list`` (environment, then files), or None."""
    env = os.environ.get(f"PIP_{key.upper().replace('-', '_')}")
    if env:
        return env.split()[0]
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False
    ).stdout
    for line in out.splitlines():
        name, _, value = line.partition("=")
        if name.rpartition(".")[2] == key and value:
            return value.strip().strip("'\"").split()[0]
    return None


def pip_index_url() -> str:
    configured = pip_setting("index-url")
    if configured:
        return configured.rstrip("/") + "/"
    # pip's own built-in default index, as pip itself resolves it
    from pip._internal.models.index import PyPI  # noqa: PLC0415

    return str(PyPI.simple_url).rstrip("/") + "/"


def _version(filename: str) -> tuple[str, Version, frozenset[Tag]] | None:
    """(kind, version, wheel tags) of an index file name; None for other kinds."""
    try:
        if filename.endswith(".whl"):
            _, version, _, tags = parse_wheel_filename(filename)
            return "wheel", version, tags
        if filename.endswith(SDIST_SUFFIXES):
            return "sdist", parse_sdist_filename(filename)[1], frozenset()
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def _python_ok(requires: object, python: Version) -> bool:
    if not isinstance(requires, str) or not requires.strip():
        return True
    try:
        return SpecifierSet(requires).contains(python, prereleases=True)
    except InvalidSpecifier:
        return True


def select_files(
    files: Iterable[dict[str, Any]], tags: list[Tag], python: Version
) -> dict[str, dict[str, Any]]:
    """The wheel and sdist pip would pick from a PEP 691 file list: {"wheel": f, "sdist": f}."""
    rank = {tag: i for i, tag in enumerate(tags)}
    candidates: list[tuple[Version, str, int, dict[str, Any]]] = []
    for f in files:
        parsed = _version(str(f.get("filename", "")))
        if parsed is None or f.get("yanked") not in (None, False):
            continue
        kind, version, wheel_tags = parsed
        if kind == "wheel":
            if not _python_ok(f.get("requires-python"), python):
                continue
            best = min((rank[t] for t in wheel_tags if t in rank), default=None)
            if best is None:
                continue
            candidates.append((version, kind, best, f))
        else:
            candidates.append((version, kind, 0, f))
    if any(not v.is_prerelease for v, *_ in candidates):
        candidates = [c for c in candidates if not c[0].is_prerelease]
    chosen: dict[str, dict[str, Any]] = {}
    # newest release first, then the best-ranked tag within it
    wheels = sorted((c for c in candidates if c[1] == "wheel"), key=lambda c: c[2])
    wheels.sort(key=lambda c: c[0], reverse=True)
    if wheels:
        chosen["wheel"] = wheels[0][3]
    sdists = sorted((c for c in candidates if c[1] == "sdist"), key=lambda c: c[0], reverse=True)
    if sdists:
        same = [c for c in sdists if wheels and c[0] == wheels[0][0]]
        chosen["sdist"] = (same or sdists)[0][3]
    return chosen


class Fetcher:
    def __init__(self, cache: Path, index: str, max_file: int, max_total: int) -> None:
        self.cache, self.index, self.max_file, self.max_total = cache, index, max_file, max_total
        self.files = cache / "files"
        self.files.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.manifest = self._load()
        self.total = sum(
            f["size"]
            for p in self.manifest["projects"].values()
            for f in p["files"]
            if f["status"] == "ok"
        )
        verify: str | bool = pip_setting("cert") or True
        self.client = httpx.Client(
            timeout=httpx.Timeout(60.0, connect=30.0), follow_redirects=True, verify=verify
        )
        self.tags = list(sys_tags())
        self.python = Version(".".join(map(str, sys.version_info[:3])))

    def _load(self) -> dict[str, Any]:
        path = self.cache / BENIGN_MANIFEST
        if path.exists():
            loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return loaded
        return {"schema": "assay.bench.top/1", "projects": {}}

    def save(self) -> None:
        path = self.cache / BENIGN_MANIFEST
        tmp = path.with_suffix(".tmp")
        with self.lock:
            self.manifest["index"] = self.index
            self.manifest["platform_tag"] = str(self.tags[0])
            tmp.write_text(json.dumps(self.manifest, indent=1, sort_keys=True), encoding="utf-8")
            tmp.replace(path)

    def done(self, project: str) -> bool:
        record = self.manifest["projects"].get(project)
        return bool(record) and all(f["status"] != "failed" for f in record["files"])

    def _get(self, url: str, **headers: str) -> httpx.Response:
        for attempt in range(3):
            try:
                response = self.client.get(url, headers=headers)
                if response.status_code < 500:
                    return response
            except httpx.TransportError:
                if attempt == 2:
                    raise
            time.sleep(2**attempt)
        return response

    def _download(self, f: dict[str, Any], target: Path) -> None:
        expected = str(f["hashes"]["sha256"]).lower()
        if target.exists() and _sha256(target) == expected:
            return
        part = target.with_name(target.name + ".part")
        digest = hashlib.sha256()
        with self.client.stream("GET", str(f["url"])) as response, part.open("wb") as out:
            response.raise_for_status()
            for chunk in response.iter_bytes(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != expected:
            part.unlink()
            raise ValueError("sha256 mismatch")
        part.replace(target)

    def fetch(self, project: str, rank: int) -> dict[str, Any]:
        record: dict[str, Any] = {"rank": rank, "files": []}
        try:
            response = self._get(self.index + canonicalize_name(project) + "/", Accept=JSON_ACCEPT)
            response.raise_for_status()
            chosen = select_files(response.json().get("files", []), self.tags, self.python)
        except (httpx.HTTPError, ValueError) as exc:
            record["files"] = [{"kind": "listing", "status": "failed", "error": _short(exc)}]
            return record
        for kind in ("wheel", "sdist"):
            f = chosen.get(kind)
            if f is None:
                record["files"].append({"kind": kind, "status": "unavailable"})
                continue
            row: dict[str, Any] = {
                "kind": kind,
                "filename": f["filename"],
                "version": str(_version(f["filename"])[1]),  # type: ignore[index]
                "sha256": str(f["hashes"].get("sha256", "")).lower(),
                "size": int(f.get("size") or 0),
            }
            record["files"].append(row)
            if row["size"] > self.max_file:
                row["status"] = "skipped-size"
                continue
            with self.lock:
                over = self.total + row["size"] > self.max_total
                if not over:
                    self.total += row["size"]
            if over:
                row["status"] = "skipped-total"
                continue
            try:
                self._download(f, self.files / row["filename"])
                row["status"] = "ok"
            except (httpx.HTTPError, OSError, ValueError, KeyError) as exc:
                with self.lock:
                    self.total -= row["size"]
                row.update(status="failed", error=_short(exc))
        return record


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def summarise(manifest: dict[str, Any]) -> str:
    statuses: Counter[str] = Counter()
    size = 0
    for record in manifest["projects"].values():
        for f in record["files"]:
            statuses[f"{f['kind']}:{f['status']}"] += 1
            size += f.get("size", 0) if f["status"] == "ok" else 0
    parts = ", ".join(f"{k}={v}" for k, v in sorted(statuses.items()))
    return f"{len(manifest['projects'])} projects, {size / MiB:.0f} MiB on disk; {parts}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--top", type=int, default=500)
    parser.add_argument("--cache", type=Path, help="default: ~/.cache/assay-bench/top-N")
    parser.add_argument("--max-file-mb", type=float, default=200.0)
    parser.add_argument("--max-total-gb", type=float, default=25.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--top-list", type=Path, default=TOP_PACKAGES)
    args = parser.parse_args(argv)
    cache = (args.cache or Path.home() / ".cache" / "assay-bench" / f"top-{args.top}").resolve()
    repo = Path(__file__).resolve().parents[2]
    if cache == repo or repo in cache.parents:
        parser.error(f"--cache {cache} is inside the repository; choose a directory outside it")
    projects = parse_top_packages(args.top_list.read_bytes(), str(args.top_list))[: args.top]
    fetcher = Fetcher(
        cache, pip_index_url(), int(args.max_file_mb * MiB), int(args.max_total_gb * 1024 * MiB)
    )
    todo = [(p, i + 1) for i, p in enumerate(projects) if not fetcher.done(p)]
    print(f"{len(projects) - len(todo)} projects cached, {len(todo)} to fetch into {cache}")

    def work(item: tuple[str, int]) -> None:
        record = fetcher.fetch(*item)
        with fetcher.lock:
            fetcher.manifest["projects"][item[0]] = record
        fetcher.save()
        states = " ".join(f"{f['kind']}={f['status']}" for f in record["files"])
        with fetcher.lock:
            print(f"[{item[1]:>4}] {item[0]}: {states}", flush=True)

    with ThreadPoolExecutor(max_workers=max(args.workers, 1)) as pool:
        list(pool.map(work, todo))
    fetcher.save()
    print(summarise(fetcher.manifest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
