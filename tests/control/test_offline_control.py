"""With no engine running, control commands act on the store and the paper venue directly."""

from __future__ import annotations

from pathlib import Path

from tests.risk.desk import ACCOUNT, open_desk

from tradekit.model.orders import Side
from tradekit.services.control import control
from tradekit.services.doctor import check
from tradekit.services.setup import workspace
from tradekit.store import DuckDBStore
from tradekit.testing.outcome import venue_outcome


def _left_with_positions(home: Path, root: Path) -> None:
    """What a stopped run leaves: positions with a protective stop working at the venue."""
    desk = open_desk(home, root, paper={"costs": {"preset": "none"}})
    desk.at(5)
    desk.enter("NSE:TESTCO", 20, 1000.0, stop="950")
    desk.enter("NSE:OTHERCO", 10, 500.0, side=Side.SELL)
    desk.engine._commit(force_durable=True)
    desk.close()
    (home / "tradekit.toml").write_text(f'[data]\nroot = "{root}"\n[paper]\ncosts = {{ preset = "none" }}\n')


def test_close_and_flatten_without_an_engine(isolated_home: Path, tmp_path: Path) -> None:
    home, root = isolated_home, tmp_path / "data"
    _left_with_positions(home, root)
    ws = workspace(home)

    route, status = control(ws, "status")
    assert route == "store" and status["engine"] == "offline" and len(status["positions"]) == 2

    route, closed = control(ws, "close", symbol="testco")
    assert route == "store" and closed == {"instrument_id": "NSE:TESTCO", "closed": 20, "remaining": 0}
    venue = venue_outcome(home)
    assert "NSE:TESTCO" not in venue["positions"]
    assert [o for o in venue["orders"] if o[3] == "STOP_MARKET"][0][4] == "CANCELLED"  # the stop went with the position

    route, flat = control(ws, "pause", strategy="example")
    assert flat["paused"] is True
    route, flat = control(ws, "flatten")
    assert route == "store" and flat["closed"] == 1 and flat["open_positions"] == [] and flat["working_orders"] == []
    assert venue_outcome(home)["positions"] == {}

    store = DuckDBStore(home / "tradekit.duckdb", readonly=True)
    try:
        assert check(store).clean
        reasons = store.query("SELECT instrument_id, exit_reason FROM trades ORDER BY instrument_id")
        assert reasons == [("NSE:OTHERCO", "KILL_SWITCH"), ("NSE:TESTCO", "MANUAL_CLOSE")]
        latched = {key for key, in store.query("SELECT key FROM risk_state WHERE value IS NOT NULL")}
        assert {"latch:KILL", "pause:example"} <= latched
        assert store.query(f"SELECT count(*) FROM positions WHERE account = '{ACCOUNT}' AND quantity <> 0")[0][0] == 0
    finally:
        store.close()
