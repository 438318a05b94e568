"""The fake gateway on its own: market sources, time, the TWS app and its guard rails."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from tradekit.data import MarketDay, Series
from tradekit.model import Instrument, InstrumentKind

from tradekit_ibkr.fake.gateway import FakeGateway
from tradekit_ibkr.fake.history import parse_end
from tradekit_ibkr.fake.market import GeneratedUSDay, MarketDaySource, regular_session


def test_generated_day_is_deterministic_and_covers_the_session() -> None:
    first = GeneratedUSDay(date(2025, 1, 2), {"TSLA": 445.25}, seed=3)
    again = GeneratedUSDay(date(2025, 1, 2), {"TSLA": 445.25}, seed=3)
    other = GeneratedUSDay(date(2025, 1, 2), {"TSLA": 445.25}, seed=4)
    open_, close = regular_session(date(2025, 1, 2))
    bars = first.bars("TSLA", open_, close)
    assert len(bars) == 6.5 * 720 and bars[0].ts == open_ and bars[-1].end == close
    assert bars == again.bars("TSLA", open_, close) and bars != other.bars("TSLA", open_, close)
    assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in bars)


def _market_day(bar_seconds: int) -> MarketDay:
    open_, _ = regular_session(date(2025, 1, 3))
    start_ns = int(open_.timestamp() * 1e9)
    ts = np.array([start_ns + i * bar_seconds * 1_000_000_000 for i in range(3)], dtype=np.int64)
    stock = Instrument("TSLA", "SMART", InstrumentKind.EQUITY, currency="USD", tick_size=Decimal("0.01"))
    index = Instrument("SPX", "CBOE", InstrumentKind.INDEX, currency="USD")
    series = Series(stock, ts, np.array([100.0, 101.0, 102.0]), np.array([101.5, 102.5, 103.5]),
                    np.array([99.5, 100.5, 101.5]), np.array([101.0, 102.0, 103.0]),
                    np.array([120, 240, 360], dtype=np.int64), np.zeros(3, dtype=np.int64))
    spx = Series(index, ts, *(np.array([5000.0] * 3) for _ in range(4)), np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64))
    return MarketDay("NYSE", date(2025, 1, 3), "America/New_York", bar_seconds, None, {}, {"SMART:TSLA": series, "CBOE:SPX": spx}, (), None)


def test_market_day_source_serves_a_loaded_day_in_5s_pieces() -> None:
    source = MarketDaySource(_market_day(60))
    open_, close = source.session()
    assert source.symbols() == ("TSLA",)  # the index is not tradable
    bars = source.bars("TSLA", open_, open_ + timedelta(minutes=1))
    assert len(bars) == 12 and bars[0].open == 100.0 and bars[-1].close == 101.0
    assert max(b.high for b in bars) == 101.5 and min(b.low for b in bars) == 99.5
    assert sum(b.volume for b in bars) == 120


def test_fake_gateway_on_a_market_day_fills_at_its_prices() -> None:
    with FakeGateway(MarketDaySource(_market_day(5))) as gateway:
        gateway.advance(10)
        assert gateway.last_price("TSLA") == 102.0
        execution = gateway.manual_trade("TSLA", 10)
        assert (execution.price, execution.time) == (102.0, gateway.now)
        assert gateway.positions() == {"TSLA": (10.0, 102.0)}


def test_fake_gateway_time_only_moves_forward() -> None:
    with FakeGateway(GeneratedUSDay(date(2025, 1, 2), {"TSLA": 10.0})) as gateway:
        with pytest.raises(ValueError, match="cannot go back"):
            gateway.set_time(gateway.now - timedelta(seconds=1))


def test_fake_gateway_tws_app_refuses_unknown_things() -> None:
    with FakeGateway(GeneratedUSDay(date(2025, 1, 2), {"TSLA": 10.0})) as gateway:
        with pytest.raises(KeyError, match="no symbol 'ZZZ'"):
            gateway.manual_trade("ZZZ", 1)
        with pytest.raises(KeyError, match="no working order"):
            gateway.fill_order(order_ref="nope")


def test_fake_gateway_position_round_trip_realises_pnl_and_costs() -> None:
    with FakeGateway(GeneratedUSDay(date(2025, 1, 2), {"TSLA": 10.0}), cash=1000.0) as gateway:
        gateway.manual_trade("TSLA", 100, 10.0)
        gateway.manual_trade("TSLA", -100, 10.5)
        assert gateway.positions() == {}
        assert gateway.book.realized == pytest.approx(50.0)
        assert gateway.book.cash == pytest.approx(1000.0 + 50.0 - 2.0)  # two $1 minimum commissions


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", datetime(2025, 1, 2, 15, 0, tzinfo=UTC)), ("20250102 14:31:00 UTC", datetime(2025, 1, 2, 14, 31, tzinfo=UTC)),
     ("20250102-14:32:00", datetime(2025, 1, 2, 14, 32, tzinfo=UTC)),
     ("20250102 09:33:00 America/New_York", datetime(2025, 1, 2, 14, 33, tzinfo=UTC))],
)
def test_fake_history_parses_ib_times(text: str, expected: datetime) -> None:
    assert parse_end(text, datetime(2025, 1, 2, 15, 0, tzinfo=UTC)) == expected
