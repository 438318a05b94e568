"""Workload (c): reaction latency, from a tick leaving the fake Kite ticker to the order leaving
tradekit, through the engine's own streaming path, in-process over loopback.

`Engine.run` runs on the wall clock in a thread (a session from now to a few minutes on),
executing with the real ZerodhaBroker against the fake Kite (as `run --live` does). Its
exit monitor is fed by the stream (`engine.stream_quotes`): the fake writes one binary
full-mode frame on its websocket (t0); the unmodified KiteTicker client decodes it and
tradekit's ZerodhaStream hands the quote to the engine's QuoteStream, which wakes the
engine's waiting loop (t1); the engine asks the strategy (`on_quotes`), journals the
order durably (the ahead log: one write + fsync) and calls `submit_order` (t2: the order
leaves tradekit); the broker places it over HTTP on the fake (t3, reported apart). The
strategy flips: a tick while flat buys, a tick while long sells, so every tick is an order.

p50/p99 of t2 - t0 ("tick to order"), with the split.

    .venv/bin/python bench/tick_to_order.py --ticks 300
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, note, percentile  # noqa: E402

from tradekit.clock import LiveClock, SimClock
from tradekit.engine.loop import Engine, EngineSettings
from tradekit.model.intents import Enter, Exit
from tradekit.model.orders import Order, Side
from tradekit.plugins.broker_feed import BrokerFeed
from tradekit.ports import BrokerContext
from tradekit.ports.strategy import Decision, SessionInfo, Subscription
from tradekit.store import DuckDBStore
from tradekit_zerodha.broker import ZerodhaBroker
from tradekit_zerodha.fake import FakeKite, SyntheticNiftyDay
from tradekit_zerodha.parsing import IST

SYMBOL = "NIFTY25O0725100CE"
IID = f"NFO:{SYMBOL}"
MARKET_TIME = datetime(2025, 10, 6, 10, 0, tzinfo=IST)  # the fake's market clock (its prices)


class Flip:
    """Every streamed tick is an order: buy when flat, sell when long."""

    name = "bench-flip"
    market = "NSE"

    def start(self, context: Any, state: Any) -> Decision:
        return Decision(state={})

    def subscription(self, context: Any, state: Any) -> Subscription:
        return Subscription(candle_seconds=3600, instruments=(), monitor_seconds=3600, monitor_instruments=(IID,))

    def on_candles(self, context: Any, candles: Any, state: Any) -> Decision:
        return Decision(state=state)

    def on_quotes(self, context: Any, quotes: Any, state: Any) -> Decision:
        quote = quotes.get(IID)
        if quote is None:
            return Decision(state=state)
        if IID in context.positions:
            return Decision(state=state, intents=(Exit(IID, "STOP", signal_price=quote.last),))
        return Decision(state=state, intents=(Enter(IID, Side.BUY, 75, "ENTRY", signal_price=quote.last),))

    def on_fill(self, context: Any, fill: Any, order: Any, state: Any) -> Decision:
        return Decision(state=state)


class Stamped:
    """The broker as the engine's execution venue, noting when submit_order is called and returns."""

    def __init__(self, inner: ZerodhaBroker) -> None:
        self.inner = inner
        self.called: list[float] = []
        self.returned: list[float] = []
        self.sent = threading.Semaphore(0)

    def submit_order(self, order: Order) -> str:
        self.called.append(time.perf_counter())
        result = self.inner.submit_order(order)
        self.returned.append(time.perf_counter())
        self.sent.release()
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class StampedFeed(BrokerFeed):
    """The broker feed, noting when each streamed quote reaches the engine's side."""

    def __init__(self, broker: Any) -> None:
        super().__init__(broker, "NSE", poll_seconds=3600)
        self.arrived: list[float] = []

    def stream(self, instrument_ids: Any, on_quote: Any) -> Any:
        def stamped(quote: Any) -> None:
            self.arrived.append(time.perf_counter())
            on_quote(quote)

        return super().stream(instrument_ids, stamped)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=300)
    args = parser.parse_args()
    market_clock = SimClock(MARKET_TIME)
    home = Path(tempfile.mkdtemp(prefix="tradekit-bench-latency-"))
    with FakeKite(SyntheticNiftyDay(MARKET_TIME.date()), clock=market_clock, hang_seconds=0.5) as fake:
        context = BrokerContext(name="zerodha", settings={"root": fake.root, "ticker_root": fake.ticker_root},
                                home=home, clock=market_clock, env={"KITE_API_KEY": fake.api_key, "KITE_ACCESS_TOKEN": fake.issue_access_token()}, log=note)
        broker = ZerodhaBroker(context)
        broker.connect()
        stamped = Stamped(broker)
        feed = StampedFeed(broker)
        store = DuckDBStore(home / "tradekit.duckdb", lazy_projections=True)
        wall = datetime.now(UTC)
        session = SessionInfo(market="NSE", day=wall.astimezone(IST).date(), timezone="Asia/Kolkata",
                              open=wall - timedelta(seconds=1), close=wall + timedelta(seconds=60 + args.ticks))
        engine = Engine(store=store, book=store.load_book(), broker=stamped, feed=feed, strategy=Flip(), clock=LiveClock(),
                        session=session, log=lambda line: note(line),
                        settings=EngineSettings(account=broker.account, store_id=store.store_id, live=True,
                                                opening_cash=Decimal(10_000_000), stream_quotes="on"))
        runner = threading.Thread(target=engine.run, name="engine", daemon=True)
        runner.start()
        if not fake.wait_for_subscribers(1, mode="full", timeout=30):
            raise SystemExit("the engine never subscribed the ticker")
        pushed: list[float] = []
        try:
            for _ in range(args.ticks + 10):
                pushed.append(time.perf_counter())
                sent = fake.push_ticks()
                if not stamped.sent.acquire(timeout=10):
                    raise SystemExit(f"no order after tick {len(pushed)} (quotes arrived: {len(feed.arrived)}, frames: {sent})")
                idle = threading.Event()  # the engine settles the fill and writes DuckDB behind the order; the next
                engine.control.call_soon(idle.set)  # tick is pushed when it is back in its waiting loop (idle)
                idle.wait(10)
        finally:
            engine.control.call_soon(lambda: None)
        count = len(pushed)
        t0, t1 = pushed[10:], feed.arrived[10:count]
        t2, t3 = stamped.called[10:count], stamped.returned[10:count]
        wire = [(b - a) * 1000 for a, b in zip(t0, t1)]
        decide = [(b - a) * 1000 for a, b in zip(t1, t2)]
        total = [(b - a) * 1000 for a, b in zip(t0, t2)]
        http = [(b - a) * 1000 for a, b in zip(t2, t3)]
        orders = len(stamped.called)
        broker_tags = [o.get("tag") for o in fake.book.orders.values()]
    summary = {name: {"p50_ms": round(percentile(v, 50), 3), "p99_ms": round(percentile(v, 99), 3), "max_ms": round(max(v), 3)}
               for name, v in (("tick_to_order", total), ("wire_and_decode", wire),
                               ("engine_wake_strategy_journal_to_submit", decide), ("submit_http_roundtrip", http))}
    summary["ticks"] = len(total)
    summary["orders_sent"] = orders
    summary["duplicate_tags_at_fake"] = len(broker_tags) - len(set(broker_tags))
    note(str(summary))
    emit("tick_to_order", summary)


if __name__ == "__main__":
    main()
