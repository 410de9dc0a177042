"""Speed and self-check of the name checks (``assay.vetting.names``).

    .venv/bin/python -m benchmarks.vet.names [--popular FILE] [--repeat 3]

Prints: the index build time and size; the time per name of ``NameIndex.check``
and of each of its lookups (separators, py/python affixes, edit distance,
combosquats) over four sets of names: every popular name, typos generated
from the top 1,000 (a transposition, a deletion, a doubled letter, a Cyrillic
look-alike), combos (top 1,000 + "-utils") and random unrelated names; the
share of generated typos detected; and the self-check: how many popular names
are flagged against much more popular ones, by rule, at several ratios.
Nothing is written.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
from assay.advisories.severity import Level
from assay.vetting import names as n
from assay.vetting.popularity import load_popular

DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data" / "popularity"
DEFAULT_FILE = DEFAULT / "top-pypi-packages.min.json"


def typos(popular: Sequence[str], rng: random.Random) -> list[str]:
    """A transposition, a deletion, a doubled letter and a look-alike of each name (len >= 5).

    Mutations that are popular names themselves, or the same name after PEP 503
    normalisation (``python--dotenv``), are left out: they must not be flagged.
    """
    made: list[str] = []
    known = set(popular)
    for name in popular:
        if len(name) < 5:
            continue
        i = rng.randrange(1, len(name) - 1)
        variants = [
            name[:i] + name[i + 1] + name[i] + name[i + 2 :],
            name[:i] + name[i + 1 :],
            name[:i] + name[i] + name[i:],
        ]
        if "e" in name or "o" in name:
            letter, lookalike = ("e", "\u0435") if "e" in name else ("o", "\u043e")
            variants.append(name.replace(letter, lookalike, 1))
        made.extend(v for v in variants if n.canonicalize(v) not in known)
    return made


def timed(function: Callable[[str], object], names: Sequence[str], repeat: int) -> list[float]:
    """Microseconds per call, the best of ``repeat`` runs for each name."""
    times: list[float] = []
    clock = time.perf_counter_ns
    for name in names:
        best = min(_once(function, name, clock) for _ in range(repeat))
        times.append(best / 1000)
    return times


def _once(function: Callable[[str], object], name: str, clock: Callable[[], int]) -> int:
    start = clock()
    function(name)
    return clock() - start


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered):7.1f}  p95 {p95:7.1f}  max {ordered[-1]:8.1f} us"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--popular", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    listing = load_popular(args.popular)
    tracemalloc.start()
    start = time.perf_counter()
    index = n.NameIndex.build(listing)
    built = time.perf_counter() - start
    memory = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    print(f"{len(listing.names)} popular names from {listing.source}")
    print(f"index: built in {built:.2f} s, {memory:.0f} MB, {len(index.neighbours)} delete forms")

    rng = random.Random(5)  # noqa: S311 - reproducible test names, not secrets
    top = list(listing.names[:1000])
    rng_typos = typos(top, rng)
    sets = {
        "popular (all)": list(listing.names),
        "typos of top-1000": rng_typos,
        "combos of top-1000": [f"{name}-utils" for name in top],
        "random names": [
            "".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 14))) for _ in range(3000)
        ],
    }

    def separators(name: str) -> object:
        return index.by_stripped.get(n.stripped(n.canonicalize(name)))

    def affixes(name: str) -> object:
        return [index.by_core.get(form) for form in n.cores(n.canonicalize(name))]

    def distance(name: str) -> object:
        return list(index._typo_targets(n.canonicalize(name)))

    def combos(name: str) -> object:
        return list(index._combo_targets(n.canonicalize(name)))

    checks: dict[str, Callable[[str], object]] = {
        "check (all rules)": index.check,
        "  separators": separators,
        "  py/python affixes": affixes,
        "  edit distance 1-2": distance,
        "  combosquat": combos,
    }
    for label, names in sets.items():
        print(f"\n{label}: {len(names)} names")
        for check, function in checks.items():
            print(f"  {check:<22} {summary(timed(function, names, args.repeat))}")

    generated = sets["typos of top-1000"]
    caught = sum(1 for name in generated if index.check(name))
    print(f"\ngenerated typos detected: {caught}/{len(generated)} ({caught / len(generated):.1%})")
    missed = [name for name in generated if not index.check(name)]
    if missed:
        print(f"  missed, e.g.: {', '.join(missed[:12])}")
    randoms = sets["random names"]
    noisy = [name for name in randoms if any(f.severity >= Level.HIGH for f in index.check(name))]
    print(f"random names flagged high or above: {len(noisy)}/{len(randoms)}, e.g. {noisy[:6]}")

    print("\nself-check: popular names flagged against much more popular ones")
    for ratio in (100.0, 1000.0, 10000.0):
        probe = index if ratio == index.ratio else n.NameIndex.build(listing, ratio=ratio)
        results = {name: probe.check(name) for name in listing.names}
        flagged = {k: v for k, v in results.items() if v}
        high = {k: v for k, v in flagged.items() if any(f.severity >= Level.HIGH for f in v)}
        by_rule = Counter(f.rule for found in flagged.values() for f in found)
        print(
            f"  ratio {ratio:>7.0f}: {len(flagged)} flagged ({len(flagged) / len(results):.2%}), "
            f"{len(high)} at high or above; by rule: {dict(by_rule.most_common())}"
        )
        if ratio == index.ratio:
            for name, found in sorted(high.items(), key=lambda item: index.rank[item[0]]):
                print(f"    {name} -> " + ", ".join(f"{f.rule} {f.target}" for f in found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
