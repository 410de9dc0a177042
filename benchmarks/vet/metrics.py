"""Pure metrics of the vetting benchmark: verdicts in, recall / false positives / timing out."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    """One tool's answer on one sample."""

    flagged: bool
    score: float
    seconds: float
    label: str = ""
    error: str | None = None  # the tool failed on this sample (counted, never as a detection)


# An analyser: (file name, file bytes) -> Verdict.  It must not write the bytes
# anywhere but a temporary directory it deletes, and must never execute them.
Analyse = Callable[[str, bytes], Verdict]


@dataclass(frozen=True)
class Outcome:
    tool: str
    identifier: str
    project: str  # benign files of one project share it; one malware sample is one project
    malicious: bool
    verdict: Verdict


@dataclass(frozen=True)
class Summary:
    tool: str
    malware: int
    detected: int
    benign: int
    false_positives: int
    benign_projects: int
    flagged_projects: int
    errors: int
    median_seconds: float
    p95_seconds: float

    @property
    def recall(self) -> float:
        return self.detected / self.malware if self.malware else math.nan

    @property
    def fp_rate(self) -> float:
        return self.false_positives / self.benign if self.benign else math.nan

    @property
    def project_fp_rate(self) -> float:
        return self.flagged_projects / self.benign_projects if self.benign_projects else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear between closest ranks; NaN when empty."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0..100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(tool: str, outcomes: Sequence[Outcome]) -> Summary:
    """Recall on malware, false positives on benign files and projects, time per sample."""
    mine = [o for o in outcomes if o.tool == tool]
    malware = [o for o in mine if o.malicious]
    benign = [o for o in mine if not o.malicious]
    projects: dict[str, bool] = {}
    for o in benign:
        projects[o.project] = projects.get(o.project, False) or o.verdict.flagged
    seconds = [o.verdict.seconds for o in mine]
    return Summary(
        tool=tool,
        malware=len(malware),
        detected=sum(o.verdict.flagged for o in malware),
        benign=len(benign),
        false_positives=sum(o.verdict.flagged for o in benign),
        benign_projects=len(projects),
        flagged_projects=sum(projects.values()),
        errors=sum(o.verdict.error is not None for o in mine),
        median_seconds=percentile(seconds, 50),
        p95_seconds=percentile(seconds, 95),
    )


def speedup(tool: Summary, reference: Summary) -> float:
    """How many times faster ``tool`` is than ``reference`` at the median (>1: faster)."""
    if not tool.median_seconds or math.isnan(tool.median_seconds):
        return math.nan
    return reference.median_seconds / tool.median_seconds


def _pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value * 100:.1f}%"


def _ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value * 1000:.0f} ms"


def table(summaries: Sequence[Summary], reference: str | None = None) -> str:
    """A plain-text table; with ``reference``, each tool's median speed-up against it."""
    ref = next((s for s in summaries if s.tool == reference), None)
    head = ["tool", "recall", "FP files", "FP projects", "errors", "median", "p95", "speed-up"]
    rows = [head]
    for s in summaries:
        ratio = speedup(s, ref) if ref else math.nan
        rows.append(
            [
                s.tool,
                f"{_pct(s.recall)} ({s.detected}/{s.malware})",
                f"{_pct(s.fp_rate)} ({s.false_positives}/{s.benign})",
                f"{_pct(s.project_fp_rate)} ({s.flagged_projects}/{s.benign_projects})",
                str(s.errors),
                _ms(s.median_seconds),
                _ms(s.p95_seconds),
                "reference" if s is ref else "n/a" if math.isnan(ratio) else f"{ratio:.1f}x",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )
