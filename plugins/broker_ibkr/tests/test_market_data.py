"""5-second real-time bars (ps60's input), historical bars, quotes and instruments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from tradekit.errors import BrokerError

from tradekit_ibkr.bars import BarQueue
from tradekit_ibkr.broker import IBKRBroker
from tradekit_ibkr.fake.gateway import FakeGateway

WAIT = 5.0  # seconds a queue may block for a bar the fake already sent; never reached when things work


def _subscribe(broker: IBKRBroker, gateway: FakeGateway, symbol: str = "TSLA") -> BarQueue:
    bars = BarQueue()
    broker.subscribe_bars(f"SMART:{symbol}", bars.put)
    assert gateway.wait_for(lambda: gateway.realtime_subscribers(symbol) == 1)
    return bars


def test_bars_realtime_5s_candles_match_the_market(broker: IBKRBroker, gateway: FakeGateway, market) -> None:
    bars = _subscribe(broker, gateway)
    start = gateway.now
    gateway.advance(15)
    got = [bars.get(timeout=WAIT) for _ in range(3)]
    expected = market.bars("TSLA", start, start + timedelta(seconds=15))
    assert [(c.ts, c.open, c.high, c.low, c.close, c.volume) for c in got] == [
        (b.ts, b.open, b.high, b.low, b.close, b.volume) for b in expected]
    assert {c.instrument_id for c in got} == {"SMART:TSLA"} and {c.interval_seconds for c in got} == {5}


def test_bars_resubscribed_after_a_gateway_restart(broker: IBKRBroker, gateway: FakeGateway, market) -> None:
    bars = _subscribe(broker, gateway)
    gateway.advance(10)
    before = [bars.get(timeout=WAIT) for _ in range(2)]
    gateway.restart()
    assert broker.session is not None and broker.session.lost.wait(WAIT)  # the client noticed the hang-up
    gateway.advance(10)  # these bars are lost to the world while nobody is connected
    broker.ensure_connected()
    assert broker.reconnects == 1
    assert gateway.wait_for(lambda: gateway.realtime_subscribers("TSLA") == 1)
    gateway.advance(10)
    after = [bars.get(timeout=WAIT) for _ in range(2)]
    assert [c.ts for c in before + after] == [b.ts for b in market.bars("TSLA", before[0].ts, after[-1].end)
                                              if b.ts not in (before[-1].ts + timedelta(seconds=5), before[-1].ts + timedelta(seconds=10))]
    assert bars.drain() == []


def test_bars_unsubscribe_stops_the_stream(broker: IBKRBroker, gateway: FakeGateway) -> None:
    _subscribe(broker, gateway)
    broker.unsubscribe_bars("SMART:TSLA")
    assert gateway.wait_for(lambda: gateway.realtime_subscribers("TSLA") == 0)


def test_historical_one_minute_bars_aggregate_the_day(broker: IBKRBroker, gateway: FakeGateway, market) -> None:
    open_ = gateway.now
    gateway.advance(600)
    candles = broker.historical("SMART:TSLA", open_, open_ + timedelta(minutes=5), 60)
    assert [c.ts for c in candles] == [open_ + timedelta(minutes=m) for m in range(5)]
    for candle in candles:
        five = market.bars("TSLA", candle.ts, candle.end)
        assert len(five) == 12
        assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == (
            five[0].open, max(b.high for b in five), min(b.low for b in five), five[-1].close, sum(b.volume for b in five))


def test_historical_never_returns_bars_from_the_future(broker: IBKRBroker, gateway: FakeGateway) -> None:
    open_ = gateway.now
    gateway.advance(30)
    candles = broker.historical("SMART:TSLA", open_, open_ + timedelta(minutes=5), 5)
    assert len(candles) == 6 and candles[-1].end == gateway.now


def test_historical_rejects_a_bar_length_ib_does_not_offer(broker: IBKRBroker, gateway: FakeGateway) -> None:
    with pytest.raises(BrokerError, match="bar length 7s"):
        broker.historical("SMART:TSLA", gateway.now - timedelta(minutes=5), gateway.now, 7)


def test_quotes_batch_skips_unknown_symbols(broker: IBKRBroker, gateway: FakeGateway) -> None:
    gateway.advance(60)
    quotes = broker.quotes(["SMART:TSLA", "SMART:NOPE", "SMART:AAPL"])
    assert set(quotes) == {"SMART:TSLA", "SMART:AAPL"}
    assert quotes["SMART:TSLA"].last == gateway.last_price("TSLA")
    assert quotes["SMART:TSLA"].bid < quotes["SMART:TSLA"].last < quotes["SMART:TSLA"].ask


def test_instruments_lists_configured_and_held_symbols(make_broker: Callable[..., IBKRBroker], gateway: FakeGateway) -> None:
    gateway.manual_trade("AAPL", 5, 228.0)
    broker = make_broker(symbols=["TSLA", "NOPE"])
    broker.connect()
    instruments = broker.instruments()
    assert [(i.id, i.currency, str(i.tick_size)) for i in instruments] == [("SMART:AAPL", "USD", "0.01"), ("SMART:TSLA", "USD", "0.01")]
