"""A daily loss limit hit, then kill -9 and a restart: still no new entries for the rest of the day."""

from __future__ import annotations

import signal
from datetime import date
from pathlib import Path

from tests.control.engine_process import EngineProcess, tradekit

from tradekit.services.doctor import check
from tradekit.store import DuckDBStore
from tradekit.testing.market import example_config, session_bars, write_day

DAY = date(2025, 12, 8)


def test_daily_loss_latch_survives_kill_9(isolated_home: Path, tmp_path: Path) -> None:
    home = isolated_home
    bars = session_bars("NSE")
    rising = [1000 * 1.001 ** i for i in range(12)]
    crashed = [rising[-1] * 0.95 * 1.001 ** i for i in range(bars - 12)]  # a 5% gap through the stop, then up all day
    write_day(tmp_path / "data", "NSE", DAY, {"TESTCO": [round(p, 2) for p in rising + crashed]})
    example_config(home, tmp_path / "data", max_entries="100", monitor_seconds="300")
    with (home / "tradekit.toml").open("a") as handle:
        handle.write("[risk]\ndaily_loss_pct = 0.3\n")  # 300 on 100000 capital; the stop loses 440

    first = EngineProcess(home, "--strategy", "example", "--pace", "0.02")
    try:
        first.wait_for("fill BUY 50 TESTCO")
        first.wait_for("RISK daily loss limit hit")
    finally:
        first.stop()  # SIGKILL: no clean shutdown, no flush beyond what was committed
    assert first.process.returncode == -signal.SIGKILL

    second = tradekit(home, "run", "--strategy", "example")
    assert second.returncode == 0, second.stderr
    assert "resumed from checkpoint" in second.stdout
    assert "risk latches in force: daily-loss" in second.stdout
    assert "blocked by DAILY_LOSS_LIMIT" in second.stdout
    assert "fill BUY" not in second.stdout

    store = DuckDBStore(home / "tradekit.duckdb", readonly=True)
    try:
        assert store.query("SELECT count(*) FROM fills WHERE side = 'BUY'")[0][0] == 1
        assert store.query("SELECT count(*) FROM positions WHERE quantity <> 0")[0][0] == 0
        blocked = store.query("SELECT sum(count) FROM blocks WHERE rule = 'DAILY_LOSS_LIMIT'")[0][0]
        assert blocked >= 10  # a signal every five minutes for the rest of the day, each refused
        latch = store.query("SELECT day, value FROM risk_state WHERE key = 'latch:DAILY_LOSS'")
        assert latch[0][0] == DAY and "daily loss limit" in latch[0][1]
        assert check(store).clean
    finally:
        store.close()
