"""The ibkr feed: ps60's candles assembled from real-time 5-second bars, gaps filled from history."""

from __future__ import annotations

import threading
from datetime import timedelta

from tradekit_ibkr.bars import BarQueue
from tradekit_ibkr.broker import IBKRBroker
from tradekit_ibkr.fake.gateway import FakeGateway
from tradekit_ibkr.feed import IBKRFeed


def _expected(market, symbol: str, start, seconds: int) -> tuple[float, float, float, float, int]:
    bars = market.bars(symbol, start, start + timedelta(seconds=seconds))
    return bars[0].open, max(b.high for b in bars), min(b.low for b in bars), bars[-1].close, sum(b.volume for b in bars)


def test_feed_builds_minute_candles_from_realtime_bars(broker: IBKRBroker, gateway: FakeGateway, market) -> None:
    arrived = BarQueue()
    feed = IBKRFeed(broker, on_bar=arrived.put)
    feed.watch(["SMART:TSLA"])
    assert gateway.wait_for(lambda: gateway.realtime_subscribers("TSLA") == 1)
    start = gateway.now
    gateway.advance(60)
    for _ in range(12):
        arrived.get(timeout=5)
    requests_before = gateway.requests_seen().count(20)
    candles = feed.candles(["SMART:TSLA"], start, 60)
    candle = candles["SMART:TSLA"]
    assert (candle.ts, candle.interval_seconds) == (start, 60)
    assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == _expected(market, "TSLA", start, 60)
    assert gateway.requests_seen().count(20) == requests_before  # built from the stream, no history request


def test_feed_fills_a_gap_from_history(broker: IBKRBroker, gateway: FakeGateway, market) -> None:
    feed = IBKRFeed(broker)
    start = gateway.now
    gateway.advance(60)  # nobody was subscribed during this minute
    candle = feed.candles(["SMART:AAPL", "SMART:NOPE"], start, 60)
    assert set(candle) == {"SMART:AAPL"}
    got = candle["SMART:AAPL"]
    assert (got.open, got.high, got.low, got.close, got.volume) == _expected(market, "AAPL", start, 60)


def test_feed_waits_for_the_bar_that_closed_as_the_candle_was_asked(broker: IBKRBroker, gateway: FakeGateway, market) -> None:
    """A gateway a moment behind (history lacks the newest bar): the real-time bar completes the candle."""
    arrived = BarQueue()
    feed = IBKRFeed(broker, on_bar=arrived.put, late_bar_seconds=30)
    feed.watch(["SMART:TSLA"])
    assert gateway.wait_for(lambda: gateway.realtime_subscribers("TSLA") == 1)
    start = gateway.now
    gateway.advance(55)
    for _ in range(11):
        arrived.get(timeout=5)
    histories = gateway.requests_seen().count(20)

    def gateway_catches_up() -> None:  # once the history request was answered, the last bar closes
        gateway.wait_for(lambda: gateway.requests_seen().count(20) > histories, timeout=30)
        gateway.advance(5)

    helper = threading.Thread(target=gateway_catches_up)
    helper.start()
    candle = feed.candles(["SMART:TSLA"], start, 60)["SMART:TSLA"]
    helper.join()
    assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == _expected(market, "TSLA", start, 60)


def test_feed_serves_the_paper_venue_quotes_and_stop_crossings(broker: IBKRBroker, gateway: FakeGateway, market) -> None:
    arrived = BarQueue()
    feed = IBKRFeed(broker, on_bar=arrived.put)
    feed.watch(["SMART:TSLA"])
    assert gateway.wait_for(lambda: gateway.realtime_subscribers("TSLA") == 1)
    start = gateway.now
    gateway.advance(300)
    for _ in range(60):
        arrived.get(timeout=5)
    bars = market.bars("TSLA", start, gateway.now)
    quote = feed.quote("SMART:TSLA", gateway.now)
    assert quote is not None and (quote.last, quote.ts) == (bars[-1].close, gateway.now)
    assert feed.quote("SMART:TSLA", start) is None  # nothing had closed yet
    level = min(b.low for b in bars[10:])  # a sell stop resting at the day's low so far (after bar 10)
    first = next(b for b in bars[10:] if b.low <= level)
    crossed = feed.first_cross("SMART:TSLA", bars[10].ts, gateway.now, level, -1)
    assert crossed == (first.end, first.open if first.open <= level else level)
    assert feed.first_cross("SMART:TSLA", start, gateway.now, level - 50, -1) is None
    assert feed.instrument("SMART:TSLA").currency == "USD"
