"""The vetting benchmark: recall on real PyPI malware, false positives on the top projects.

    .venv/bin/python -m benchmarks.vet.fetch_top                 # once: the benign corpus
    .venv/bin/python -m benchmarks.vet.run --tools guarddog --limit 50
    .venv/bin/python -m benchmarks.vet.run --tools assay,guarddog  # once assay can vet

Every tool sees the same samples in the same run, one sample at a time, the
tools' order rotating from sample to sample so machine noise hits all alike.
Malware is read from the encrypted zip in memory (``corpus.py``) and handed to
each analyser as bytes; GuardDog writes it to a temporary directory for the
length of one scan (``guarddog.py``).  Nothing prints more of a sample than its
``name==version``.  The results (every verdict, the summaries, the ratios) go to
``.bench/vet-results-<time>.json`` and a table is printed.

assay is measured in-process through ``--assay-entry`` (default
``benchmarks.vet.entry:vet_offline``, what ``assay vet --offline`` decides: the
package analysis plus the name checks of the project and its declared
dependencies against the popular list; ``assay.vetting:vet_bytes`` is the
package analysis alone): a callable ``(filename: str, data: bytes)`` returning
an object with ``score: float`` (0-10) and ``flagged: bool`` (at the default
threshold).  Until it exists, ``--tools assay`` stops with a
message saying so; no number is ever invented for it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import platform
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.vet import corpus, guarddog
from benchmarks.vet.metrics import Analyse, Outcome, Summary, Verdict, summarise, table

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = Path.home() / ".cache" / "assay-bench" / "top-500"
ASSAY_ENTRY = "benchmarks.vet.entry:vet_offline"
TOOLS = ("assay", "guarddog")


class SetupError(Exception):
    """A tool or corpus the run asked for is not available."""


def load_assay(entry: str) -> Analyse:
    """The assay analyser, or SetupError saying why it is not there."""
    module_name, _, attribute = entry.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SetupError(f"assay: cannot import {module_name} ({exc})") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise SetupError(
            f"assay: {module_name} has no analysis entry point {attribute!r} yet (the package "
            f"detection engine of issue 5 is not written); run with --tools guarddog, or pass "
            f"--assay-entry MODULE:FUNCTION once it exists. No assay numbers were produced."
        )
    analyse: Callable[[str, bytes], Any] = function

    def run(filename: str, data: bytes) -> Verdict:
        start = time.perf_counter()
        try:
            report = analyse(filename, data)
        except Exception as exc:  # noqa: BLE001  # a crash is a counted error, not a verdict
            return Verdict(False, 0.0, time.perf_counter() - start, error=repr(exc)[:200])
        seconds = time.perf_counter() - start
        return Verdict(
            bool(report.flagged),
            float(report.score),
            seconds,
            label=str(getattr(report, "label", "")),
        )

    return run


def build_tools(names: Sequence[str], args: argparse.Namespace) -> dict[str, Analyse]:
    tools: dict[str, Analyse] = {}
    for name in names:
        if name == "assay":
            tools[name] = load_assay(args.assay_entry)
        elif name == "guarddog":
            try:
                binary = guarddog.ensure_installed()
            except guarddog.GuardDogError as exc:
                raise SetupError(str(exc)) from None
            tools[name] = guarddog.GuardDog(binary, args.guarddog_threshold)
        else:
            raise SetupError(f"unknown tool {name!r}; choose from {', '.join(TOOLS)}")
    return tools


def samples(args: argparse.Namespace) -> tuple[dict[str, Any], Iterator[tuple[str, corpus.Sample]]]:
    """Corpus description and the (project, sample) stream: malware first, then benign."""
    malware = corpus.choose(corpus.load_malware_manifest(args.manifest), args.limit, args.seed)
    try:
        benign = corpus.load_benign_manifest(args.cache)
    except corpus.CorpusError as exc:
        print(f"warning: no benign corpus: {exc}", file=sys.stderr)
        benign = []
    benign = corpus.choose(benign, args.limit, args.seed)
    info = {
        "malware_zip": str(args.malware_zip),
        "malware_samples": len(malware),
        "benign_cache": str(args.cache),
        "benign_files": len(benign),
        "benign_projects": len({e.project for e in benign}),
        "seed": args.seed,
        "limit": args.limit,
    }

    def stream() -> Iterator[tuple[str, corpus.Sample]]:
        for sample in corpus.iter_malware(malware, args.malware_zip):
            yield sample.identifier, sample
        projects = {e.identifier: e.project for e in benign}
        for sample in corpus.iter_benign(benign, args.cache):
            yield projects[sample.identifier], sample

    return info, stream()


def measure(
    tools: dict[str, Analyse], stream: Iterator[tuple[str, corpus.Sample]]
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    names = list(tools)
    for count, (project, sample) in enumerate(stream, 1):
        order = names[count % len(names) :] + names[: count % len(names)]
        for name in order:
            verdict = tools[name](sample.filename, sample.data)
            outcomes.append(Outcome(name, sample.identifier, project, sample.malicious, verdict))
        if count % 10 == 0:
            print(f"  {count} samples measured", file=sys.stderr, flush=True)
    return outcomes


def ratios(summaries: Sequence[Summary], reference: str) -> dict[str, dict[str, float]]:
    ref = next((s for s in summaries if s.tool == reference), None)
    if ref is None:
        return {}

    def div(a: float, b: float) -> float:
        return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan

    return {
        s.tool: {
            "speedup_median": div(ref.median_seconds, s.median_seconds),
            "speedup_p95": div(ref.p95_seconds, s.p95_seconds),
            "recall_ratio": div(s.recall, ref.recall),
            "fp_rate_ratio": div(s.fp_rate, ref.fp_rate),
        }
        for s in summaries
        if s.tool != reference
    }


def _jsonable(value: float) -> float | None:
    return None if math.isnan(value) else value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tools", default="guarddog", help="comma list of: assay, guarddog")
    parser.add_argument("--limit", type=int, help="at most N malware samples and N benign files")
    parser.add_argument("--seed", type=int, default=0, help="seed for drawing the --limit subset")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="fetch_top.py's cache")
    parser.add_argument("--malware-zip", type=Path, default=corpus.MALWARE_ZIP)
    parser.add_argument("--manifest", type=Path, default=corpus.MALWARE_MANIFEST)
    parser.add_argument("--guarddog-threshold", type=float, default=guarddog.DEFAULT_THRESHOLD)
    parser.add_argument("--assay-entry", default=ASSAY_ENTRY, help="MODULE:FUNCTION")
    parser.add_argument("--out", type=Path, help="results JSON (default .bench/vet-results-*.json)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.tools.split(",") if n.strip()]
    try:
        tools = build_tools(names, args)
        info, stream = samples(args)
        print(
            f"measuring {', '.join(tools)} on {info['malware_samples']} malware samples and "
            f"{info['benign_files']} benign files ({info['benign_projects']} projects)",
            file=sys.stderr,
        )
        started = time.time()
        outcomes = measure(tools, stream)
    except (SetupError, corpus.CorpusError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summaries = [summarise(name, outcomes) for name in tools]
    reference = "guarddog" if "guarddog" in tools else None
    print(table(summaries, reference))
    found = ratios(summaries, reference) if reference else {}
    for tool, r in found.items():
        print(
            f"{tool} vs guarddog: {r['speedup_median']:.1f}x faster at the median, "
            f"{r['speedup_p95']:.1f}x at p95; recall x{r['recall_ratio']:.2f}, "
            f"FP rate x{r['fp_rate_ratio']:.2f}"
        )
    out = args.out or ROOT / ".bench" / f"vet-results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "schema": "assay.bench.vet/1",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "tools": {"guarddog": guarddog.VERSION} if "guarddog" in tools else {},
        "guarddog_threshold": args.guarddog_threshold,
        "corpora": info,
        "summaries": [
            {k: _jsonable(v) if isinstance(v, float) else v for k, v in asdict(s).items()}
            | {
                "recall": _jsonable(s.recall),
                "fp_rate": _jsonable(s.fp_rate),
                "project_fp_rate": _jsonable(s.project_fp_rate),
            }
            for s in summaries
        ],
        "ratios": {t: {k: _jsonable(v) for k, v in r.items()} for t, r in found.items()},
        "verdicts": [
            {
                "tool": o.tool,
                "sample": o.identifier,
                "project": o.project,
                "malicious": o.malicious,
                **asdict(o.verdict),
            }
            for o in outcomes
        ],
    }
    out.write_text(json.dumps(document, indent=1), encoding="utf-8")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
