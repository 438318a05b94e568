"""Shared bits for the benchmarks: machine facts, one JSON line out, percentiles.

Benchmarks are not tests: nothing here asserts a time. Each script prints
exactly one JSON line on stdout (progress goes to stderr) so `bench/run_all`
can collect them into docs/performance.md.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(os.environ.get("TRADEKIT_BENCH_DIR", "/tmp/tradekit-bench"))


def machine() -> dict[str, Any]:
    """nproc, CPU model, memory, date and the versions every figure depends on."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    versions: dict[str, str] = {"python": platform.python_version()}
    for name in ("duckdb", "pandas", "numpy", "pyarrow", "tradekit", "backtrader"):
        try:
            module = __import__(name)
            versions[name] = str(getattr(module, "__version__", "?"))
        except ImportError:
            versions[name] = "not installed"
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": memory, "load_average_1m": round(os.getloadavg()[0], 2),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "versions": versions,
            "speed_index": speed_index()}


def speed_index() -> float:
    """Millions of iterations a second of a fixed pure-Python loop (best of 5), taken when the figures were.

    This virtual machine's speed drifts with its host (the same code measured 48 s and 68 s for
    the 250-day replay ten minutes apart); figures taken at different speed indexes compare only
    after scaling by it. Absolute targets are judged on the run in the table, with its index beside it.
    """
    import time

    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        total = 0
        for number in range(1_000_000):
            total += number & 7
        best = min(best, time.process_time() - started)
    return round(1.0 / best, 2)


def command() -> str:
    """The exact command that produced this figure (relative to the repository root)."""
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(ROOT)
    except ValueError:
        pass
    return shlex.join([".venv/bin/python", str(script), *sys.argv[1:]])


def emit(bench: str, results: dict[str, Any]) -> None:
    print(json.dumps({"bench": bench, "command": command(), "results": results, "machine": machine()}, default=str), flush=True)


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


def peak_rss_mib() -> float:
    """This process's peak resident memory (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


class Timer:
    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start
