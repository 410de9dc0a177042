"""Benchmark: `assay sbom` against `cyclonedx-py environment` on the 300+ package venv.

    .venv/bin/python -m benchmarks.sbom [--rounds 5] [--venv .bench/ml-venv]

(build the venv first with ``benchmarks/run.py --prepare``)

Both tools write a CycloneDX 1.6 JSON SBOM of the same installed environment
and both validate it against the official schema before writing (cyclonedx-py's
default; assay always does).  ``cyclonedx-py --no-validate`` is measured too, for
reference: it writes an unchecked document.  Every command is a separate
process, in interleaved rounds; the report gives medians, peak memory and the
ratio against the validating peer from the same run.

Before timing, both SBOMs are compared: the (name, version) component sets must
be equal, and the script prints how many components carry hashes, licenses and
a supplier in each.  It exits 1 when the sets differ or assay misses the target.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from benchmarks.harness import Measure, timed

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
ASSAY, CYCLONEDX_PY = BIN / "assay", BIN / "cyclonedx-py"
DEFAULT_VENV = ROOT / ".bench" / "ml-venv"
TARGET_RATIO = 3.0


def _components(path: Path) -> list[dict[str, Any]]:
    bom = json.loads(path.read_text(encoding="utf-8"))
    root = bom.get("metadata", {}).get("component")
    return [*([root] if root else []), *bom.get("components", [])]


def _compare(ours: Path, theirs: Path) -> int:
    mine, peer = _components(ours), _components(theirs)

    def keys(components: list[dict[str, Any]]) -> set[tuple[str, str | None]]:
        return {(canonicalize_name(c["name"]), c.get("version")) for c in components}

    if keys(mine) != keys(peer):
        print(f"DISAGREEMENT: only assay {sorted(keys(mine) - keys(peer))[:10]}")
        print(f"              only cyclonedx-py {sorted(keys(peer) - keys(mine))[:10]}")
        raise SystemExit(1)
    print(f"agreement: both SBOMs list the same {len(keys(mine))} (name, version) components")
    print(f"{'':14} {'hashes':>7} {'licenses':>9} {'supplier':>9}")
    for label, components in (("assay", mine), ("cyclonedx-py", peer)):
        counts = [
            sum(1 for c in components if c.get(f)) for f in ("hashes", "licenses", "supplier")
        ]
        print(f"{label:14} {counts[0]:7} {counts[1]:9} {counts[2]:9}")
    return len(mine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    python = args.venv / "bin" / "python"
    if not python.exists():
        raise SystemExit(f"{args.venv} is missing: run benchmarks/run.py --prepare first")
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs, unchecked = Path(tmp, "assay.json"), Path(tmp, "peer.json"), Path(tmp, "nv")
        measures = [
            Measure(
                "assay sbom (validated)", [str(ASSAY), "sbom", str(args.venv), "-o", str(ours)]
            ),
            Measure(
                "cyclonedx-py environment (validated)",
                [str(CYCLONEDX_PY), "environment", "-o", str(theirs), str(python)],
            ),
            Measure(
                "cyclonedx-py --no-validate",
                [
                    str(CYCLONEDX_PY),
                    "environment",
                    "--no-validate",
                    "-o",
                    str(unchecked),
                    str(python),
                ],
            ),
        ]
        for measure in measures[:2]:
            timed(measure.command)  # warm the page cache, write both SBOMs
        count = _compare(ours, theirs)
        for _ in range(args.rounds):
            for measure in measures:
                _, seconds, rss = timed(measure.command)
                measure.seconds.append(seconds)
                measure.max_rss_kib.append(rss)
    baseline = measures[1]
    print(f"\nSBOM of an installed environment: {count} packages, {args.rounds} rounds")
    print(f"{'tool':38} {'median s':>9} {'peak MiB':>9} {'vs validating peer':>20}")
    for m in measures:
        ratio = baseline.median / m.median
        label = "1.0x (peer)" if m is baseline else f"{ratio:.1f}x faster"
        if m is not baseline and ratio < 1:
            label = f"{1 / ratio:.1f}x slower"
        print(f"{m.label:38} {m.median:9.3f} {max(m.max_rss_kib) / 1024:9.1f} {label:>20}")
    ratio = baseline.median / measures[0].median
    verdict = "met" if ratio >= TARGET_RATIO else "MISSED"
    print(f"target: assay >= {TARGET_RATIO:.0f}x faster than the validating peer: {verdict}")
    if ratio < TARGET_RATIO:
        sys.exit(1)


if __name__ == "__main__":
    main()
