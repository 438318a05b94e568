"""The fast paths added for speed (issue 12) give exactly what the plain computation gives."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from tradekit.clock import SimClock
from tradekit.data.loader import MarketDay, Series
from tradekit.model import Instrument, InstrumentKind, Order, OrderType, Side
from tradekit.plugins.paper.costs import CostModel
from tradekit.plugins.paper.venue import PaperSettings, PaperVenue
from tradekit.plugins.replay import ReplayMarket, to_ns

OPEN = datetime(2024, 3, 4, 14, 30, tzinfo=UTC)


def _day(gaps: bool) -> MarketDay:
    """Two instruments at 1-second bars; with ``gaps`` some seconds have no bar (a thin contract)."""
    generator = np.random.default_rng(5)
    series = {}
    for number, symbol in enumerate(("AAA", "BBB")):
        offsets = np.arange(3600)
        if gaps and number == 1:
            offsets = np.sort(generator.choice(3600, 900, replace=False))
        ts = to_ns(OPEN) + offsets.astype(np.int64) * 1_000_000_000
        close = 100 + np.cumsum(generator.normal(0, 0.1, len(ts)))
        opens = np.concatenate([[100.0], close[:-1]])
        instrument = Instrument(symbol=symbol, exchange="NYSE", kind=InstrumentKind.EQUITY, currency="USD",
                                tick_size=Decimal("0.01"))
        series[instrument.id] = Series(instrument=instrument, ts=ts, open=opens, high=np.maximum(opens, close) + 0.05,
                                       low=np.minimum(opens, close) - 0.05, close=close,
                                       volume=generator.integers(0, 500, len(ts)), oi=generator.integers(0, 9000, len(ts)))
    return MarketDay(market="NYSE", day=OPEN.date(), timezone="America/New_York", bar_seconds=1, path=None,
                     manifest={}, series=series, issues=(), scanner=None)


def _direct(series: Series, start: datetime, seconds: int) -> tuple | None:
    low = to_ns(start)
    first = int(np.searchsorted(series.ts, low))
    last = int(np.searchsorted(series.ts, low + seconds * 1_000_000_000))
    if last <= first:
        return None
    return (float(series.open[first]), float(series.high[first:last].max()), float(series.low[first:last].min()),
            float(series.close[last - 1]), int(series.volume[first:last].sum()), int(series.oi[last - 1]))


def test_candles_from_the_grid_equal_the_bars_they_cover() -> None:
    day = _day(gaps=True)
    market = ReplayMarket(day)
    picker = random.Random(3)
    checked = 0
    for seconds, phases in ((60, [0]), (300, [0, 7]), (7, [0, 1, 2, 3, 4, 5])):  # six phases: the search fallback too
        for _ in range(200):
            iid = picker.choice(sorted(day.series))
            phase = picker.choice(phases)
            start = OPEN + timedelta(seconds=picker.randrange(-2, 3700 // seconds) * seconds + phase)
            candle = market.candles([iid], start, seconds).get(iid)
            expected = _direct(day.series[iid], start, seconds)
            if expected is None:
                assert candle is None
                continue
            assert candle is not None and candle.ts == start and candle.interval_seconds == seconds
            assert (candle.open, candle.high, candle.low, candle.close, candle.volume, candle.oi) == expected
            assert type(candle.volume) is int and type(candle.close) is float
            checked += 1
    assert checked > 300


def test_paper_fills_written_by_another_venue_object_are_reported(tmp_path: Path) -> None:
    """Fills are parsed once and cached; an order placed through a second handle on the same
    account file (``tradekit paper order`` in another process) must still show up."""
    market = ReplayMarket(_day(gaps=False))
    clock = SimClock(OPEN + timedelta(minutes=10))
    settings = PaperSettings(account="t", capital=Decimal(1_000_000), currency="USD", costs=CostModel())
    engine_side = PaperVenue(tmp_path / "t.json", settings, market, clock)
    manual_side = PaperVenue(tmp_path / "t.json", settings, market, clock)
    engine_side.connect()
    order = Order(client_order_id="A1", account="paper:t", instrument_id="NYSE:AAA", side=Side.BUY, quantity=3,
                  order_type=OrderType.MARKET)
    engine_side.submit_order(order)
    first = engine_side.fill_reports()
    assert [f.client_order_id for f in first] == ["A1"]
    clock.advance(5)
    manual_side.place_manual("NYSE:BBB", Side.BUY, 2)
    second = engine_side.fill_reports()
    assert [(f.instrument_id, f.quantity) for f in second] == [("NYSE:AAA", 3), ("NYSE:BBB", 2)]
    assert second[0] == first[0]
    expected_price = Decimal(repr(market.quote("NYSE:BBB", clock.now()).last)).quantize(Decimal("0.01"))
    assert second[1].price == expected_price
    engine_side.close()
    manual_side.close()
