"""What every benchmark shares: one measured command and how to time it.

Each command runs as its own process; wall time comes from ``perf_counter``
and peak memory from the child's ``rusage`` (``os.wait4``), so a tool is
measured as a user runs it, interpreter start included.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class Measure:
    """One tool's command and the samples taken of it."""

    label: str
    command: list[str]
    seconds: list[float] = field(default_factory=list)
    max_rss_kib: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def sample(self, env: Mapping[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> bytes:
        """Run the command once, record its time and memory, return its stdout."""
        out, seconds, rss = timed(self.command, env, ok)
        self.seconds.append(seconds)
        self.max_rss_kib.append(rss)
        return out


def timed(
    command: list[str], env: Mapping[str, str] | None = None, ok: tuple[int, ...] = (0,)
) -> tuple[bytes, float, int]:
    """Run ``command``: its stdout, wall seconds and peak RSS (KiB).

    Exits (SystemExit with the command's stderr tail) unless its exit code is in ``ok``.
    """
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env)
        out = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) not in ok:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-800:]
            raise SystemExit(f"{' '.join(command)} failed:\n{tail}")
    return out, elapsed, usage.ru_maxrss
