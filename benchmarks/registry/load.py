"""A small HTTP load generator: N clients, each a keep-alive connection in its own thread.

Every client takes the next URL from a shared list (round robin) until the
request budget is spent, reads the whole body and records the latency.  A
response other than 200 counts as an error.  ``http.client`` is used because
it is the cheapest client in the standard library: the generator shares the
machine with the server under test, and a lighter client disturbs it less.
"""

from __future__ import annotations

import http.client
import itertools
import statistics
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Run:
    """The samples of one measured batch."""

    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    body_bytes: int = 0

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class _Batch:
    """What the clients of one batch share."""

    urls: list[str]
    budget: int
    headers: dict[str, str]
    run: Run
    start: threading.Barrier
    counter: itertools.count[int] = field(default_factory=itertools.count)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client(batch: _Batch) -> None:
    urls, counter, budget, headers = batch.urls, batch.counter, batch.budget, batch.headers
    run, lock, start = batch.run, batch.lock, batch.start
    parts = urlsplit(urls[0])
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    connection = http.client.HTTPConnection(host, port, timeout=60)
    latencies: list[float] = []
    errors = received = 0
    start.wait()
    try:
        while (n := next(counter)) < budget:
            target = urlsplit(urls[n % len(urls)])
            path = target.path + (f"?{target.query}" if target.query else "")
            began = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=60)
                errors += 1
                continue
            latencies.append(time.perf_counter() - began)
            received += len(body)
            if response.status != 200:
                errors += 1
            if response.getheader("connection", "").lower() == "close":
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=60)
    finally:
        connection.close()
        with lock:
            run.latencies.extend(latencies)
            run.errors += errors
            run.body_bytes += received


def hammer(urls: list[str], clients: int, budget: int, headers: dict[str, str]) -> Run:
    """``budget`` GETs over ``urls`` by ``clients`` concurrent keep-alive clients."""
    run = Run()
    batch = _Batch(urls, budget, headers, run, threading.Barrier(clients + 1))
    threads = [threading.Thread(target=_client, args=(batch,), daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    batch.start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - began
    run.requests = len(run.latencies)
    return run
