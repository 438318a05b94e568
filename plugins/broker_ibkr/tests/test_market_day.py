"""The fake gateway serving a day from tradekit's data generator, through the unmodified client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tradekit.clock import SimClock
from tradekit.data import generate_us_day, load_day
from tradekit.ports import BrokerContext

from tradekit_ibkr.broker import IBKRBroker
from tradekit_ibkr.config import IBKRConfig
from tradekit_ibkr.fake.gateway import FakeGateway
from tradekit_ibkr.fake.market import MarketDaySource

DAY = date(2025, 1, 3)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = generate_us_day(DAY, 5, "breakouts", tmp_path_factory.mktemp("data"), symbols=("TSLA", "NVDA"))
    return load_day(path)


@pytest.fixture
def day_gateway(loaded: Any) -> Iterator[FakeGateway]:
    with FakeGateway(MarketDaySource(loaded)) as gateway:
        yield gateway


def test_market_day_bars_reach_the_client_unchanged(day_gateway: FakeGateway, loaded: Any, library: Any, tmp_path: Path) -> None:
    settings = {"port": day_gateway.port, "client_library": library.__name__, "connect_timeout": 5, "request_timeout": 5}
    context = BrokerContext("ibkr", settings, tmp_path, SimClock(datetime(2025, 1, 3, 14, 30, tzinfo=UTC)), live=True)
    broker = IBKRBroker(IBKRConfig.from_settings(settings), context)
    broker.connect()
    try:
        open_ = day_gateway.now
        day_gateway.advance(120)
        candles = broker.historical("SMART:TSLA", open_, open_ + timedelta(minutes=2), 5)
        series = loaded.series["SMART:TSLA"]
        assert len(candles) == 24
        assert [c.close for c in candles] == [float(x) for x in series.close[:24]]
        assert [int(c.ts.timestamp() * 1e9) for c in candles] == [int(x) for x in series.ts[:24]]
        price = day_gateway.last_price("TSLA")
        assert price == float(series.close[23])
    finally:
        broker.close()
