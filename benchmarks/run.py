"""Benchmarks: assay's readers against the peer tools, measured in the same run.

    make bench                      # or: .venv/bin/python -m benchmarks.run
    .venv/bin/python -m benchmarks.run --prepare   # build the 300+ package venv first

Every command runs as a separate process, in interleaved rounds, so machine
noise hits all tools alike; the report gives medians, peak memory and ratios
against the peer measured in the same run (never trust one absolute time).
Before timing, the script checks that assay and `pip inspect` agree exactly,
name for name and version for version, on the benchmark venv.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from packaging.utils import canonicalize_name

from benchmarks.harness import Measure, timed

ROOT = Path(__file__).resolve().parent.parent
ASSAY = ROOT / ".venv" / "bin" / "assay"
UV = ROOT / ".tools" / "bin" / "uv"
DEFAULT_VENV = ROOT / ".bench" / "ml-venv"
DEFAULT_LOCK = ROOT / "benchmarks" / "assets" / "large-lock" / "uv.lock"
# The benchmark venv: a realistic ML stack (torch is the CPU wheel pip finds on this machine).
ML_STACK = [
    "torch==2.13.0", "transformers", "scikit-learn", "pandas", "jupyterlab", "mlflow", "datasets",
    "accelerate", "langchain", "matplotlib", "seaborn", "plotly", "dask[complete]", "boto3",
    "google-cloud-storage", "fastapi", "uvicorn", "sqlalchemy", "streamlit", "gradio",
    "langchain-community", "dagster", "great-expectations", "xgboost", "lightgbm", "optuna",
    "llama-index", "ray[default]", "wandb", "spacy", "nltk", "statsmodels", "polars", "duckdb",
    "opencv-python-headless", "onnx", "onnxruntime", "openai", "anthropic", "chromadb",
]  # fmt: skip


def _rounds(measures: list[Measure], repeat: int) -> None:
    for _ in range(repeat):
        for measure in measures:
            _, seconds, rss = timed(measure.command)
            measure.seconds.append(seconds)
            measure.max_rss_kib.append(rss)


def _report(title: str, measures: list[Measure], baseline: Measure) -> None:
    print(f"\n{title}")
    print(f"{'tool':34} {'median s':>9} {'peak MiB':>9} {'vs ' + baseline.label:>22}")
    for m in measures:
        ratio = m.median / baseline.median
        speed = f"{1 / ratio:.1f}x faster" if m is not baseline else "1.0x (peer)"
        if m is not baseline and ratio > 1:
            speed = f"{ratio:.1f}x slower"
        print(f"{m.label:34} {m.median:9.3f} {max(m.max_rss_kib) / 1024:9.1f} {speed:>22}")


def _check_agreement(venv: Path) -> int:
    python = venv / "bin" / "python"
    inspect, _, _ = timed([str(python), "-m", "pip", "inspect"])
    theirs = {
        (canonicalize_name(d["metadata"]["name"]), d["metadata"]["version"])
        for d in json.loads(inspect)["installed"]
        if Path(d["metadata_location"]).is_relative_to(venv.resolve())
    }
    shown, _, _ = timed([str(ASSAY), "env", "show", "--json", str(venv)])
    ours = {
        (p["canonical_name"], p["version"]) for p in json.loads(shown)["environment"]["packages"]
    }
    if ours != theirs:
        print(f"DISAGREEMENT: only assay {sorted(ours - theirs)}; only pip {sorted(theirs - ours)}")
        raise SystemExit(1)
    print(f"agreement: assay and pip inspect list the same {len(ours)} (name, version) pairs")
    return len(ours)


def _prepare(venv: Path) -> None:
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *ML_STACK], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--lock", type=Path, default=DEFAULT_LOCK)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--prepare", action="store_true", help="build the benchmark venv first")
    args = parser.parse_args()
    if args.prepare or not (args.venv / "bin" / "python").exists():
        _prepare(args.venv)

    count = _check_agreement(args.venv)
    python = str(args.venv / "bin" / "python")
    installed = [
        Measure(
            "assay env show --json (venv)", [str(ASSAY), "env", "show", "--json", str(args.venv)]
        ),
        Measure("pip inspect", [python, "-m", "pip", "inspect"]),
        Measure("pip list --format=json", [python, "-m", "pip", "list", "--format=json"]),
    ]
    _rounds(installed, args.repeat)
    _report(
        f"installed environment: {count} packages, {args.repeat} rounds", installed, installed[1]
    )

    lock_dir = args.lock.parent
    packages = args.lock.read_text().count("\n[[package]]\n")
    locked = [
        Measure(
            "assay env show --json (uv.lock)", [str(ASSAY), "env", "show", "--json", str(args.lock)]
        ),
        Measure(
            "uv export --frozen",
            [str(UV), "export", "--frozen", "--no-hashes", "--quiet", "--project", str(lock_dir)],
        ),
    ]
    _rounds(locked, args.repeat)
    _report(f"lock file: {packages} packages, {args.repeat} rounds", locked, locked[1])


if __name__ == "__main__":
    main()
