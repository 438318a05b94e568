"""Fixtures: a fake TWS on 127.0.0.1 port 0 and brokers built on the unmodified client libraries."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from tradekit.clock import SimClock
from tradekit.ports import BrokerContext

from tradekit_ibkr.broker import IBKRBroker
from tradekit_ibkr.config import IBKRConfig
from tradekit_ibkr.fake.gateway import FakeGateway
from tradekit_ibkr.fake.market import GeneratedUSDay

DAY = date(2025, 1, 2)
LIBRARIES = ("ib_async", "ib_insync")


@pytest.fixture(params=LIBRARIES)
def library(request: pytest.FixtureRequest) -> Any:
    """Each test runs once per installed client library."""
    name = request.param
    try:
        return importlib.import_module(name)
    except ImportError:
        pytest.skip(f"{name} is not installed (pip install 'tradekit-ibkr[test]' brings ib_insync)")


@pytest.fixture(scope="session")
def market() -> GeneratedUSDay:
    """Immutable, so one per run."""
    return GeneratedUSDay(DAY, {"TSLA": 445.25, "AAPL": 228.50}, seed=11)


@pytest.fixture
def gateway(market: GeneratedUSDay) -> Iterator[FakeGateway]:
    fake = FakeGateway(market, account="DU7654321").start()
    yield fake
    fake.stop()


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime(2025, 1, 2, 14, 30, tzinfo=UTC))


@pytest.fixture
def make_broker(gateway: FakeGateway, library: Any, clock: SimClock, tmp_path: Path) -> Iterator[Callable[..., IBKRBroker]]:
    """Build (not connect) brokers against the fake; all are closed after the test."""
    made: list[IBKRBroker] = []

    def make(*, live: bool = True, messages: list[str] | None = None, **settings: Any) -> IBKRBroker:
        merged = {"port": gateway.port, "client_id": 17, "connect_timeout": 5, "request_timeout": 5,
                  "client_library": library.__name__, **settings}
        log = messages.append if messages is not None else (lambda line: None)
        context = BrokerContext(name="ibkr", settings=merged, home=tmp_path, clock=clock, live=live, log=log)
        broker = IBKRBroker(IBKRConfig.from_settings(merged), context)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        broker.close()


@pytest.fixture
def broker(make_broker: Callable[..., IBKRBroker]) -> IBKRBroker:
    connected = make_broker()
    connected.connect()
    return connected
