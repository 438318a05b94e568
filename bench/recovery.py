"""Workload (e): time from process start to trading-ready for stores holding 1k, 100k and 1M
journal events.

A store is built once per size (cached under $TRADEKIT_BENCH_DIR) from the engine's own
event types: one order step (submit, accept, fill, checkpoint) every 25 steps, a
strategy checkpoint every other step, as a replayed strategy writes them. Then a fresh
Python process (bench/recovery_probe.py) is timed from fork to "ready": tradekit
imported, store opened (lock, schema check, next sequence), the book loaded from the
projections, the paper venue connected and the strategy constructed: everything
`tradekit run` does before its first step, minus loading the day's market data
(a replay concern, measured in replay_oi.py). Median of 5 runs. One more, untimed run per store
reports a full pass of Python's cyclic garbage collector with that book loaded, before and after the
``gc.freeze()`` a live session makes at its start (a pause a tick would wait out).

    .venv/bin/python bench/recovery.py --sizes 1000 100000 1000000
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, WORK, emit, note  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")


def build(home: Path, events: int) -> None:
    from decimal import Decimal

    from journal_step import ACCOUNT, DAY, STRATEGY, step_events
    from tradekit.model.events import DayOpened, StrategyCheckpoint
    from tradekit.store import DuckDBStore

    home.mkdir(parents=True, exist_ok=True)
    store = DuckDBStore(home / "tradekit.duckdb", batch_size=50_000)
    book = store.load_book()
    start = datetime(2024, 3, 4, 3, 45, tzinfo=UTC)
    opened = DayOpened(ts=start, account=ACCOUNT, day=DAY, cash=Decimal(100_000_000), source="capital")
    book.apply(opened)
    store.commit([opened], book, durable=True)
    written, number = 1, 0
    while written < events:
        at = start + timedelta(seconds=number)
        if number % 25 == 0:
            batch = step_events(number, "order", at)
        else:
            batch = [StrategyCheckpoint(ts=at, account=ACCOUNT, strategy=STRATEGY, day=DAY, state={"step": number, "direction": "CALL"})]
        batch = batch[: events - written]
        for event in batch:
            book.apply(event)
        store.commit(batch, book, durable=False)
        written += len(batch)
        number += 1
        if number % 50_000 == 0:
            note(f"  {written} events")
    store.flush(book)
    count = store.event_count()
    store.close()
    (home / "events.txt").write_text(str(count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = {}
    probe = str(Path(__file__).resolve().parent / "recovery_probe.py")
    baseline = []
    for _ in range(args.runs):
        began = time.perf_counter()
        subprocess.run([PYTHON, "-c", "import tradekit.services.run, tradekit_oi_momentum"], check=True)
        baseline.append(time.perf_counter() - began)
    results["python_and_imports_s"] = round(statistics.median(baseline), 3)
    for size in args.sizes:
        home = WORK / f"recovery-{size}"
        if not (home / "events.txt").is_file():
            note(f"building a store with {size} events ...")
            began = time.perf_counter()
            build(home, size)
            note(f"  built in {time.perf_counter() - began:.1f}s")
        timings, report = [], ""
        for _ in range(args.runs):
            began = time.perf_counter()
            report = subprocess.run([PYTHON, probe, str(home)], check=True, capture_output=True, text=True).stdout.strip()
            timings.append(time.perf_counter() - began)
        collector = subprocess.run([PYTHON, probe, str(home), "--gc"], check=True, capture_output=True, text=True).stdout
        gc_line = dict(item.split("=") for item in collector.strip().splitlines()[-1].removeprefix("gc: ").split())
        results[f"events_{size}"] = {"events": int((home / "events.txt").read_text()), "ready_s": round(statistics.median(timings), 3),
                                     "max_s": round(max(timings), 3), "probe": report,
                                     "gc_full_pass_ms": float(gc_line["full_pass_ms"]),
                                     "gc_full_pass_after_freeze_ms": float(gc_line["frozen_full_pass_ms"]),
                                     "gc_tracked_objects": int(gc_line["tracked"])}
        note(f"{size}: {results[f'events_{size}']}")
    emit("recovery", results)


if __name__ == "__main__":
    main()
