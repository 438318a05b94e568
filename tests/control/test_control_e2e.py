"""Control of a running ``tradekit run`` subprocess through the CLI: close, pause/resume, flatten, a refused second run."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.control.engine_process import EngineProcess, tradekit

from tradekit.cli.main import _register, app
from tradekit.control.client import EngineClient
from tradekit.services.doctor import check
from tradekit.store import DuckDBStore
from tradekit.testing.market import example_config, session_bars, write_day
from tradekit.testing.outcome import venue_outcome

DAY = date(2025, 12, 8)
_register()


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def rising_market(tmp_path: Path) -> Path:
    """TESTCO rises 0.1% a minute all day: every five-minute candle is an entry signal for the example strategy."""
    root = tmp_path / "data"
    write_day(root, "NSE", DAY, {"TESTCO": [round(1000 * 1.001 ** i, 2) for i in range(session_bars("NSE"))]})
    return root


def test_close_pause_resume_flatten_on_a_running_engine(isolated_home: Path, rising_market: Path) -> None:
    home = isolated_home
    example_config(home, rising_market, max_entries="100", hold_candles="500", monitor_seconds="300")
    engine = EngineProcess(home, "--strategy", "example", "--pace", "0.2")
    try:
        engine.wait_for("control: listening")
        client = EngineClient.find(home)
        assert client is not None and client.pid == engine.pid
        assert (home / "control.json").stat().st_mode & 0o077 == 0
        engine.wait_for("fill BUY 50 TESTCO")

        assert "paused through the running engine" in cli("pause", "example")
        assert "closed 50 NSE:TESTCO through the running engine; remaining 0" in cli("close", "TESTCO")
        engine.wait_for("blocked by PAUSED")
        status = json.loads(cli("status", "--json"))
        assert status["source"] == "engine" and status["pid"] == engine.pid
        assert status["paused"] == ["example"] and status["positions"] == [] and status["blocks_today"]["PAUSED"] >= 1
        shown = cli("status")
        assert f"engine pid {engine.pid} running example on paper:default" in shown and "paused: example" in shown
        assert json.loads(cli("positions", "--json")) == []
        trades = json.loads(cli("trades", "--json"))
        assert [t["exit_reason"] for t in trades] == ["MANUAL_CLOSE"]  # batched rows are flushed before the engine answers

        assert "resumed through the running engine" in cli("resume", "example")
        engine.wait_for("fill BUY 50 TESTCO")
        client.call("pace", seconds=2)  # slow the replay while the next commands start (a loaded machine must not reach 15:00 first)

        second = tradekit(home, "run", "--strategy", "example")
        assert second.returncode == 4 and f"pid {engine.pid}" in second.stderr

        flattened = cli("flatten")
        assert "1 position(s) closed, 1 order(s) cancelled" in flattened and "kill switch latched" in flattened
        engine.wait_for("blocked by KILL_SWITCH")
        client.call("pace", seconds=0)
        assert engine.finish() == 0
    finally:
        engine.stop()

    assert not (home / "control.json").exists()
    venue = venue_outcome(home)
    assert venue["positions"] == {}
    assert not [o for o in venue["orders"] if o[4] in ("ACCEPTED", "PARTIALLY_FILLED", "SUBMITTED")]
    store = DuckDBStore(home / "tradekit.duckdb", readonly=True)
    try:
        assert check(store).clean
        rules = dict(store.query("SELECT rule, sum(count) FROM blocks GROUP BY rule"))
        assert rules["PAUSED"] >= 1 and rules["KILL_SWITCH"] >= 1
        buys_after_flatten = store.query(
            "SELECT count(*) FROM fills f JOIN risk_state r ON r.key = 'latch:KILL' WHERE f.side = 'BUY' AND f.ts > r.ts")
        assert buys_after_flatten[0][0] == 0
    finally:
        store.close()

    # no engine now: the same commands act on the store
    assert "kill" in json.loads(cli("status", "--json"))["latches"]
    assert "unlatched through the store (no engine running): kill" in cli("unlatch")
    assert json.loads(cli("status", "--json"))["latches"] == {}
