"""Workload (b): SMA(10)/SMA(30) crossover, long only, 1 unit, fills at the next bar's open.

One synthetic symbol, 1,000,000 one-minute bars (390 a day, NYSE hours), run
in one invocation through:

* a plain Python loop (the floor: no framework at all),
* backtrader (``bt.ind.SMA`` + ``bt.ind.CrossOver``, market orders fill at the next bar's open),
* tradekit: the real ``Engine`` with the paper venue and a DuckDB journal, one
  engine day per session, a bench-only strategy registered in-process.

Every bar opens at the previous bar's close, so "fill at the next bar's open"
and tradekit's "fill at the quote when the candle closes" are the same price:
the three runs must agree on the trade count (checked and printed).

The SMA comparison is done on integer price units (3*sum10 > sum30) in the plain loop
and in the tradekit strategy, so no float tie can flip a cross; backtrader uses
its own float indicators and is checked against the same count.

    .venv/bin/python bench/sma_reference.py                       # 1M bars, tradekit on 100k of them
    .venv/bin/python bench/sma_reference.py --tradekit-bars 1000000  # everything through the engine (slow)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import deque
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, note  # noqa: E402

BARS_PER_DAY = 390
SYMBOL = "BENCH"
NY = ZoneInfo("America/New_York")


UNIT = 10_000  # prices are integers of 1/10,000: wide steps make an exact SMA tie (where float and
# integer comparisons could disagree) rare, so backtrader's float indicators see the same crosses


def make_bars(count: int, seed: int = 7) -> dict[str, np.ndarray]:
    """A random walk in 1/10,000 units; each bar opens at the previous close."""
    rng = np.random.default_rng(seed)
    steps = rng.integers(-1200, 1201, size=count)
    close = np.maximum(100_000, 2_000_000 + np.cumsum(steps)).astype(np.int64)
    opens = np.empty_like(close)
    opens[0] = 2_000_000
    opens[1:] = close[:-1]
    wick = rng.integers(0, 600, size=count)
    high = np.maximum(opens, close) + wick
    low = np.maximum(UNIT // 100, np.minimum(opens, close) - wick)
    return {"open": opens, "high": high, "low": low, "close": close, "volume": rng.integers(100, 5000, size=count)}


# ---------------------------------------------------------------- plain Python loop


def plain_loop(close_units: list[int], open_units: list[int]) -> dict[str, Any]:
    """The floor: rolling sums, a flag, fills at the next open."""
    fast: deque[int] = deque()
    slow: deque[int] = deque()
    s10 = s30 = 0
    above_before = None
    long = False
    trades = 0
    pnl = 0
    entry = 0
    pending = 0  # +1 buy / -1 sell at the next open
    for i, price in enumerate(close_units):
        if pending:
            if pending > 0:
                entry, long, trades = open_units[i], True, trades + 1
            else:
                pnl += open_units[i] - entry
                long = False
            pending = 0
        fast.append(price)
        slow.append(price)
        s10 += price
        s30 += price
        if len(fast) > 10:
            s10 -= fast.popleft()
        if len(slow) > 30:
            s30 -= slow.popleft()
        if len(slow) < 30:
            continue
        above = 3 * s10 > s30
        if above_before is not None:
            if above and not above_before and not long:
                pending = 1
            elif not above and above_before and long:
                pending = -1
        above_before = above
    return {"trades": trades, "pnl": pnl / UNIT}


# ---------------------------------------------------------------- backtrader


def run_backtrader(bars: dict[str, np.ndarray], start: datetime) -> dict[str, Any]:
    import backtrader as bt
    import pandas as pd

    index = pd.date_range(start, periods=len(bars["close"]), freq="1min")
    frame = pd.DataFrame({k: bars[k] / UNIT if k != "volume" else bars[k] for k in ("open", "high", "low", "close", "volume")},
                         index=index)
    frame["openinterest"] = 0

    class Cross(bt.Strategy):
        def __init__(self) -> None:
            self.cross = bt.ind.CrossOver(bt.ind.SMA(self.data.close, period=10), bt.ind.SMA(self.data.close, period=30))
            self.entries = 0

        def next(self) -> None:
            if not self.position and self.cross[0] > 0:
                self.buy(size=1)
                self.entries += 1
            elif self.position and self.cross[0] < 0:
                self.close()

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame, timeframe=bt.TimeFrame.Minutes))
    cerebro.addstrategy(Cross)
    cerebro.broker.setcash(10_000_000)
    result = cerebro.run()[0]
    return {"trades": result.entries, "final_value": round(cerebro.broker.getvalue(), 2)}


# ---------------------------------------------------------------- tradekit


class SmaCross:
    """The same rule as a tradekit strategy. The rolling window lives on the instance so the
    warm-up carries across engine days like the peers' continuous series (the engine hands a
    strategy only today's state); the journalled state is {"long": bool}."""

    name = "bench-sma"
    market = "NYSE"

    def __init__(self, instrument_id: str) -> None:
        self.iid = instrument_id
        self.window: deque[int] = deque(maxlen=30)
        self.above_before: bool | None = None
        self.entries = 0

    def start(self, context: Any, state: Any) -> Any:
        from tradekit.ports.strategy import Decision

        return Decision(state={"long": bool(context.positions)})

    def subscription(self, context: Any, state: Any) -> Any:
        from tradekit.ports.strategy import Subscription

        return Subscription(candle_seconds=60, instruments=(self.iid,))

    def on_candles(self, context: Any, candles: Any, state: Any) -> Any:
        from tradekit.model.intents import Enter, Exit
        from tradekit.model.orders import Side
        from tradekit.ports.strategy import Decision

        candle = candles.get(self.iid)
        if candle is None:
            return Decision(state=state)
        self.window.append(round(candle.close * UNIT))
        if len(self.window) < 30:
            return Decision(state=state)
        window = self.window
        s30 = sum(window)
        s10 = sum(window[i] for i in range(20, 30))
        above = 3 * s10 > s30
        before, self.above_before = self.above_before, above
        long = self.iid in context.positions
        if before is not None and above and not before and not long:
            self.entries += 1
            return Decision(state={"long": True}, intents=(Enter(self.iid, Side.BUY, 1, signal_price=candle.close),))
        if before is not None and not above and before and long:
            return Decision(state={"long": False}, intents=(Exit(self.iid, "CROSS_DOWN", signal_price=candle.close),))
        return Decision(state=state)

    def on_quotes(self, context: Any, quotes: Any, state: Any) -> Any:
        from tradekit.ports.strategy import Decision

        return Decision(state=state)


class SmaCrossWake(SmaCross):
    """The same rule, vectorised the way tradekit strategies may (``wake_times``): one numpy pass per day
    finds the bars where the fast average crosses the slow one; the engine steps only there and the
    strategy decides with the position the engine's book holds, exactly as the bar-by-bar version."""

    name = "bench-sma-wake"

    def __init__(self, instrument_id: str) -> None:
        super().__init__(instrument_id)
        self.carry = np.zeros(0, dtype=np.int64)  # the last 29 closes of the days before
        self.signals: dict[int, bool] = {}  # candle close (ns) -> True: cross up, False: cross down

    def wake_times(self, context: Any, day: Any) -> list[datetime]:
        from tradekit.plugins.replay import from_ns

        series = day.series[self.iid]
        closes = np.concatenate([self.carry, np.round(series.close * UNIT).astype(np.int64)])
        carried = len(self.carry)
        self.carry = closes[-29:]
        sums = np.concatenate([[0], np.cumsum(closes)])
        ends = np.arange(len(closes)) + 1  # window ends (exclusive) of each bar
        full = ends >= 30
        s30 = sums[ends[full]] - sums[ends[full] - 30]
        s10 = sums[ends[full]] - sums[ends[full] - 10]
        above = 3 * s10 > s30
        bar = np.nonzero(full)[0]  # index of each bar in `closes`
        before = np.concatenate([[self.above_before if self.above_before is not None else above[0]], above[:-1]])
        known = np.ones(len(above), dtype=bool)
        if self.above_before is None:
            known[0] = False
        crosses = known & (above != before)
        if len(above):
            self.above_before = bool(above[-1])
        today = bar[crosses] - carried
        keep = today >= 0
        moments = series.ts[today[keep]] + 60_000_000_000
        self.signals = dict(zip(moments.tolist(), above[crosses][keep].tolist()))
        return [from_ns(m) for m in moments.tolist()]

    def on_candles(self, context: Any, candles: Any, state: Any) -> Any:
        from tradekit.model.intents import Enter, Exit
        from tradekit.model.orders import Side
        from tradekit.plugins.replay import to_ns
        from tradekit.ports.strategy import Decision

        up = self.signals.get(to_ns(context.now))
        candle = candles.get(self.iid)
        if up is None or candle is None:
            return Decision(state=state)
        long = self.iid in context.positions
        if up and not long:
            self.entries += 1
            return Decision(state={"long": True}, intents=(Enter(self.iid, Side.BUY, 1, signal_price=candle.close),))
        if not up and long:
            return Decision(state={"long": False}, intents=(Exit(self.iid, "CROSS_DOWN", signal_price=candle.close),))
        return Decision(state=state)

    def on_fill(self, context: Any, fill: Any, order: Any, state: Any) -> Any:
        from tradekit.ports.strategy import Decision

        return Decision(state=state)


def trading_days(first: date, count: int) -> list[date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def run_tradekit(bars: dict[str, np.ndarray], count: int, first_day: date, *, wake: bool = True) -> dict[str, Any]:
    from tradekit.clock import SimClock
    from tradekit.collector import LongLived
    from tradekit.data.loader import MarketDay, Series
    from tradekit.engine.loop import Engine, EngineSettings
    from tradekit.model import Instrument, InstrumentKind
    from tradekit.plugins.paper.costs import CostModel
    from tradekit.plugins.paper.venue import PaperSettings, PaperVenue
    from tradekit.plugins.replay import ReplayMarket, to_ns
    from tradekit.ports.strategy import SessionInfo
    from tradekit.store import DuckDBStore

    instrument = Instrument(symbol=SYMBOL, exchange="NYSE", kind=InstrumentKind.EQUITY, currency="USD",
                            tick_size=Decimal("0.0001"))
    strategy = SmaCrossWake(instrument.id) if wake else SmaCross(instrument.id)
    days = trading_days(first_day, (count + BARS_PER_DAY - 1) // BARS_PER_DAY)
    home = Path(tempfile.mkdtemp(prefix="tradekit-bench-sma-"))
    store = DuckDBStore(home / "tradekit.duckdb", batch_size=100_000)  # as services/backtest.py opens a backtest's store
    store.checkpoint_at_close()
    book = store.load_book()
    prices = {k: bars[k][:count] / UNIT for k in ("open", "high", "low", "close")}
    volume, done = bars["volume"][:count], 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    steps = 0
    clock = SimClock(datetime.combine(days[0], datetime.min.time(), NY))
    venue = PaperVenue(home / "paper" / "bench.json",
                       PaperSettings(account="bench", capital=Decimal(10_000_000), currency="USD", costs=CostModel()),
                       None, clock, persist="close")  # one account across the run, written at the end (as a backtest does)
    long_lived = LongLived()  # as services/backtest.py: what survives a day leaves the collector's full passes
    try:
        for number, day in enumerate(days):
            lo, hi = number * BARS_PER_DAY, min(count, (number + 1) * BARS_PER_DAY)
            open_ = datetime.combine(day, datetime.min.time(), NY).replace(hour=9, minute=30)
            session = SessionInfo(market="NYSE", day=day, timezone="America/New_York", open=open_,
                                  close=open_ + timedelta(minutes=hi - lo))
            ts = to_ns(open_) + np.arange(hi - lo, dtype=np.int64) * 60_000_000_000
            series = Series(instrument=instrument, ts=ts, open=prices["open"][lo:hi], high=prices["high"][lo:hi],
                            low=prices["low"][lo:hi], close=prices["close"][lo:hi], volume=volume[lo:hi],
                            oi=np.zeros(hi - lo, dtype=np.int64))
            market_day = MarketDay(market="NYSE", day=day, timezone="America/New_York", bar_seconds=60, path=None,
                                   manifest={}, series={instrument.id: series}, issues=(), scanner=None)
            replay = ReplayMarket(market_day)
            venue.use_market(replay, clock)  # the next day's prices, the same account (services/backtest.py does the same)
            clock.sleep_until(open_)
            if number == 0:
                venue.connect()
            engine = Engine(store=store, book=book, broker=venue, feed=replay, strategy=strategy, clock=clock,
                            session=session, settings=EngineSettings(account="paper:bench", store_id=store.store_id,
                                                                     opening_cash=Decimal(10_000_000), defer_durable=True))
            engine.run()
            long_lived.keep()
            steps += hi - lo
            done = hi
            if number % 50 == 0:
                note(f"tradekit: {done} bars, {done / (time.perf_counter() - started):,.0f} bars/s")
        store.flush(book)  # the batch (and the journal of the whole run) into DuckDB
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        trades = book.trade_count.get("paper:bench", 0)
        open_now = 1 if book.open_positions("paper:bench") else 0
        events = store.event_count()
    finally:
        long_lived.close()
        venue.close()
        store.close()
    return {"bars": done, "seconds": seconds, "bars_per_s": done / seconds, "cpu_s": cpu, "bars_per_cpu_s": done / cpu, "trades": trades + open_now,
            "entries_decided": strategy.entries, "journal_events": events, "store": str(home)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--tradekit-bars", type=int, default=None, help="bars through the engine (default: all)")
    parser.add_argument("--bar-by-bar", action="store_true", help="tradekit steps every bar (no wake_times): the slow path")
    parser.add_argument("--skip-backtrader", action="store_true")
    args = parser.parse_args()
    bars = make_bars(args.bars)
    close_units, open_units = bars["close"].tolist(), bars["open"].tolist()
    results: dict[str, Any] = {"bars": args.bars}

    started, cpu = time.perf_counter(), time.process_time()
    plain = plain_loop(close_units, open_units)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    results["plain_loop"] = {**plain, "seconds": seconds, "bars_per_s": args.bars / seconds, "bars_per_cpu_s": args.bars / cpu}
    note(f"plain loop: {args.bars / seconds:,.0f} bars/s, {plain['trades']} trades")

    if not args.skip_backtrader:
        started, cpu = time.perf_counter(), time.process_time()
        peer = run_backtrader(bars, datetime(2000, 1, 3, 9, 30))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        results["backtrader"] = {**peer, "seconds": seconds, "bars_per_s": args.bars / seconds, "bars_per_cpu_s": args.bars / cpu}
        note(f"backtrader: {args.bars / seconds:,.0f} bars/s, {peer['trades']} trades")

    count = min(args.tradekit_bars or args.bars, args.bars)
    engine = run_tradekit(bars, count, date(2000, 1, 3), wake=not args.bar_by_bar)
    engine["mode"] = "bar by bar" if args.bar_by_bar else "wake_times (vectorised signal pass, engine steps at crosses)"
    results["tradekit"] = engine
    prefix = plain if count == args.bars else plain_loop(close_units[:count], open_units[:count])
    results["tradekit"]["plain_loop_trades_same_bars"] = prefix["trades"]
    note(f"tradekit: {engine['bars_per_s']:,.0f} bars/s over {count} bars, {engine['trades']} trades")

    checks = {"tradekit_trades_match_plain_loop": engine["trades"] == prefix["trades"]}
    ratios = {"plain_over_tradekit": results["plain_loop"]["bars_per_s"] / engine["bars_per_s"],
              "plain_over_tradekit_cpu": results["plain_loop"]["bars_per_cpu_s"] / engine["bars_per_cpu_s"]}
    if "backtrader" in results:
        checks["backtrader_trades_match_plain_loop"] = results["backtrader"]["trades"] == plain["trades"]
        ratios["tradekit_over_backtrader_throughput"] = engine["bars_per_s"] / results["backtrader"]["bars_per_s"]
        ratios["tradekit_over_backtrader_cpu"] = engine["bars_per_cpu_s"] / results["backtrader"]["bars_per_cpu_s"]
    results["ratios"] = {k: round(v, 3) for k, v in ratios.items()}
    results["checks"] = checks
    emit("sma_reference", results)


if __name__ == "__main__":
    main()
