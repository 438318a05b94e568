"""Streamed quotes wake the exit monitor: a stop crossed by a tick is acted on before the next monitor poll."""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradekit.calendars import session as exchange_session
from tradekit.clock import SimClock
from tradekit.data import list_days, load_day
from tradekit.engine.loop import Engine, EngineSettings
from tradekit.errors import ConfigError
from tradekit.model import Quote
from tradekit.model.intents import Enter, Exit
from tradekit.model.orders import Side
from tradekit.plugins.paper import paper_settings, venue_path
from tradekit.plugins.paper.venue import PaperVenue
from tradekit.plugins.replay import ReplayMarket
from tradekit.ports.strategy import Decision, Subscription
from tradekit.services.setup import workspace
from tradekit.testing.market import example_config, session_bars, write_day

DAY = date(2025, 12, 8)
IID = "NSE:TESTCO"


class StopWatcher:
    """Buys on the first candle; exits when a quote is at or below 990. Its monitor polls only once an hour."""

    name = "stop-watcher"
    market = "NSE"

    def start(self, context: Any, state: Any) -> Decision:
        return Decision(state=dict(state or {}))

    def subscription(self, context: Any, state: Any) -> Subscription:
        return Subscription(candle_seconds=300, instruments=(IID,), monitor_seconds=3600)

    def on_candles(self, context: Any, candles: Any, state: Any) -> Decision:
        if state.get("entered") or IID not in candles:
            return Decision(state=state)
        return Decision(state={**state, "entered": True}, intents=(Enter(IID, Side.BUY, 10, "ENTRY", signal_price=candles[IID].close),))

    def on_quotes(self, context: Any, quotes: Any, state: Any) -> Decision:
        quote = quotes.get(IID)
        if quote is not None and IID in context.positions and quote.last <= 990:
            return Decision(state=state, intents=(Exit(IID, "STOP", signal_price=quote.last),), logs=(f"stop seen at {quote.last}",))
        return Decision(state=state)

    def on_fill(self, context: Any, fill: Any, order: Any, state: Any) -> Decision:
        return Decision(state=state)


class StreamingReplay(ReplayMarket):
    """The replay market with a quote stream the test's clock drives (a broker's ticker, in simulated time)."""

    can_stream = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subscriptions: list[list[str]] = []
        self.on_quote: Callable[[Quote], None] | None = None

    def stream(self, instrument_ids: list[str], on_quote: Callable[[Quote], None]) -> Any:
        self.subscriptions.append(list(instrument_ids))
        self.on_quote = on_quote
        market = self

        class Handle:
            def close(self) -> None:
                market.on_quote = None

        return Handle()


class TickAt(SimClock):
    """A simulated clock that delivers one streamed quote when it passes ``at`` (as the ticker thread would)."""

    def __init__(self, start: datetime, at: datetime, market: StreamingReplay, price: float) -> None:
        super().__init__(start)
        self.at, self.market, self.price, self.delivered = at, market, price, False

    def sleep_until(self, moment: datetime) -> None:
        if not self.delivered and self.now() < self.at <= moment and self.market.on_quote is not None:
            super().sleep_until(self.at)
            self.delivered = True
            self.market.on_quote(Quote(IID, self.at, self.price, self.price, self.price))
        super().sleep_until(moment)


def _day(tmp_path: Path, stream: str, tick_minute: int = 40, *, live: bool = False,
         strategy: Any = None, venue_type: type[PaperVenue] = PaperVenue) -> tuple[list[str], Engine, StreamingReplay]:
    root, home = tmp_path / "data", tmp_path / "home"
    write_day(root, "NSE", DAY, {IID.split(":")[1]: [1000.0] * session_bars("NSE", 60)})
    example_config(home, root)
    ws = workspace(home)
    session = exchange_session("NSE", DAY)
    assert session is not None
    market = StreamingReplay(load_day(list_days(root)[0].path))
    clock = TickAt(session.open, session.open + timedelta(minutes=tick_minute, seconds=20), market, 985.0)
    settings = paper_settings(ws.config.section("paper"), "NSE")
    venue = venue_type(venue_path(home, settings.account), settings, market, clock)
    venue.connect()
    store = ws.open_store(batch_size=50, lazy_projections=True)
    lines: list[str] = []
    engine = Engine(store=store, book=store.load_book(), broker=venue, feed=market, strategy=strategy or StopWatcher(),
                    clock=clock, session=session, log=lines.append,
                    settings=EngineSettings(account=venue.account, store_id=store.store_id, opening_cash=Decimal(100000),
                                            stream_quotes=stream, live=live))
    try:
        engine.run()
        store.flush(engine.book)
    finally:
        store.close()
    return lines, engine, market


def test_a_streamed_tick_through_the_stop_exits_at_once_not_at_the_next_monitor_poll(tmp_path: Path) -> None:
    lines, engine, market = _day(tmp_path, "on")
    assert market.subscriptions == [["NSE:TESTCO"]]  # subscribed when the position opened (the monitor list is empty)
    seen = next(line for line in lines if "stop seen at 985" in line)
    assert seen.startswith("2025-12-08 09:55:20")  # the tick's own moment, not the next timer or the 10:15 poll
    exit_order = next(line for line in lines if "sent: SELL 10" in line)
    assert exit_order.startswith("2025-12-08 09:55:20") and "(STOP)" in exit_order
    assert engine.result.trades_closed == 1
    assert market.on_quote is None  # flat again: the stream was closed


def test_without_streaming_the_same_stop_waits_for_the_monitor_poll(tmp_path: Path) -> None:
    lines, engine, market = _day(tmp_path, "off")
    assert market.subscriptions == [] and not any("stop seen" in line for line in lines)  # 1000 on every poll
    assert engine.result.trades_closed == 0


def test_auto_streams_only_on_the_wall_clock(tmp_path: Path) -> None:
    lines, _, market = _day(tmp_path, "auto")
    assert market.subscriptions == [] and not any("stop seen" in line for line in lines)


def test_an_unknown_stream_setting_is_one_line_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"engine.stream_quotes: 'sometimes' is not one of auto, on, off"):
        _day(tmp_path, "sometimes")


class FreezeWatcher(StopWatcher):
    """Notes, at every candle, how many objects the cyclic collector has been told to leave alone."""

    def __init__(self) -> None:
        self.frozen: list[int] = []

    def on_candles(self, context: Any, candles: Any, state: Any) -> Decision:
        self.frozen.append(gc.get_freeze_count())
        return super().on_candles(context, candles, state)


@pytest.mark.parametrize("live", [True, False])
def test_a_live_session_trades_with_what_it_loaded_out_of_the_collectors_full_passes(tmp_path: Path, live: bool) -> None:
    assert gc.get_freeze_count() == 0
    watcher = FreezeWatcher()
    _, engine, _ = _day(tmp_path, "on", live=live, strategy=watcher)
    assert engine.result.trades_closed == 1  # the same trading as without
    assert watcher.frozen and (min(watcher.frozen) > 0 if live else max(watcher.frozen) == 0)
    assert gc.get_freeze_count() == 0  # handed back when the session ends


class CountingVenue(PaperVenue):
    """The paper venue, counting how often the engine reads its fills at each moment."""

    reads: dict[datetime, int] = {}

    def fills_after(self, cursor: int | None) -> tuple[list[Any], int]:
        now = self._clock.now()
        CountingVenue.reads[now] = CountingVenue.reads.get(now, 0) + 1
        return super().fills_after(cursor)


class StopAsker(StopWatcher):
    """The same entry, asking for a protective stop at 950."""

    def on_candles(self, context: Any, candles: Any, state: Any) -> Decision:
        if state.get("entered") or IID not in candles:
            return Decision(state=state)
        return Decision(state={**state, "entered": True},
                        intents=(Enter(IID, Side.BUY, 10, "ENTRY", signal_price=candles[IID].close, stop_price=Decimal(950)),))


@pytest.mark.parametrize(("strategy", "reads_at_entry"), [(StopWatcher, 2), (StopAsker, 3)])
def test_after_a_fill_the_broker_is_read_again_only_when_tradekit_acted(tmp_path: Path, strategy: type, reads_at_entry: int) -> None:
    CountingVenue.reads = {}
    _, engine, _ = _day(tmp_path, "off", strategy=strategy(), venue_type=CountingVenue)
    entry = min(o.created_at for o in engine.book.orders.values() if o.reason == "ENTRY")
    # the step's own read, the read that finds the entry's fill, and (only when that fill made tradekit place
    # the protective stop) one more for what the stop may have filled
    assert CountingVenue.reads[entry] == reads_at_entry
    stops = [o for o in engine.book.orders.values() if o.reason == "STOP"]
    assert len(stops) == (1 if strategy is StopAsker else 0)
    assert all(o.stop_price == Decimal(950) and o.is_open for o in stops)
