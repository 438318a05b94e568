"""Workload (d): the cost of one engine step's transaction: append its events and update the
projections (DuckDBStore.commit with the Book the engine keeps), p50/p99.

Two step shapes, as the engine produces them:
* ``checkpoint``: a candle step that only changes strategy state (1 event, the oi-momentum-sized state);
* ``order``: a step that enters and fills (OrderSubmitted, OrderAccepted, FillRecorded, StrategyCheckpoint).
Per step, journal first (``durable=True`` with ``lazy_projections``, as `run` does): the step's
events are on disk (the ahead log: one write + fsync) when commit returns, which is all that
stands between a decision and the order; the DuckDB transaction (events + projections) follows
after the engine acted, timed apart as ``projections_behind``.
Per step, eager (``durable=True`` without lazy projections, as one-off commands like `sync` do):
log and DuckDB transaction in the same call.
Batched: ``durable=False`` with the store's batch (replays), reported as the per-step cost amortised
over the batch (time of all commit calls incl. the flushes / steps) plus the flush p50.

    .venv/bin/python bench/journal_step.py --steps 300
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, note, percentile  # noqa: E402

from tradekit.model.events import DayOpened, FillRecorded, OrderAccepted, OrderSubmitted, StrategyCheckpoint
from tradekit.model.fills import Fill
from tradekit.model.orders import Order, Side
from tradekit.store import DuckDBStore

ACCOUNT, STRATEGY, IID = "paper:bench", "oi-momentum", "NFO:NIFTY2430722000CE"
DAY = date(2024, 3, 4)


def state(step: int) -> dict:
    """About the size of oi-momentum's state: VWAP sums for 82 contracts."""
    return {"version": 1, "day": DAY.isoformat(), "step": step,
            "contracts": {f"NFO:NIFTY24307{22000 + 50 * k}CE": [1.5e6 + step, 2000 + step, 600000, 1709523900 + step] for k in range(82)}}


def step_events(number: int, kind: str, at: datetime) -> list:
    events: list = []
    if kind == "order":
        side = Side.BUY if number % 2 == 0 else Side.SELL
        coid = f"BENCH-{number:06d}"
        order = Order(client_order_id=coid, account=ACCOUNT, instrument_id=IID, side=side, quantity=75,
                      strategy=STRATEGY, reason="ENTRY" if side is Side.BUY else "EXIT", created_at=at)
        fill = Fill(fill_id=f"PF{number:08d}", account=ACCOUNT, instrument_id=IID, side=side, quantity=75,
                    price=Decimal("101.25"), ts=at, client_order_id=coid, broker_order_id=f"PO{number:08d}", costs=Decimal("20"))
        events += [OrderSubmitted(ts=at, account=ACCOUNT, order=order),
                   OrderAccepted(ts=at, account=ACCOUNT, client_order_id=coid, broker_order_id=f"PO{number:08d}"),
                   FillRecorded(ts=at, account=ACCOUNT, fill=fill, strategy=STRATEGY)]
    events.append(StrategyCheckpoint(ts=at, account=ACCOUNT, strategy=STRATEGY, day=DAY, state=state(number)))
    return events


def run(kind: str, steps: int, batch: int | None, *, lazy: bool = False) -> dict:
    home = Path(tempfile.mkdtemp(prefix="tradekit-bench-journal-"))
    store = DuckDBStore(home / "tradekit.duckdb", batch_size=batch or 1, lazy_projections=lazy)
    book = store.load_book()
    start = datetime(2024, 3, 4, 3, 45, tzinfo=UTC)
    opened = DayOpened(ts=start, account=ACCOUNT, day=DAY, cash=Decimal(10_000_000), source="capital")
    book.apply(opened)
    store.commit([opened], book)
    timings, flushes, behind = [], [], []
    total = 0.0
    for number in range(steps):
        events = step_events(number, kind, start + timedelta(seconds=60 * (number + 1)))
        pending_before = store.behind
        began = time.perf_counter()
        for event in events:
            book.apply(event)  # the engine applies each event to its book as it records it
        store.commit(events, book, durable=batch is None)
        spent = time.perf_counter() - began
        timings.append(spent * 1000)
        total += spent
        if batch is not None and store.behind < pending_before + len(events):
            flushes.append(spent * 1000)
        if lazy:  # what the engine does at the end of the step, after it acted
            began = time.perf_counter()
            store.flush(book)
            behind.append((time.perf_counter() - began) * 1000)
    began = time.perf_counter()
    store.flush(book)
    total += time.perf_counter() - began
    store.close()
    result = {"steps": steps, "p50_ms": round(percentile(timings, 50), 3), "p99_ms": round(percentile(timings, 99), 3),
              "mean_ms": round(total / steps * 1000, 3)}
    if lazy:
        result["projections_behind"] = {"p50_ms": round(percentile(behind, 50), 3), "p99_ms": round(percentile(behind, 99), 3)}
    if batch is not None:
        result["batch_events"] = batch
        result["flush_count"] = len(flushes)
        if flushes:
            result["flush_p50_ms"] = round(percentile(flushes, 50), 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=200, help="events per flush in the batched runs (engine.replay_batch)")
    args = parser.parse_args()
    results = {}
    for kind in ("checkpoint", "order"):
        results[f"{kind}_journal_first"] = run(kind, args.steps, None, lazy=True)
        note(f"{kind} journal first: {results[f'{kind}_journal_first']}")
        results[f"{kind}_eager"] = run(kind, args.steps, None)
        note(f"{kind} eager: {results[f'{kind}_eager']}")
        results[f"{kind}_batched"] = run(kind, args.steps, args.batch)
        note(f"{kind} batched: {results[f'{kind}_batched']}")
    emit("journal_step", results)


if __name__ == "__main__":
    main()
