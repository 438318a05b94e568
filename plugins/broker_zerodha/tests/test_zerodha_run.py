"""`tradekit run --broker zerodha`: a session on the fake Kite's market data, paper by default, real orders with --live."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from tradekit.clock import SimClock
from tradekit.plugins.manager import reset_plugin_manager
from tradekit.services.run import RunOptions, run
from tradekit.services.setup import workspace
from tradekit.store import DuckDBStore

from tradekit_zerodha.parsing import IST
from zerodha_live_helpers import oi_momentum_trades, rehearsal_fake, store_trades

BEFORE_OPEN = datetime(2025, 10, 6, 9, 0, tzinfo=IST)  # Monday; weekly expiry Tuesday 2025-10-07


@pytest.fixture
def session_fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    clock = SimClock(BEFORE_OPEN)
    # the rehearsal day: a small chain with known oi-momentum trades (tradekit_zerodha.fake.scenario)
    with rehearsal_fake(tmp_path / "data", clock, hang_seconds=0.5) as fake:
        home = tmp_path / "home"
        home.mkdir()
        # the broker through TRADEKIT__* variables, the strategy through tradekit.toml; exit checks every
        # 5 minutes keep the day short (the trailing stop is then seen at 09:50)
        (home / "tradekit.toml").write_text('[strategies.oi-momentum]\nmonitor_seconds = 300\n')
        monkeypatch.setenv("TRADEKIT_HOME", str(home))
        monkeypatch.setenv("TRADEKIT__BROKERS__ZERODHA__ROOT", fake.root)
        monkeypatch.setenv("TRADEKIT__BROKERS__ZERODHA__TICKER_ROOT", fake.ticker_root)
        monkeypatch.setenv("TRADEKIT__ENGINE__LIVE_POLL_SECONDS", "300")
        monkeypatch.setenv("KITE_API_KEY", fake.api_key)
        monkeypatch.setenv("KITE_ACCESS_TOKEN", fake.issue_access_token())
        reset_plugin_manager()
        yield fake, clock, home
        reset_plugin_manager()


def test_run_on_zerodha_waits_for_open_and_paper_trades_the_session(session_fake) -> None:
    fake, clock, home = session_fake
    lines: list[str] = []
    outcome = run(workspace(), RunOptions(broker="zerodha", strategy="oi-momentum"), lines.append, clock=clock)
    assert outcome.result is not None and outcome.day == BEFORE_OPEN.date()
    assert any(line.startswith("waiting for the NSE session") for line in lines)
    assert any("max call OI" in line for line in lines)  # direction fixed on the first candle from Kite candles
    assert clock.now() >= datetime(2025, 10, 6, 15, 30, tzinfo=IST)
    with DuckDBStore(home / "tradekit.duckdb", readonly=True) as store:
        days = store.query("SELECT account, close_cash FROM accounts_daily")
    assert days and days[0][0] == "paper:zerodha-default" and days[0][1] is not None
    assert fake.book.orders == {}  # paper: nothing sent to Kite
    trades = store_trades(home)
    assert [(reason, hhmm) for reason, hhmm, *_ in trades] == [(r, t) for r, t, _, _ in oi_momentum_trades(300)]
    assert all(quantity == 75 for *_, quantity in trades)


def test_run_on_zerodha_on_a_holiday_says_so_and_trades_nothing(session_fake) -> None:
    fake, _, home = session_fake
    holiday = SimClock(datetime(2025, 10, 2, 9, 0, tzinfo=IST))  # Gandhi Jayanti / Dussehra, NSE closed
    outcome = run(workspace(), RunOptions(broker="zerodha", strategy="oi-momentum"), lambda line: None, clock=holiday)
    assert outcome.result is None and "holiday" in outcome.message
    assert not (home / "tradekit.duckdb").exists()
