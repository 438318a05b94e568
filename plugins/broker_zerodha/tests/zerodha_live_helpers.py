"""Shared pieces of the live-session tests: the rehearsal day on a fake Kite, the home, what Kite and the store hold."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradekit.data.loader import load_day
from tradekit.store import DuckDBStore

from tradekit_zerodha.fake import FakeKite
from tradekit_zerodha.fake.marketday import market_day_source
from tradekit_zerodha.fake.scenario import REHEARSAL_DAY, rehearsal_symbols, write_rehearsal_day
from tradekit_zerodha.parsing import IST

DAY = REHEARSAL_DAY
SYMBOLS = rehearsal_symbols(DAY)
BEFORE_OPEN = datetime.combine(DAY, time(9, 0), tzinfo=IST)


def rehearsal_fake(data_root: Path, clock: Any, **options: Any) -> FakeKite:
    """A fake Kite (not started) serving the rehearsal day on ``clock`` (SimClock or FileClock)."""
    directory = write_rehearsal_day(data_root, DAY)
    return FakeKite(market_day_source(load_day(directory)), clock=clock, **options)


def write_home(home: Path, fake: FakeKite, *, strategy: str, timeout: float = 5.0, monitor_seconds: int = 300
               ) -> dict[str, str]:
    """A tradekit.toml pointing ``[brokers.zerodha]`` at the fake (documented keys only); returns the Kite env.

    Steps are kept sparse for speed: quotes polled every 5 minutes, oi-momentum's exit check every
    ``monitor_seconds`` (its default is 60: exits then come at the next check, not the minute).
    ``example`` trades the future on 10-minute candles (BrokerFeed opens a candle at its first sample
    inside it, so a candle needs two samples), 2 lots (150) with a protective stop 0.5% under the entry.
    """
    home.mkdir(parents=True, exist_ok=True)
    lines = [
        "[brokers.zerodha]", f'root = "{fake.root}"', f'ticker_root = "{fake.ticker_root}"',
        f"timeout_seconds = {timeout}", 'api_key_env = "REHEARSAL_KITE_KEY"', 'access_token_env = "REHEARSAL_KITE_TOKEN"',
        "[engine]", "live_poll_seconds = 300",
    ]
    if strategy == "example":
        lines += ["[strategies.example]", f'instrument = "NFO:{SYMBOLS["future"]}"', "stop_pct = 0.5", "quantity = 150",
                  "candle_seconds = 600", "hold_candles = 6", "max_entries = 1", "monitor_seconds = 300"]
    else:
        lines += ["[strategies.oi-momentum]", f"monitor_seconds = {monitor_seconds}"]
    (home / "tradekit.toml").write_text("\n".join(lines) + "\n")
    return {"REHEARSAL_KITE_KEY": fake.api_key, "REHEARSAL_KITE_TOKEN": fake.issue_access_token()}


def oi_momentum_trades(monitor_seconds: int = 300) -> list[tuple[str, str, Decimal, Decimal]]:
    """oi-momentum's trades on the rehearsal day: (reason, exit HH:MM, entry, exit); see fake.scenario.

    The trailing stop is seen at the first exit check at or after 09:46 (31.40 from 09:45 on).
    """
    first_check = datetime.combine(DAY, time(9, 15), tzinfo=IST)
    while first_check < datetime.combine(DAY, time(9, 46), tzinfo=IST):
        first_check += timedelta(seconds=monitor_seconds)
    return [("TRAILING_STOP", f"{first_check:%H:%M}", Decimal("30"), Decimal("31.4")),
            ("END_OF_DAY", "15:15", Decimal("32"), Decimal("33"))]


def tradekit_orders(fake: FakeKite) -> list[dict[str, Any]]:
    """Orders at the fake that carry a tag (tradekit's), in order of arrival."""
    with fake.book.lock:
        return [dict(order) for order in fake.book.orders.values() if order.get("tag")]


def assert_no_tag_twice(fake: FakeKite) -> list[str]:
    tags = [order["tag"] for order in tradekit_orders(fake)]
    assert tags, "tradekit sent no order to the fake"
    assert all(len(tag) <= 20 for tag in tags), tags
    twice = [tag for tag, count in Counter(tags).items() if count > 1]
    assert not twice, f"tags sent twice: {twice}"
    return tags


def store_trades(home: Path) -> list[tuple[str, str, Decimal, Decimal, int]]:
    with DuckDBStore(home / "tradekit.duckdb", readonly=True) as store:
        rows = store.query("SELECT exit_reason, exit_ts, entry_price, exit_price, quantity FROM trades ORDER BY entry_ts")
    return [(reason, f"{ts.astimezone(IST):%H:%M}", Decimal(str(entry)).normalize(), Decimal(str(exit_)).normalize(),
             int(quantity)) for reason, ts, entry, exit_, quantity in rows]


def store_fills(home: Path) -> list[tuple[str, str, int, Decimal]]:
    with DuckDBStore(home / "tradekit.duckdb", readonly=True) as store:
        rows = store.query("SELECT instrument_id, side, quantity, price FROM fills ORDER BY ts, instrument_id, side")
    return [(iid, side, int(quantity), Decimal(str(price)).normalize()) for iid, side, quantity, price in rows]


def fake_fills(fake: FakeKite) -> list[tuple[str, str, int, Decimal]]:
    """The fake's trades in the store's terms (NFO:symbol, BUY/SELL, quantity, price)."""
    with fake.book.lock:
        trades = list(fake.book.trades)
    return [(f"{t['exchange']}:{t['tradingsymbol']}", t["transaction_type"], int(t["quantity"]),
             Decimal(str(t["average_price"])).normalize()) for t in trades]


def closed_days(home: Path) -> list[tuple[str, Any, Any]]:
    with DuckDBStore(home / "tradekit.duckdb", readonly=True) as store:
        return store.query("SELECT account, day, close_cash FROM accounts_daily ORDER BY day")


def open_positions(home: Path) -> list[tuple[str, int]]:
    with DuckDBStore(home / "tradekit.duckdb", readonly=True) as store:
        return [(iid, int(q)) for iid, q in store.query("SELECT instrument_id, quantity FROM positions WHERE quantity <> 0")]


class Child:
    """``python -m tradekit`` in its own home, on the shared clock file, no terminal (a Popen: the fake kills it by pid).

    Like ``tradekit.testing.process.run_tradekit`` (which passes no TRADEKIT_SIM_CLOCK and gives no pid).
    """

    def __init__(self, home: Path, clock_file: Path, kite_env: dict[str, str]) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEKIT")}
        self.env.update(kite_env, TRADEKIT_HOME=str(home), TRADEKIT_SIM_CLOCK=str(clock_file))
        self.process: subprocess.Popen[str] | None = None

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)

    def run(self, *args: str) -> tuple[int, str, str]:
        self.process = subprocess.Popen([sys.executable, "-m", "tradekit", *args], env=self.env, text=True,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = self.process.communicate(timeout=240)
        return self.process.returncode, out, err
