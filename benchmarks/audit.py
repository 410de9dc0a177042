"""Benchmark: `assay audit` against `uv audit` and `pip-audit` pointed at assay's OSV API.

    .venv/bin/python -m benchmarks.audit [--rounds 5] [--lock benchmarks/assets/large-lock/uv.lock]

(a) ``assay db import`` of the shared PyPA advisory-database into a fresh file;
(b) auditing a large lock warm: ``assay audit --format json LOCK`` vs ``uv audit
    --frozen --service-url`` (its cache warm, and ``--no-cache``) and ``pip-audit
    --osv-url`` on the lock's requirements export, all against ``assay osv-api``
    serving the same database, every tool a separate process, interleaved rounds,
    medians and ratios from the same run;
(c) one package's lookup in-process (``AdvisoryDatabase.query``, warm): median, p99.

Before timing, every tool's (package, version, vulnerability id) set is compared;
the script exits 1 when they disagree.  The peers never leave the machine: every
proxy variable points at a closed local port, ``uv audit`` runs with
``--no-index`` (no PEP 792 project-status requests to the index) and pip-audit
with ``--disable-pip --no-deps``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from benchmarks.harness import Measure, timed

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
ASSAY, UV, PIP_AUDIT = BIN / "assay", BIN / "uv", BIN / "pip-audit"
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "advisories" / "pypa-advisory-database"
DEFAULT_LOCK = ROOT / "benchmarks" / "assets" / "large-lock" / "uv.lock"
TARGET_RATIO = 10.0
TARGET_LOOKUP_MS = 1.0

Triple = tuple[str, str, str]


def _offline_env(tmp: Path) -> tuple[dict[str, str], socket.socket]:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "PIP_"))}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = dead
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1"
    env["UV_CACHE_DIR"] = str(tmp / "uv-cache")
    return env, closed


def _start_api(database: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    command = [str(ASSAY), "osv-api", "--db", str(database), "--port", "0"]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # "assay OSV API: N advisories from ..."
    listening = proc.stdout.readline().split()
    if len(listening) < 3 or not listening[2].startswith("http://127.0.0.1:"):
        proc.kill()
        raise SystemExit(f"assay osv-api did not start: {proc.communicate()[1][-800:]}")
    return proc, listening[2]


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def _assay_triples(out: bytes) -> set[Triple]:
    report = json.loads(out)
    return {
        (f["canonical_name"], f["version"], record["id"])
        for part in report["reports"]
        for f in part["findings"]
        for record in f["records"]
    }


def _uv_triples(out: bytes) -> set[Triple]:
    return {
        (canonicalize_name(v["dependency"]["name"]), v["dependency"]["version"], v["id"])
        for v in json.loads(out)["vulnerabilities"]
    }


def _pip_audit_result(out: bytes) -> tuple[set[tuple[str, str]], set[Triple]]:
    dependencies: list[dict[str, Any]] = json.loads(out)["dependencies"]
    audited = {(str(canonicalize_name(d["name"])), str(d["version"])) for d in dependencies}
    found = {
        (str(canonicalize_name(d["name"])), str(d["version"]), v["id"])
        for d in dependencies
        for v in d.get("vulns", [])
    }
    return audited, found


def _check_agreement(outputs: dict[str, bytes]) -> tuple[set[Triple], list[str]]:
    """assay's triples, and a line per disagreement (pip-audit compared on the pins it audited)."""
    assay = _assay_triples(outputs["assay"])
    problems = []
    for label in ("uv", "uv-no-cache"):
        uv = _uv_triples(outputs[label])
        if uv != assay:
            problems.append(f"{label}: extra {sorted(uv - assay)}, missing {sorted(assay - uv)}")
    audited, pip = _pip_audit_result(outputs["pip-audit"])
    expected = {t for t in assay if (t[0], t[1]) in audited}  # pip-audit drops pins by marker
    if pip != expected:
        problems.append(
            f"pip-audit: extra {sorted(pip - expected)}, missing {sorted(expected - pip)}"
        )
    return assay, problems


def _lookups(database: Path, names: list[str], passes: int) -> tuple[list[float], list[float]]:
    """Per-lookup milliseconds: ``query`` alone, and ``query`` plus matching the version."""
    sys.path.insert(0, str(ROOT / "src"))
    from assay.advisories.matching import is_affected  # noqa: PLC0415
    from assay.advisories.store import AdvisoryDatabase  # noqa: PLC0415

    query_ms: list[float] = []
    match_ms: list[float] = []
    with AdvisoryDatabase(database) as source:
        for name in names:  # warm: parsed records cached, pages in memory
            source.query(name)
        clock = time.perf_counter_ns
        for _ in range(passes):
            for name in names:
                start = clock()
                source.query(name)
                query_ms.append((clock() - start) / 1e6)
                start = clock()
                _ = [a for a in source.query(name) if is_affected(a, name, "1.0.0")]
                match_ms.append((clock() - start) / 1e6)
    return query_ms, match_ms


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def _lock_names(lock: Path) -> tuple[list[str], int]:
    """The lock's distinct PEP 503 names, and its number of package entries."""
    sys.path.insert(0, str(ROOT / "src"))
    from assay.environments.readers import read_environment  # noqa: PLC0415

    packages = read_environment(lock).packages
    return sorted({p.canonical_name for p in packages}), len(packages)


def _import_rounds(source: Path, tmp: Path, rounds: int, env: dict[str, str]) -> Measure:
    measure = Measure("assay db import (fresh file)", [])
    for index in range(rounds):
        target = tmp / f"import-{index}.sqlite3"
        measure.command = [str(ASSAY), "db", "--db", str(target), "import", str(source)]
        _, seconds, rss = timed(measure.command, env, ok=(0, 1))
        measure.seconds.append(seconds)
        measure.max_rss_kib.append(rss)
    return measure


def _report(measures: list[Measure], baseline: Measure) -> list[float]:
    print(f"{'tool':44} {'median s':>9} {'min s':>8} {'peak MiB':>9} {'assay is':>12}")
    ratios = []
    for m in measures:
        ratio = m.median / baseline.median
        if m is not baseline:
            ratios.append(ratio)
        if m is baseline:
            shown = "-"
        else:
            shown = f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"
        peak = max(m.max_rss_kib) / 1024
        print(f"{m.label:44} {m.median:9.3f} {min(m.seconds):8.3f} {peak:9.1f} {shown:>12}")
    return ratios


def _measures(
    database: Path, lock: Path, requirements: Path, base: str, tmp: Path
) -> dict[str, Measure]:
    uv = [str(UV), "audit", "--frozen", "--no-index", "--no-config"]
    uv += ["--project", str(lock.parent), "--service-url", base, "--output-format", "json"]
    pip_audit = [str(PIP_AUDIT), "-s", "osv", "--osv-url", f"{base}/v1/query"]
    pip_audit += ["-r", str(requirements), "--no-deps", "--disable-pip", "--format", "json"]
    pip_audit += ["--progress-spinner", "off", "--cache-dir", str(tmp / "pip-audit-cache")]
    assay = [str(ASSAY), "audit", "--db", str(database), "--format", "json", str(lock)]
    return {
        "assay": Measure("assay audit --format json", assay),
        "uv": Measure("uv audit --service-url (uv cache warm)", uv),
        "uv-no-cache": Measure("uv audit --service-url --no-cache", [*uv, "--no-cache"]),
        "pip-audit": Measure("pip-audit --osv-url (requirements export)", pip_audit),
    }


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def _print_lookups(query_ms: list[float], match_ms: list[float]) -> None:
    print(f"\n(c) AdvisoryDatabase lookups in-process, warm, {len(query_ms)} lookups")
    for label, values in (("query(name)", query_ms), ("query(name) + is_affected", match_ms)):
        print(
            f"{label:44} median {statistics.median(values) * 1000:7.1f} us"
            f"   p99 {_p99(values) * 1000:7.1f} us   max {max(values) * 1000:8.1f} us"
        )
    met = _p99(query_ms) < TARGET_LOOKUP_MS
    print(f"target: one package's lookup under {TARGET_LOOKUP_MS:.0f} ms (p99): {_verdict(met)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--lock", type=Path, default=DEFAULT_LOCK)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--import-rounds", type=int, default=3)
    parser.add_argument("--lookup-passes", type=int, default=20)
    args = parser.parse_args(argv)
    lock: Path = args.lock.resolve()
    with tempfile.TemporaryDirectory(prefix="assay-bench-") as scratch:
        tmp = Path(scratch)
        env, closed = _offline_env(tmp)
        imported = _import_rounds(args.source, tmp, args.import_rounds, env)
        database = tmp / f"import-{args.import_rounds - 1}.sqlite3"
        requirements = tmp / "requirements.txt"
        export = [str(UV), "export", "--frozen", "--no-hashes", "--no-header", "--no-config"]
        export += ["--no-emit-project", "--project", str(lock.parent), "-o", str(requirements)]
        timed(export, env, ok=(0, 1))
        api, base = _start_api(database, env)
        try:
            measures = _measures(database, lock, requirements, base, tmp)
            outputs = {
                key: timed(m.command, env, ok=(0, 1))[0] for key, m in measures.items()
            }  # warm-up
            found, problems = _check_agreement(outputs)
            audited_by_pip = len(_pip_audit_result(outputs["pip-audit"])[0])
            for _ in range(args.rounds):
                for measure in measures.values():
                    _, seconds, rss = timed(measure.command, env, ok=(0, 1))
                    measure.seconds.append(seconds)
                    measure.max_rss_kib.append(rss)
        finally:
            _stop(api)
            closed.close()
        names, entries = _lock_names(lock)
        query_ms, match_ms = _lookups(database, names, args.lookup_passes)

    print(f"\nassay audit benchmark ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores)")
    print(f"lock: {lock.relative_to(ROOT)}: {entries} packages, {len(names)} distinct names;")
    print(f"      pip-audit audits the {audited_by_pip} export lines whose markers hold here")
    print(f"\n(a) import {args.source.name} into a fresh database, {args.import_rounds} rounds")
    _report([imported], imported)
    print(f"\n(b) audit the lock, warm, {args.rounds} interleaved rounds, peers via assay osv-api")
    ratios = _report(list(measures.values()), measures["assay"])
    met = all(r >= TARGET_RATIO for r in ratios)
    print(f"target: assay at least {TARGET_RATIO:.0f}x faster than each peer: {_verdict(met)}")
    _print_lookups(query_ms, match_ms)
    print(f"\nfindings: {len(found)} (package, version, vulnerability id) triples from assay")
    if problems:
        print("TOOLS DISAGREE:")
        for line in problems:
            print(f"  {line}")
        return 1
    print("all tools agree (pip-audit compared on the pins it audits)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
