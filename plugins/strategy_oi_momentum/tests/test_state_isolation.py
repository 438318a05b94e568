"""The strategy never changes a state it was handed or returned: the journal holds each state as it was.

A backtest journals a whole day in one transaction at the day's end, so a
``StrategyCheckpoint`` recorded at 09:35 is encoded hours of market time
later, from the very dict the strategy returned. If the strategy edited the
dicts of a state it had already returned (instead of copying the parts a step
changes), that checkpoint would be written with later values. These tests
pass states on without the JSON round trip the driver in oi_momentum_helpers
does, as the engine does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from oi_momentum_helpers import Harness, at, oid
from test_engine_day import DAY, EXPECTED, SETTINGS, trades, write_market_day
from tradekit.calendars import session as nse_session
from tradekit.clock import SimClock
from tradekit.data import load_day
from tradekit.engine.loop import Engine, EngineSettings
from tradekit.model import Candle, Fill, Order, OrderStatus, Quote, Side
from tradekit.model.events import StrategyCheckpoint
from tradekit.plugins.paper.venue import PaperSettings, PaperVenue
from tradekit.plugins.replay import ReplayMarket
from tradekit.ports.strategy import Decision, StrategyContext, Subscription
from tradekit.store.duckdb_store import DuckDBStore
from tradekit_oi_momentum import factory

P25900 = oid(25900, "PUT")


def _text(state: Any) -> str:
    return json.dumps(state, sort_keys=True)


class Recording:
    """The real oi-momentum strategy behind the Strategy port, noting every state handed in and
    returned together with its JSON at that moment."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.market = inner.market
        self.seen: list[tuple[Any, str]] = []
        self.returned: list[tuple[Any, str]] = []

    def _call(self, method: Any, state: Any, *args: Any) -> Decision:
        if state is not None:
            self.seen.append((state, _text(state)))
        decision = method(*args, state)
        self.returned.append((decision.state, _text(decision.state)))
        return decision

    def start(self, context: StrategyContext, state: Any) -> Decision:
        return self._call(self.inner.start, state, context)

    def subscription(self, context: StrategyContext, state: Any) -> Subscription:
        return self.inner.subscription(context, state)

    def on_candles(self, context: StrategyContext, candles: Mapping[str, Candle], state: Any) -> Decision:
        return self._call(self.inner.on_candles, state, context, candles)

    def on_quotes(self, context: StrategyContext, quotes: Mapping[str, Quote], state: Any) -> Decision:
        return self._call(self.inner.on_quotes, state, context, quotes)

    def on_fill(self, context: StrategyContext, fill: Fill, order: Order, state: Any) -> Decision:
        return self._call(self.inner.on_fill, state, context, fill, order)


def test_journalled_checkpoints_hold_each_state_as_it_was_returned(tmp_path: Path):
    """A deferred-journal day (as backtests run): checkpoints are encoded at the day's end."""
    write_market_day(tmp_path)
    market = ReplayMarket(load_day(tmp_path / "NSE" / DAY.isoformat()))
    session = nse_session("NSE", DAY)
    assert session is not None
    clock = SimClock(session.open - timedelta(minutes=1))
    venue = PaperVenue(tmp_path / "paper.json", PaperSettings(account="test", capital=Decimal(100_000)), market, clock)
    venue.connect()
    strategy = Recording(factory(SETTINGS))
    store = DuckDBStore(tmp_path / "store.duckdb", batch_size=100_000)
    try:
        book = store.load_book()
        engine = Engine(store=store, book=book, broker=venue, feed=market, strategy=strategy, clock=clock, session=session,
                        settings=EngineSettings(account=venue.account, store_id=store.store_id, defer_durable=True))
        engine.run()
        store.flush(book)
        assert trades(store) == EXPECTED  # the day traded: entries, fills, exits all went through the state
        journalled = [_text(event.state) for _, event in store.events() if isinstance(event, StrategyCheckpoint)]
    finally:
        store.close()
    changed = [(state, text) for state, text in strategy.returned if _text(state) != text]
    assert changed == [], f"{len(changed)} returned state(s) were changed after being returned"
    handed = [(state, text) for state, text in strategy.seen if _text(state) != text]
    assert handed == [], f"{len(handed)} state(s) handed to the strategy were changed by it"
    # every checkpoint in the journal is a state exactly as the strategy returned it, in order
    returned = iter(text for _, text in strategy.returned)
    assert all(any(text == candidate for candidate in returned) for text in journalled)
    assert len(set(journalled)) > 20  # many distinct states: contracts, entries, fills and exits all journalled


def test_each_hook_leaves_the_state_it_was_handed_alone():
    """Candles (VWAP sums), quotes (peak) and fills (the position's fills) change copies, not the input."""
    h = Harness()
    h.start()
    h.set(26000, "CALL", oi=35_123_625)
    h.set(25900, "PUT", close=28.0, oi=2_000_000, volume=1000)
    h.candle("09:15", spot=25946.95)
    h.set(25900, "PUT", close=30.0, oi=1_980_000, volume=0)
    h.candle("09:30")
    assert len(h.entries()) == 1 and h.state is not None and h.state["position"]["buys"]
    strategy = h.strategy
    inputs: list[tuple[Any, str]] = []

    def handed(state: Any) -> Any:
        inputs.append((state, _text(state)))
        return state

    held = h.state
    moment = at("09:36")
    quotes = {P25900: Quote(P25900, moment, 40.0, oi=1_950_000)}
    after_quote = strategy.on_quotes(h.context(moment), quotes, handed(held)).state
    assert after_quote["position"]["peak"] != held["position"]["peak"]  # a new peak, in the copy

    start = at("09:35")
    candles = {P25900: Candle(P25900, start, 300, 40.0, 40.0, 40.0, 40.0, 500, 1_950_000)}
    after_candle = strategy.on_candles(h.context(at("09:40")), candles, handed(after_quote)).state
    assert after_candle["contracts"][P25900] != after_quote["contracts"][P25900]  # VWAP sums moved, in the copy

    now = at("09:41")
    fill = Fill("F-exit", "paper:test", P25900, Side.SELL, 75, Decimal("40"), now)
    order = Order("O-exit", "paper:test", P25900, Side.SELL, 75, reason="TRAILING_STOP", status=OrderStatus.FILLED,
                  filled_quantity=75, average_fill_price=Decimal("40"))
    flat = strategy.on_fill(h.context(now), fill, order, handed(after_candle)).state
    assert flat["position"] is None

    assert [_text(state) for state, _ in inputs] == [text for _, text in inputs]
