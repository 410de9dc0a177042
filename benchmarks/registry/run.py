"""Benchmark: `assay serve` against devpi-server and proxpi in front of the same local upstream.

    .venv/bin/python -m benchmarks.registry.run [--prepare] [--rounds 3] [--clients 16]

One local upstream index (:mod:`benchmarks.registry.corpus`: 30 projects, five
releases each, real wheels built locally) is served on 127.0.0.1; assay
(twice: with the policy governor and with AllowAll), devpi-server and proxpi
are started as their own processes in front of it, each with fresh state.

(a) warm ``/simple/<project>/`` pages per second, JSON (PEP 691) and HTML, with
    ``--clients`` concurrent keep-alive clients; p50/p99 latency;
(b) warm file downloads per second (the 30 newest wheels, 20 KiB - 2 MiB);
(c) policy overhead: warm JSON pages and file downloads by one client, the
    policy governor vs AllowAll, p50 difference (target < 1 ms);
(d) a cold install of the 30-package set, ``pip install --no-deps --target`` and
    ``uv pip install --no-deps --target`` with no client cache, each through a
    freshly started server (so every page and file goes upstream once).

Rounds are interleaved (server order rotates each round); throughput is the
median over rounds, latencies are pooled.  Before timing, every server's copy
of each newest wheel is checked against the upstream's sha256, and the script
exits 1 on any mismatch.  ``--prepare`` (re)creates the peers' venv
(``.bench/registry-venv``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
from tests.registry.upstream_index import JSON_TYPE, AssayServe, UpstreamIndex, client_env

from benchmarks.harness import timed
from benchmarks.registry import corpus, peers
from benchmarks.registry.load import Run, hammer, median, percentile

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / ".bench" / "registry-results.json"
ADVISORIES = ROOT / "tests" / "assets" / "advisories" / "osv"
HTML_ACCEPT = "text/html"
POLICY = """\
[policy]
stages = ["sandbox", "staging", "production"]
unavailable = "warn"

[rules.vulnerabilities]
action = "block"
severity = "high"

[rules.licenses]
action = "block"
allow = ["MIT", "MIT-CMU", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "PSF-2.0", "MPL-2.0"]
unlisted = "block"
unknown = "warn"

[rules.cooldown]
action = "block"
days = 7

[rules.denylist]
action = "block"
packages = ["evil-pkg"]

[rules.yanked]
action = "block"
"""


class Assay(peers.Peer):
    """``assay serve`` (the tests' :class:`AssayServe`), with or without a policy."""

    def __init__(self, workdir: Path, upstream_url: str, env: dict[str, str], label: str) -> None:
        self.label = label
        super().__init__(workdir, upstream_url)
        self.server = AssayServe(workdir, upstream_url, extra_env=env)
        self.port = self.server.port

    @property
    def simple_url(self) -> str:
        return self.server.simple_url

    def start(self) -> Assay:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()


class AssayVariant(peers.Peer):
    """The same app with AllowAll or without vetting (:mod:`benchmarks.registry.assay_variant`)."""

    def __init__(
        self, workdir: Path, upstream_url: str, env: dict[str, str], label: str, *flags: str
    ) -> None:
        self.label = label
        super().__init__(workdir, upstream_url)
        self.env, self.flags = env, flags

    @property
    def simple_url(self) -> str:
        return f"{self.base_url}/simple/"

    def start(self) -> AssayVariant:
        command = [sys.executable, "-m", "benchmarks.registry.assay_variant", *self.flags]
        command += ["--port", str(self.port), "--upstream", self.upstream_url]
        command += ["--state-dir", str(self.workdir / "registry")]
        env = {**os.environ, "ASSAY_HOME": str(self.workdir), "PYTHONPATH": str(ROOT), **self.env}
        self._spawn(command, env)
        return self


Factory = Callable[[Path], peers.Peer]


def _factories(upstream: str, policy_env: dict[str, str]) -> dict[str, Factory]:
    return {
        "assay": lambda d: Assay(d, upstream, policy_env, "assay"),
        "assay-allowall": lambda d: AssayVariant(
            d, upstream, policy_env, "assay-allowall", "--allow-all"
        ),
        "assay-novet": lambda d: AssayVariant(
            d, upstream, policy_env, "assay-novet", "--no-vetting"
        ),
        "devpi": lambda d: peers.Devpi(d, upstream),
        "proxpi": lambda d: peers.Proxpi(d, upstream),
    }


def _policy_env(workdir: Path) -> dict[str, str]:
    """A policy file and a small advisory database for the governed assay."""
    workdir.mkdir(parents=True, exist_ok=True)
    policy = workdir / "assay-policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    database = workdir / "advisories.sqlite3"
    env = {**os.environ, "ASSAY_DB": str(database), "ASSAY_HOME": str(workdir)}
    timed([str(BIN / "assay"), "db", "import", str(ADVISORIES)], env)
    return {"ASSAY_POLICY": str(policy), "ASSAY_DB": str(database)}


def _warm(server: peers.Peer, upstream: UpstreamIndex, newest: set[str]) -> list[str]:
    """Fetch every page (JSON, HTML) and newest file once; check bytes; the file URLs."""
    urls = []
    with httpx.Client(timeout=120, follow_redirects=True) as client:
        for project in upstream.projects():
            page_url = f"{server.simple_url}{project}/"
            client.get(page_url, headers={"Accept": HTML_ACCEPT}).raise_for_status()
            response = client.get(page_url, headers={"Accept": JSON_TYPE})
            response.raise_for_status()
            for entry in response.json()["files"]:
                if entry["filename"] in newest:
                    url = urljoin(page_url, entry["url"]).split("#")[0]
                    data = client.get(url).content
                    expected = upstream.file(entry["filename"]).sha256
                    if hashlib.sha256(data).hexdigest() != expected:
                        raise SystemExit(f"{server.label}: {entry['filename']} differs")
                    urls.append(url)
    if len(urls) != len(newest):
        raise SystemExit(f"{server.label}: serves {len(urls)} of {len(newest)} newest wheels")
    return urls


def _summary(runs: list[Run]) -> dict[str, float]:
    latencies = [x for run in runs for x in run.latencies]
    return {
        "per_second": median([run.per_second for run in runs]),
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "errors": sum(run.errors for run in runs),
        "mib_per_second": median([run.body_bytes / run.seconds / 2**20 for run in runs]),
    }


def warm_benchmark(
    servers: dict[str, peers.Peer], upstream: UpstreamIndex, args: argparse.Namespace
) -> dict[str, dict[str, dict[str, float]]]:
    newest = {f"{d.stem}-{d.version}-py3-none-any.whl" for d in _newest(upstream)}
    file_urls = {label: _warm(server, upstream, newest) for label, server in servers.items()}
    page_urls = {
        label: [f"{server.simple_url}{p}/" for p in upstream.projects()]
        for label, server in servers.items()
    }
    samples: dict[str, dict[str, list[Run]]] = {label: {} for label in servers}
    order = list(servers)
    for round_number in range(args.rounds):
        rotated = order[round_number % len(order) :] + order[: round_number % len(order)]
        for label in rotated:
            kinds = {
                "json": (page_urls[label], {"Accept": JSON_TYPE}, args.requests, args.clients),
                "html": (page_urls[label], {"Accept": HTML_ACCEPT}, args.requests, args.clients),
                "files": (file_urls[label], {}, args.file_requests, args.clients),
                "json-1": (page_urls[label], {"Accept": JSON_TYPE}, args.requests // 2, 1),
                "files-1": (file_urls[label], {}, args.file_requests // 2, 1),
            }
            for kind, (urls, headers, budget, clients) in kinds.items():
                run = hammer(urls, clients, budget, headers)
                samples[label].setdefault(kind, []).append(run)
                print(
                    f"  round {round_number + 1} {label:15} {kind:6} {run.per_second:8.0f}/s "
                    f"errors={run.errors}",
                    file=sys.stderr,
                )
    return {
        label: {kind: _summary(runs) for kind, runs in kinds_.items()}
        for label, kinds_ in samples.items()
    }


def _newest(upstream: UpstreamIndex) -> list[Any]:
    wanted = {(n, v) for n, v, _, _ in corpus.ML_SET}
    found = {}
    for project in upstream.projects():
        for hosted in upstream.files_of(project):
            if (hosted.dist.name, hosted.dist.version) in wanted:
                found[hosted.filename] = hosted.dist
    return list(found.values())


def cold_benchmark(
    factories: dict[str, Factory], requirements: Path, workdir: Path, rounds: int
) -> dict[str, dict[str, list[float]]]:
    """Seconds of a cold ``pip``/``uv`` install of the set through a fresh server."""
    results: dict[str, dict[str, list[float]]] = {label: {} for label in factories}
    order = list(factories)
    for round_number in range(rounds):
        rotated = order[round_number % len(order) :] + order[: round_number % len(order)]
        for label in rotated:
            for client in ("pip", "uv"):
                run_dir = Path(tempfile.mkdtemp(prefix=f"{label}-{client}-", dir=workdir))
                with factories[label](run_dir / "server") as server:
                    env = client_env(run_dir)
                    target = run_dir / "target"
                    if client == "pip":
                        command = [str(BIN / "pip"), "install", "--no-deps", "--no-cache-dir"]
                    else:
                        command = [str(BIN / "uv"), "pip", "install", "--no-deps", "--no-cache"]
                        command += ["--python", sys.executable]
                    command += ["--index-url", server.simple_url, "--target", str(target)]
                    _, seconds, _ = timed([*command, "-r", str(requirements)], env)
                results[label].setdefault(client, []).append(seconds)
                print(f"  cold {label:15} {client:4} {seconds:6.2f} s", file=sys.stderr)
    return results


def _ratio(mine: float, theirs: float) -> str:
    return f"{mine / theirs:.1f}x" if theirs else "-"


def report(warm: dict[str, Any], cold: dict[str, Any]) -> str:
    lines = ["| server | JSON pages/s | HTML pages/s | p50 / p99 ms (JSON) | files/s | MiB/s |"]
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, kinds in warm.items():
        j, h, f = kinds["json"], kinds["html"], kinds["files"]
        lines.append(
            f"| {label} | {j['per_second']:.0f} | {h['per_second']:.0f} | "
            f"{j['p50_ms']:.2f} / {j['p99_ms']:.2f} | {f['per_second']:.0f} | "
            f"{f['mib_per_second']:.0f} |"
        )
    lines.append("")
    for peer in ("devpi", "proxpi"):
        if peer in warm and "assay" in warm:
            mine, theirs = warm["assay"], warm[peer]
            lines.append(
                f"assay vs {peer}: JSON pages "
                f"{_ratio(mine['json']['per_second'], theirs['json']['per_second'])}, HTML "
                f"{_ratio(mine['html']['per_second'], theirs['html']['per_second'])}, files "
                f"{_ratio(mine['files']['per_second'], theirs['files']['per_second'])}"
            )
    if "assay" in warm and "assay-allowall" in warm:
        for kind, what in (("json-1", "JSON page"), ("files-1", "file download")):
            governed = warm["assay"][kind]["p50_ms"]
            allow = warm["assay-allowall"][kind]["p50_ms"]
            lines.append(
                f"policy overhead (one client, {what} p50): {governed:.3f} ms with the policy, "
                f"{allow:.3f} ms AllowAll: {governed - allow:+.3f} ms (target < 1 ms)"
            )
    if any(cold.values()):
        lines += ["", "| server | cold pip install s | cold uv install s |"]
        lines.append("| --- | ---: | ---: |")
        for label, clients in cold.items():
            lines.append(
                f"| {label} | {median(clients.get('pip', [])):.2f} | "
                f"{median(clients.get('uv', [])):.2f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prepare", action="store_true", help="(re)create .bench/registry-venv")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold-rounds", type=int, default=2)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=3000, help="page requests per batch")
    parser.add_argument("--file-requests", type=int, default=600)
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="servers: assay assay-allowall assay-novet devpi proxpi",
    )
    args = parser.parse_args(argv)
    try:
        peers.prepare(force=args.prepare)
    except peers.PeerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="assay-bench-registry-") as tmp:
        workdir = Path(tmp)
        with UpstreamIndex(workdir) as upstream:
            pins = corpus.populate(upstream)
            requirements = corpus.requirements_file(workdir, pins)
            factories = _factories(upstream.simple_url, _policy_env(workdir / "policy"))
            if args.only:
                factories = {k: v for k, v in factories.items() if k in args.only}
            warm_labels = [k for k in factories if k != "assay-novet"]
            servers = {label: factories[label](workdir / label) for label in warm_labels}
            try:
                for server in servers.values():
                    server.start()
                warm = warm_benchmark(servers, upstream, args)
            finally:
                for server in servers.values():
                    server.stop()
            cold_factories = {k: v for k, v in factories.items() if k != "assay-allowall"}
            cold = cold_benchmark(cold_factories, requirements, workdir, args.cold_rounds)
    text = report(warm, cold)
    print(text)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"warm": warm, "cold": cold}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
