"""Chaos harness: kill -9 a replayed trading day N times, trade by hand and let stops fill while it is down.

    python bench/chaos.py --kills 200 [--seed 7] [--days 1] [--work DIR] [--keep]

A reference home runs the day(s) without interruption. A second home runs
the same day(s) with ``tradekit run`` killed by SIGKILL at N random crash
points (``TRADEKIT_CRASH_AT``: after journal commits, between sending an
order and recording its acknowledgement, inside an open transaction, around
the paper venue's save). Between a kill and the restart, while tradekit is
down, the harness

* moves the paper venue's market time up to where the killed run had got
  (``tradekit paper fill --until``): working stops the price path crossed
  fill at the broker, and the restarted run must learn them from the broker;
* sometimes places a manual order in another instrument
  (``tradekit paper order``), as a trader typing into the broker's app.

Checked at the end: the restarted runs' start-up reconcile found the book
in sync (everything explained by the broker's fills), the strategy's trades,
positions and cash equal the uninterrupted run's plus the manual trades,
every broker fill is in the store exactly once (0 lost fills), no tagged
order reached the venue twice (0 duplicate orders), ``tradekit reconcile``
exits 0 and ``tradekit doctor`` finds projections equal to the journal.
Prints a summary; exit code 1 when any check fails. ``tests/chaos`` runs a
small N in CI.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tradekit.testing.market import example_config, random_walk, session_bars, write_day
from tradekit.testing.outcome import store_outcome, venue_outcome
from tradekit.testing.process import run_tradekit

DONE = "every NSE day in the data has been traded"
MANUAL = "NSE:HANDCO"
FIRST_DAY = date(2025, 12, 8)
DAYS = (date(2025, 12, 8), date(2025, 12, 9), date(2025, 12, 10))
_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) ")


@dataclass
class Summary:
    kills_requested: int
    seed: int
    kills: int = 0
    restarts: int = 0
    start_reconciles_in_sync: int = 0
    start_reconciles_corrected: int = 0
    downtime_fills: int = 0
    manual_orders: int = 0
    manual_rejected: int = 0
    duplicate_orders: int = 0
    lost_fills: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {**{k: v for k, v in self.__dict__.items()}, "ok": self.ok}


tradekit = run_tradekit  # the shared child-process runner (tradekit.testing.process)


def run_in_process(home: Path) -> str:
    """One ``tradekit run`` in this process (runs that are not killed need no process of their own)."""
    from tradekit.errors import TradekitError
    from tradekit.services.run import RunOptions, run
    from tradekit.services.setup import workspace

    lines: list[str] = []
    try:
        outcome = run(workspace(home), RunOptions(strategy="example"), lines.append)
    except TradekitError as error:
        raise RuntimeError(f"run in {home} failed: {error}") from None
    lines.append(outcome.message)
    return "\n".join(lines)


def write_market(root: Path, days: int) -> None:
    """Seeded NSE days: TESTCO (traded by the ``example`` strategy) and HANDCO (traded by hand)."""
    bars = session_bars("NSE", 60)
    for offset, day in enumerate(DAYS[:days]):
        write_day(root, "NSE", day, {"TESTCO": random_walk(11 + offset, bars, 1000.0), "HANDCO": random_walk(91 + offset, bars, 200.0)})


def _last_stamp(stdout: str) -> str | None:
    for line in reversed(stdout.splitlines()):
        match = _STAMP.match(line)
        if match:
            return match.group(1)
    return None


def _venue_time(home: Path) -> datetime | None:
    path = home / "paper" / "default.json"
    if not path.exists():
        return None
    watermark = json.loads(path.read_text()).get("watermark")
    return datetime.fromisoformat(watermark) if watermark else None


def configure(home: Path, root: Path) -> None:
    """The ``example`` strategy with tight stops and long holds, so stops fill (also while tradekit is down)."""
    example_config(home, root, hold_candles="8", max_entries="8")
    config = home / "tradekit.toml"
    config.write_text(config.read_text().replace("stop_pct = 0.6", "stop_pct = 0.25"))


def _checkpoint(home: Path) -> list[datetime]:
    """The event time of the killed run's last committed step."""
    from tradekit.errors import StoreError
    from tradekit.store import DuckDBStore

    try:
        store = DuckDBStore(home / "tradekit.duckdb", readonly=True)
    except StoreError:
        return []
    try:
        row = store.query("SELECT max(ts) FROM strategy_state")
    finally:
        store.close()
    return [row[0][0]] if row and row[0][0] is not None else []


def _run_reference(home: Path, root: Path) -> tuple[int, list[tuple[datetime, str]]]:
    """The uninterrupted run: an estimate of the crash points a run passes, and when it acted at the venue."""
    configure(home, root)
    while DONE not in run_in_process(home):
        pass
    from tradekit.store import DuckDBStore

    store = DuckDBStore(home / "tradekit.duckdb", readonly=True)
    try:
        events = store.event_count()
        actions = [(row[0], row[1]) for row in store.query(
            "SELECT ts, type FROM events WHERE type IN ('OrderSubmitted', 'OrderCancelled', 'OrderModified') ORDER BY seq")]
    finally:
        store.close()
    return 2 * events, actions  # after each commit, inside its transaction, around sends and venue saves


def _while_down(home: Path, stdout: str, chooser: random.Random, summary: Summary, side: list[str],
                actions: list[tuple[datetime, str]]) -> None:
    """What happens at the broker while tradekit is down: the market moves on, a trader trades by hand."""
    from tradekit.errors import OrderRejected
    from tradekit.services.paper import fill_while_down, manual_order
    from tradekit.services.setup import workspace

    stamp = _last_stamp(stdout)
    venue = _venue_time(home)
    moments = [datetime.fromisoformat(stamp).replace(tzinfo=ZoneInfo("Asia/Kolkata"))] if stamp else []  # log lines: exchange time
    moments += _checkpoint(home)
    if moments and venue is not None:
        reached = max(moments)  # the killed run had got at least this far
        # the market moves on while tradekit is down, but not past the next moment the uninterrupted run acted at
        # the venue (an order sent, cancelled or modified): up to there, the venue evolves exactly as without the crash
        state = json.loads((home / "paper" / "default.json").read_text())
        tagged = [o for o in state["orders"].values() if o["tag"]]
        done = (len(tagged) == sum(1 for ts, kind in actions if kind == "OrderSubmitted" and ts <= reached)
                and sum(1 for o in tagged if o["status"] == "CANCELLED")
                == sum(1 for ts, kind in actions if kind == "OrderCancelled" and ts <= reached))
        # if everything the run did at `reached` reached the venue, the market may move on to its next action
        later = [ts for ts, _ in actions if ts > reached or (ts == reached and not done)]
        reached = later[0] if later else reached + timedelta(minutes=chooser.randint(1, 60))
        if reached > venue:
            summary.downtime_fills += len(fill_while_down(workspace(home), None, None, reached.isoformat()))
    if venue is not None and chooser.random() < 0.5:
        try:
            manual_order(workspace(home), side[0], MANUAL, 5, None)
        except OrderRejected:  # e.g. killed at the open, before the first bar: no price yet, as at a real broker
            summary.manual_rejected += 1
            return
        summary.manual_orders += 1
        side[0] = "SELL" if side[0] == "BUY" else "BUY"


def _check_start(stdout: str, summary: Summary) -> None:
    if "reconcile at start with paper: in sync" in stdout:
        summary.start_reconciles_in_sync += 1
    elif "reconcile at start with paper: corrected" in stdout:
        summary.start_reconciles_corrected += 1
        summary.failures.append("a restart needed position corrections: " +
                                " | ".join(l for l in stdout.splitlines() if "reconcile" in l))


def chaos(kills: int, seed: int, work: Path, days: int = 1) -> Summary:
    started = time.monotonic()
    summary = Summary(kills_requested=kills, seed=seed)
    root = work / "data"
    write_market(root, days)
    reference, crashed = work / "reference", work / "crashed"
    points, actions = _run_reference(reference, root)
    configure(crashed, root)
    chooser = random.Random(seed)
    span = max(2, (2 * points) // max(kills, 1))
    side = ["BUY"]
    finished = False
    while summary.kills < kills and not finished:
        result = tradekit(crashed, "run", "--strategy", "example", crash_at=chooser.randint(1, span))
        summary.restarts += 1
        _check_start(result.stdout, summary)
        if result.returncode == -signal.SIGKILL:
            summary.kills += 1
            _while_down(crashed, result.stdout, chooser, summary, side, actions)
        elif result.returncode != 0:
            summary.failures.append(f"run exited {result.returncode}: {result.stderr.strip()}")
            break
        finished = DONE in result.stdout
    for _ in range(days + 2):  # finish the data without kills (in this process: nothing to kill)
        if finished:
            break
        output = run_in_process(crashed)
        summary.restarts += 1
        _check_start(output, summary)
        finished = DONE in output
    _compare(reference, crashed, summary)
    summary.seconds = round(time.monotonic() - started, 1)
    return summary


def _money(value: Any) -> Decimal:
    return Decimal(str(value))


def _compare(reference: Path, crashed: Path, summary: Summary) -> None:
    expected, got = store_outcome(reference), store_outcome(crashed)
    venue_got = venue_outcome(crashed)
    state = json.loads((crashed / "paper" / "default.json").read_text())
    manual = [f for f in state["fills"] if not f["tag"]]
    # the strategy's trades are the uninterrupted run's
    strategy_trades = [t for t in got["trades"] if t[0] == "example"]
    if strategy_trades != expected["trades"]:
        summary.failures.append(f"trades differ: {len(strategy_trades)} vs {len(expected['trades'])} in the uninterrupted run")
    # positions: the uninterrupted run's plus the manual ones
    manual_quantity = sum((1 if f["side"] == "BUY" else -1) * f["quantity"] for f in manual)
    want_positions = [p for p in expected["positions"] if p[1] != MANUAL]
    have_positions = [p for p in got["positions"] if p[1] != MANUAL]
    have_manual = sum(p[2] for p in got["positions"] if p[1] == MANUAL)
    if have_positions != want_positions or have_manual != manual_quantity:
        summary.failures.append(f"positions differ: {got['positions']} vs {expected['positions']} + {manual_quantity} {MANUAL}")
    # cash: the uninterrupted run's, moved by exactly what the manual fills cost or paid
    manual_cash = sum(-(1 if f["side"] == "BUY" else -1) * _money(f["price"]) * f["quantity"] - _money(f["costs"]) for f in manual)
    if _money(got["cash"][0][1]) != _money(expected["cash"][0][1]) + manual_cash:
        summary.failures.append(f"cash {got['cash'][0][1]} != {expected['cash'][0][1]} + manual {manual_cash}")
    if _money(venue_got["cash"]) != _money(got["cash"][0][1]):
        summary.failures.append(f"store cash {got['cash'][0][1]} != venue cash {venue_got['cash']}")
    # 0 duplicate orders: the tagged orders the venue received are the uninterrupted run's, each once
    tagged = [o for o, tag in zip(_orders(crashed), _tags(crashed)) if tag]
    if tagged != [o for o, tag in zip(_orders(reference), _tags(reference)) if tag]:
        summary.failures.append("the venue received different tagged orders than in the uninterrupted run")
    summary.duplicate_orders = len(venue_got["tags"]) - len(set(venue_got["tags"]))
    # 0 lost fills: every venue fill is in the store exactly once
    from tradekit.store import DuckDBStore

    store = DuckDBStore(crashed / "tradekit.duckdb", readonly=True)
    try:
        stored = [row[0] for row in store.query("SELECT fill_id FROM fills")]
    finally:
        store.close()
    venue_ids = [f["fill_id"] for f in state["fills"]]
    summary.lost_fills = len(set(venue_ids) - set(stored)) + (len(stored) - len(set(stored)))
    if summary.duplicate_orders or summary.lost_fills:
        summary.failures.append(f"{summary.duplicate_orders} duplicate orders, {summary.lost_fills} lost fills")
    from tradekit.services.doctor import check
    from tradekit.services.setup import workspace
    from tradekit.services.sync import run_reconcile

    reconciled = run_reconcile(workspace(crashed), "paper", apply=False)
    if not reconciled.result.in_sync:
        summary.failures.append(f"tradekit reconcile: not in sync: {reconciled.to_dict()['differences']}")
    store = DuckDBStore(crashed / "tradekit.duckdb", readonly=True)
    try:
        if not check(store).clean:
            summary.failures.append("tradekit doctor: projections differ from the journal")
    finally:
        store.close()


def _orders(home: Path) -> list[tuple[Any, ...]]:
    state = json.loads((home / "paper" / "default.json").read_text())
    return [(o["instrument_id"], o["side"], o["quantity"], o["order_type"], o["status"])
            for o in sorted(state["orders"].values(), key=lambda o: o["broker_order_id"])]


def _tags(home: Path) -> list[str | None]:
    state = json.loads((home / "paper" / "default.json").read_text())
    return [o["tag"] for o in sorted(state["orders"].values(), key=lambda o: o["broker_order_id"])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="kill -9 this many times (default 20)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=1, choices=(1, 2, 3))
    parser.add_argument("--work", type=Path, help="working directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    options = parser.parse_args(argv)
    work = options.work or Path(tempfile.mkdtemp(prefix="tradekit-chaos-"))
    work.mkdir(parents=True, exist_ok=True)
    summary = chaos(options.kills, options.seed, work, options.days)
    print(json.dumps(summary.to_dict(), indent=2, default=str))
    print(f"chaos: {summary.kills} kills ({summary.restarts} runs), {summary.downtime_fills} downtime fills, "
          f"{summary.manual_orders} manual orders, {summary.start_reconciles_in_sync} start-up reconciles in sync, "
          f"{summary.duplicate_orders} duplicate orders, {summary.lost_fills} lost fills: {'OK' if summary.ok else 'FAILED'} "
          f"in {summary.seconds} s")
    if not options.keep and options.work is None and summary.ok:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    elif not summary.ok:
        print(f"working directory kept: {work}")
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
