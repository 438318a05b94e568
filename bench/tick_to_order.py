"""Workload (c): reaction latency, from a tick leaving the fake Kite ticker to the exit order's
submit call, in-process over loopback.

tradekit's `run` has no streaming path yet (live runs poll quotes at monitor ticks), so
the pieces a streaming exit monitor would chain are measured together, with real parts:

1. the fake Kite server writes a binary full-mode frame on its websocket (t0),
2. the unmodified KiteTicker client (Twisted) decodes it and tradekit's ZerodhaStream
   turns it into a Quote and hands it to a queue (t1, on the reactor thread),
3. the engine thread takes it, asks the strategy (`on_quotes`, a stop monitor) through the
   engine's own `_apply`, which journals the exit order durably in DuckDB and then calls
   the broker's `submit_order` (t2: the order leaves tradekit),
4. the real ZerodhaBroker places it over HTTP on the fake (t3, reported separately).

p50/p99 of t2 - t0 ("tick to order"), with the split.

    .venv/bin/python bench/tick_to_order.py --ticks 200
"""

from __future__ import annotations

import argparse
import queue
import sys
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, note, percentile  # noqa: E402

from tradekit.clock import SimClock
from tradekit.engine.loop import Engine, EngineSettings
from tradekit.engine.safe import call_strategy
from tradekit.model.book import Book
from tradekit.model.events import DayOpened, FillRecorded, OrderAccepted, OrderSubmitted
from tradekit.model.fills import Fill
from tradekit.model.intents import Exit
from tradekit.model.orders import Order, Side
from tradekit.ports import BrokerContext
from tradekit.ports.strategy import Decision, SessionInfo, Subscription
from tradekit.store import DuckDBStore
from tradekit_zerodha.broker import ZerodhaBroker
from tradekit_zerodha.fake import FakeKite, SyntheticNiftyDay
from tradekit_zerodha.parsing import IST

SYMBOL = "NIFTY25O0725100CE"
IID = f"NFO:{SYMBOL}"
NOW = datetime(2025, 10, 6, 10, 0, tzinfo=IST)


class StopMonitor:
    """Exit when the last price is at or below the stop (set above the market so every tick fires)."""

    name = "bench-stop"
    market = "NSE"

    def __init__(self, stop: float) -> None:
        self.stop = stop

    def start(self, context: Any, state: Any) -> Decision:
        return Decision(state={})

    def subscription(self, context: Any, state: Any) -> Subscription:
        return Subscription(candle_seconds=60, instruments=(), monitor_seconds=1, monitor_instruments=(IID,))

    def on_candles(self, context: Any, candles: Any, state: Any) -> Decision:
        return Decision(state=state)

    def on_quotes(self, context: Any, quotes: Any, state: Any) -> Decision:
        quote = quotes.get(IID)
        if quote is not None and IID in context.positions and quote.last <= self.stop:
            return Decision(state=state, intents=(Exit(IID, "STOP", signal_price=quote.last),))
        return Decision(state=state)

    def on_fill(self, context: Any, fill: Any, order: Any, state: Any) -> Decision:
        return Decision(state=state)


class Stamped:
    """The broker port as the engine sees it, noting the moment submit_order is called."""

    def __init__(self, inner: ZerodhaBroker) -> None:
        self.inner = inner
        self.called: list[float] = []
        self.returned: list[float] = []

    def submit_order(self, order: Order) -> str:
        self.called.append(time.perf_counter())
        result = self.inner.submit_order(order)
        self.returned.append(time.perf_counter())
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class NoFeed:
    def __init__(self, instruments: dict) -> None:
        self._instruments = instruments

    def instruments(self) -> dict:
        return self._instruments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=200)
    args = parser.parse_args()
    clock = SimClock(NOW)
    home = Path(tempfile.mkdtemp(prefix="tradekit-bench-latency-"))
    with FakeKite(SyntheticNiftyDay(NOW.date()), clock=clock, hang_seconds=0.5) as fake:
        context = BrokerContext(name="zerodha", settings={"root": fake.root, "ticker_root": fake.ticker_root},
                                home=home, clock=clock, env={"KITE_API_KEY": fake.api_key, "KITE_ACCESS_TOKEN": fake.issue_access_token()})
        broker = ZerodhaBroker(context)
        broker.connect()
        stamped = Stamped(broker)
        store = DuckDBStore(home / "tradekit.duckdb")
        book = store.load_book()
        account = broker.account
        instruments = {i.id: i for i in broker.instruments() if i.id == IID}
        snap = fake.market.snapshot(SYMBOL, fake.now())
        assert snap is not None
        # the position to protect: bought earlier (journalled as the engine would have)
        buy = Order(client_order_id="BENCHBUY1", account=account, instrument_id=IID, side=Side.BUY, quantity=75,
                    strategy=StopMonitor.name, reason="ENTRY", created_at=NOW - timedelta(minutes=5))
        fill = Fill(fill_id="F1", account=account, instrument_id=IID, side=Side.BUY, quantity=75, price=Decimal(str(snap.last)),
                    ts=NOW - timedelta(minutes=5), client_order_id="BENCHBUY1", broker_order_id="1", costs=Decimal(0))
        setup = [DayOpened(ts=NOW - timedelta(hours=1), account=account, day=NOW.date(), cash=Decimal(10_000_000), source="capital"),
                 OrderSubmitted(ts=buy.created_at, account=account, order=buy),
                 OrderAccepted(ts=buy.created_at, account=account, client_order_id="BENCHBUY1", broker_order_id="1"),
                 FillRecorded(ts=fill.ts, account=account, fill=fill, strategy=StopMonitor.name)]
        for event in setup:
            book.apply(event)
        store.commit(setup, book, durable=True)
        strategy = StopMonitor(stop=snap.last * 2)
        session = SessionInfo(market="NSE", day=NOW.date(), timezone="Asia/Kolkata",
                              open=NOW.replace(hour=9, minute=15), close=NOW.replace(hour=15, minute=30))
        engine = Engine(store=store, book=book, broker=stamped, feed=NoFeed(instruments), strategy=strategy, clock=clock,
                        session=session, settings=EngineSettings(account=account, store_id=store.store_id, live=True))
        arrived: queue.Queue = queue.Queue()
        stream = broker.stream([IID], lambda quote: arrived.put((time.perf_counter(), quote)))
        if not fake.wait_for_subscribers(1, mode="full"):
            raise SystemExit("the ticker never subscribed")
        wire, decide, total, http = [], [], [], []
        try:
            for number in range(args.ticks + 10):
                clock.advance(1)
                sent = time.perf_counter()
                fake.push_ticks()
                got, quote = arrived.get(timeout=10)
                now = clock.now()
                decision = call_strategy(strategy.name, "on_quotes", strategy.on_quotes, engine._context(now), {IID: quote}, {})
                engine._apply(decision, now)
                if number < 10:
                    continue  # warm-up
                called = stamped.called[-1]
                wire.append((got - sent) * 1000)
                decide.append((called - got) * 1000)
                total.append((called - sent) * 1000)
                http.append((stamped.returned[-1] - called) * 1000)
        finally:
            stream.close()
            broker.close()
            store.close()
    summary = {name: {"p50_ms": round(percentile(v, 50), 3), "p99_ms": round(percentile(v, 99), 3)}
               for name, v in (("tick_to_order", total), ("wire_and_decode", wire), ("strategy_journal_to_submit", decide),
                               ("submit_http_roundtrip", http))}
    summary["ticks"] = len(total)
    summary["orders_sent"] = len(stamped.called)
    note(str(summary))
    emit("tick_to_order", summary)


if __name__ == "__main__":
    main()
