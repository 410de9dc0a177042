"""GuardDog 3.2.0, the peer of the vetting benchmark, in its own venv under ``.bench/``.

    .venv/bin/python -m benchmarks.vet.guarddog --install      # create the venv (idempotent)
    .venv/bin/python -m benchmarks.vet.guarddog FILE...        # scan benign files, print verdicts

Every scan is ``guarddog pypi scan FILE --output-format json`` in a fresh
``tempfile.TemporaryDirectory()``: the sample's bytes are written there only for
the duration of the scan, GuardDog's own extraction is kept inside it
(``TMPDIR`` points there) and everything is deleted when the scan returns.
GuardDog runs with its default kernel sandbox (no network, no writes outside the
temp dir) and with a private copy of its popular-package lists whose timestamps
are fresh, so it never tries to refresh them over the network; local scans do
not run its metadata rules, so those lists do not change its verdicts.

A sample is flagged when GuardDog's risk score reaches ``threshold`` (default
5.0: the lower bound of GuardDog's own ``suspicious`` label, and the threshold
GuardDog itself uses for risky dependencies).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path, PurePosixPath

from benchmarks.vet.metrics import Verdict

ROOT = Path(__file__).resolve().parents[2]
VERSION = "3.2.0"
VENV = ROOT / ".bench" / "guarddog-venv"
CACHE = ROOT / ".bench" / "guarddog-cache"
DEFAULT_THRESHOLD = 5.0
TIMEOUT = 600.0


class GuardDogError(Exception):
    """GuardDog could not be installed or run at all."""


def _binary(env: Path) -> Path:
    return env / "bin" / "guarddog"


def installed_version(env: Path = VENV) -> str | None:
    python = env / "bin" / "python"
    if not python.exists():
        return None
    probe = "import importlib.metadata as m; print(m.version('guarddog'))"
    result = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=False)
    return result.stdout.strip() or None


def ensure_installed(env: Path = VENV, cache: Path = CACHE) -> Path:
    """Install ``guarddog==3.2.0`` into ``env`` (pip's configured index) unless it is there."""
    if installed_version(env) != VERSION:
        print(f"installing guarddog=={VERSION} into {env} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(env)
        pip = [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        result = subprocess.run([*pip, f"guarddog=={VERSION}"], check=False)
        if result.returncode != 0 or installed_version(env) != VERSION:
            raise GuardDogError(f"pip install guarddog=={VERSION} into {env} failed")
    _prepare_cache(env, cache)
    return _binary(env)


def _prepare_cache(env: Path, cache: Path) -> None:
    """Copy GuardDog's shipped popular-package lists with a fresh download timestamp."""
    sources = list(env.glob("lib/python*/site-packages/guarddog/analyzer/metadata/resources"))
    if not sources:
        raise GuardDogError(f"{env}: guarddog's resources directory not found")
    cache.mkdir(parents=True, exist_ok=True)
    now = int(time.time())
    for source in sources[0].iterdir():
        target = cache / source.name
        if source.suffix == ".json":
            document = json.loads(source.read_text(encoding="utf-8"))
            if isinstance(document, dict):
                document["downloaded_timestamp"] = now
            target.write_text(json.dumps(document), encoding="utf-8")
        elif source.is_file():
            shutil.copyfile(source, target)


def parse_report(stdout: str, threshold: float) -> tuple[bool, float, str, int]:
    """(flagged, risk score, label, issue count) from ``--output-format json`` output."""
    document = json.loads(stdout)
    if not isinstance(document, dict):
        raise TypeError("guarddog JSON output is not an object")
    risk = document.get("risk_score") or {}
    score = float(risk.get("score", 0.0))
    label = str(risk.get("label", ""))
    issues = int(document.get("issues", 0))
    return score >= threshold, score, label, issues


class GuardDog:
    """An :data:`~benchmarks.vet.metrics.Analyse` callable running the GuardDog CLI."""

    def __init__(
        self, binary: Path, threshold: float = DEFAULT_THRESHOLD, cache: Path = CACHE
    ) -> None:
        self.binary, self.threshold, self.cache = binary, threshold, cache

    def __call__(self, filename: str, data: bytes) -> Verdict:
        name = PurePosixPath(filename).name
        if not name or name in {".", ".."} or "\\" in name:
            return Verdict(False, 0.0, 0.0, error=f"unusable file name {filename!r}")
        with tempfile.TemporaryDirectory(prefix="assay-bench-guarddog-") as tmp:
            sample = Path(tmp) / "sample"
            sample.mkdir()
            target = sample / name
            target.write_bytes(data)
            env = {
                **os.environ,
                "TMPDIR": tmp,
                "GUARDDOG_TOP_PACKAGES_CACHE_LOCATION": str(self.cache),
            }
            command = [str(self.binary), "pypi", "scan", str(target), "--output-format", "json"]
            start = time.perf_counter()
            try:
                result = subprocess.run(
                    command,
                    check=False,
                    capture_output=True,
                    text=True,
                    env=env,
                    cwd=tmp,
                    timeout=TIMEOUT,
                )
            except subprocess.TimeoutExpired:
                return Verdict(False, 0.0, TIMEOUT, error=f"timed out after {TIMEOUT:.0f} s")
            seconds = time.perf_counter() - start
        try:
            flagged, score, label, _ = parse_report(result.stdout, self.threshold)
        except (ValueError, TypeError) as exc:
            tail = (result.stderr.strip().splitlines() or ["no output"])[-1][:200]
            return Verdict(False, 0.0, seconds, error=f"exit {result.returncode}: {tail} ({exc})")
        return Verdict(flagged, score, seconds, label=label)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--install", action="store_true", help="only install and exit")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("files", nargs="*", type=Path, help="benign archives to scan")
    args = parser.parse_args(argv)
    try:
        binary = ensure_installed()
    except GuardDogError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"guarddog {installed_version()} at {binary}")
    scan = GuardDog(binary, args.threshold)
    for path in args.files:
        v = scan(path.name, path.read_bytes())
        state = v.error or ("flagged" if v.flagged else "clean")
        print(f"{path.name}: {state} score={v.score:.1f} {v.label} {v.seconds * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
