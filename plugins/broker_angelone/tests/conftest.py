"""Fixtures: a fake SmartAPI on 127.0.0.1 (ephemeral port) and brokers on a SimClock in a temp home."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pyotp
import pytest
from tradekit.clock import SimClock
from tradekit.ports import BrokerContext

from tradekit_angelone.broker import AngelOneBroker
from tradekit_angelone.fake import FakeSmartAPI, SyntheticNiftyDay
from tradekit_angelone.fake.market import IST

DAY = date(2026, 11, 23)  # a Monday; weekly expiries 2026-11-24 and 2026-12-01
START = datetime.combine(DAY, time(9, 20), tzinfo=IST)


@pytest.fixture(scope="session")
def source() -> SyntheticNiftyDay:
    return SyntheticNiftyDay(DAY, seed=11)


@pytest.fixture
def fake(source: SyntheticNiftyDay) -> Iterator[FakeSmartAPI]:
    server = FakeSmartAPI(source, totp_secret=pyotp.random_base32(), start=START)
    with server:
        yield server


@pytest.fixture
def clock() -> SimClock:
    return SimClock(START)


@pytest.fixture
def make_broker(fake: FakeSmartAPI, clock: SimClock, tmp_path: Path) -> Callable[..., AngelOneBroker]:
    """Build a broker pointed at the fake (a --live run unless live=False); ``env`` overrides env vars, keywords settings."""

    def make(log: list[str] | None = None, env: dict[str, str] | None = None, **overrides: Any) -> AngelOneBroker:
        settings: dict[str, Any] = {
            "root": fake.root,
            "scrip_master_url": fake.scrip_master_url,
            "timeout_seconds": 5,
        }
        environment = {
            "ANGELONE_API_KEY": fake.api_key,
            "ANGELONE_CLIENT_CODE": fake.client_code,
            "ANGELONE_PIN": fake.pin,
            "ANGELONE_TOTP_SECRET": fake.totp_secret,
            **(env or {}),
        }
        live = bool(overrides.pop("live", True))
        settings.update(overrides)
        context = BrokerContext(
            name="angelone", settings=settings, home=tmp_path / "home", clock=clock, env=environment, live=live,
            log=(log.append if log is not None else (lambda message: None)),
        )
        return AngelOneBroker(context)

    return make


@pytest.fixture
def broker(make_broker: Callable[..., AngelOneBroker]) -> AngelOneBroker:
    """Logged in and connected."""
    created = make_broker()
    created.login()
    created.connect()
    return created


sys.path.insert(0, str(Path(__file__).parent))  # angelone_sessions.py: importable under --import-mode=importlib


@pytest.fixture(scope="session")
def nifty_day(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A generated NIFTY day with a small chain (6 strikes each side, one-minute bars) for whole-session runs."""
    from tradekit.data import generate_nifty_day, load_day

    from tradekit_angelone.fake import MarketDaySource

    root = tmp_path_factory.mktemp("nifty-day")
    directory = generate_nifty_day(date(2025, 12, 1), 1, "trend_up", root, strikes_each_side=6, bar_seconds=60, file_format="parquet")
    return MarketDaySource(load_day(directory))
