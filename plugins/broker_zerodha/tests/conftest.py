"""Fixtures: a fake Kite on 127.0.0.1 sharing a simulated clock with the broker under test."""

from __future__ import annotations

import shutil
import sys
import tempfile

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tradekit.clock import SimClock
from tradekit.ports import BrokerContext

from tradekit_zerodha.broker import ZerodhaBroker
from tradekit_zerodha.fake import FakeKite, SyntheticNiftyDay
from tradekit_zerodha.parsing import IST

sys.path.insert(0, str(Path(__file__).parent))  # zerodha_live_helpers, under pytest's importlib mode

DAY = datetime(2025, 10, 6, 10, 0, tzinfo=IST)  # a Monday; the nearest NIFTY expiry is Tuesday 2025-10-07


@pytest.fixture
def clock() -> SimClock:
    return SimClock(DAY)


@pytest.fixture
def fake(clock: SimClock) -> Iterator[FakeKite]:
    with FakeKite(SyntheticNiftyDay(DAY.date()), clock=clock, hang_seconds=0.5) as server:
        yield server


@pytest.fixture
def logs() -> list[str]:
    return []


@pytest.fixture
def make_broker(fake: FakeKite, clock: SimClock, tmp_path: Path, logs: list[str]) -> Callable[..., ZerodhaBroker]:
    """A broker configured only through documented keys, pointed at the fake, with small timeouts."""

    def make(home: Path | None = None, env: dict[str, str] | None = None, **settings: Any) -> ZerodhaBroker:
        merged: dict[str, Any] = {
            "root": fake.root,
            "ticker_root": fake.ticker_root,
            "timeout_seconds": 0.2,
            "stream_reconnect_delay_seconds": 0.05,
        }
        merged.update(settings)
        if env is None:
            env = {"KITE_API_KEY": fake.api_key, "KITE_ACCESS_TOKEN": fake.issue_access_token()}
        context = BrokerContext(name="zerodha", settings=merged, home=home or tmp_path, clock=clock, env=env,
                                log=logs.append)
        return ZerodhaBroker(context)

    return make


@pytest.fixture
def broker(make_broker: Callable[..., ZerodhaBroker]) -> ZerodhaBroker:
    created = make_broker()
    created.connect()
    return created


def requests_to(fake: FakeKite, method: str, path: str) -> list[dict[str, list[str]]]:
    return [query for m, p, query in fake.requests if m == method and p == path]


@pytest.fixture
def clock_file(tmp_path: Path) -> Iterator[Path]:
    """The shared clock, in memory when the machine has /dev/shm (the child rewrites it at every step)."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        yield tmp_path / "clock"
        return
    directory = Path(tempfile.mkdtemp(prefix="tradekit-clock-", dir=shm))
    try:
        yield directory / "clock"
    finally:
        shutil.rmtree(directory, ignore_errors=True)
