"""Crash recovery scenarios 1-3 against a real ``tradekit run`` process killed with SIGKILL.

The kill comes from a tiny plugin installed for these tests only (a
dist-info directory on PYTHONPATH with a ``tradekit`` entry point): its
``on_event`` hook sees each journal event after it was committed and kills
its own process at the chosen one, so the instant is exact and the process
gets no chance to clean up. Then ``tradekit recover`` and a second
``tradekit run`` show what survived.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tradekit.store import DuckDBStore, default_store_path
from tradekit.testing.market import write_day

DAY = date(2025, 3, 4)
NY = ZoneInfo("America/New_York")
SCANNER = (
    "symbol,resistance,support,long_target_1,long_target_2,short_target_1,short_target_2\n"
    "TSLA,445.00,438.50,447.00,450.00,436.00,433.00\n"
    "AAPL,230.00,226.00,231.50,233.00,224.50,223.00\n"
)
KILLER = '''"""Test plugin: SIGKILL this process right after the chosen journal event is committed."""
import os
import signal
from datetime import datetime

from tradekit import hookimpl

_seen = {}


@hookimpl
def on_event(event):
    spec = os.environ.get("PS60_KILL", "")
    kind, _, value = spec.partition(":")
    if not kind:
        return
    if kind == "at":
        hit = event.ts >= datetime.fromisoformat(value)
    else:
        _seen[event.TYPE] = _seen.get(event.TYPE, 0) + 1
        hit = event.TYPE == kind and _seen[kind] == int(value)
    if hit:
        os.kill(os.getpid(), signal.SIGKILL)
'''


@pytest.fixture
def killer(tmp_path: Path) -> Path:
    """A directory holding the killer plugin as an installed distribution."""
    site = tmp_path / "killer"
    dist = site / "ps60_killer-0.1.dist-info"
    dist.mkdir(parents=True)
    (site / "ps60_killer.py").write_text(KILLER)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ps60-killer\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[tradekit]\nps60-killer = ps60_killer\n")
    return site


class Home:
    def __init__(self, root: Path, killer: Path, tsla: list[float], aapl: list[float]) -> None:
        self.path = root / "home"
        self.data = root / "data"
        self.killer = killer
        write_day(self.data, "NYSE", DAY, {"TSLA": tsla, "AAPL": aapl}, bar_seconds=5, tick="0.01", scanner=SCANNER)
        self.path.mkdir()
        (self.path / "tradekit.toml").write_text(
            f'[data]\nroot = "{self.data}"\n[paper]\ncapital = 100000\n'
            "[risk]\ncooldown_seconds = 0\n"  # ps60 re-enters seconds after a stop-out: a new signal, not a duplicate
        )

    def tradekit(self, *args: str, kill: str = "") -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "TRADEKIT_HOME": str(self.path), "PYTHONPATH": str(self.killer), "PS60_KILL": kill}
        env.pop("TRADEKIT_LOAD_PLUGINS", None)
        command = [str(Path(sys.executable).with_name("tradekit")), *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)

    def run_killed(self, kill: str) -> str:
        result = self.tradekit("run", "--broker", "paper", "--strategy", "ps60", kill=kill)
        assert result.returncode == -signal.SIGKILL, result.stdout + result.stderr
        return result.stdout

    def recover(self) -> dict[str, Any]:
        result = self.tradekit("recover", "--strategy", "ps60", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def stored(self) -> tuple[list[Any], dict[str, Any], list[Any]]:
        """Every order, the ps60 state and the journal, read from the store the runs left behind."""
        store = DuckDBStore(default_store_path(self.path), readonly=True)
        try:
            book = store.load_book()
            events = [event for _, event in store.events()]
        finally:
            store.close()
        return list(book.orders.values()), book.strategies[("paper:us", "ps60")].state, events


def reasons(orders: list[Any]) -> Counter[str]:
    return Counter(order.reason for order in orders)


def test_kill_scenario_1_after_partial_50_remain_at_break_even_and_no_second_entry(tmp_path: Path, killer: Path) -> None:
    tsla = [442.0] * 19 + [445.25, 446.00, 447.13] + [446.50, 445.60, 447.50, 446.80, 450.20] + [449.0] * 10
    home = Home(tmp_path, killer, tsla, [228.0] * len(tsla))
    out = home.run_killed("FillRecorded:2")  # entry, then the PARTIAL_50 fill: dead right after it is journalled
    assert "fill SELL 50 TSLA @ 447.13 (PARTIAL_50)" in out

    restored = home.recover()
    [position] = restored["positions"]
    assert (position["instrument_id"], position["quantity"]) == ("SMART:TSLA", 50)
    assert Decimal(position["average_price"]) == Decimal("445.25")
    [stop] = restored["working_orders"]
    assert (stop["order_type"], stop["side"], stop["quantity"] - stop["filled_quantity"]) == ("STOP_MARKET", "SELL", 50)
    assert Decimal(stop["stop_price"]) == Decimal("445.25")  # break-even
    trade = restored["strategy_state"]["trades"]["TSLA"]
    assert (trade["remaining"], trade["partial_taken"], trade["partial_filled"], trade["stop"]) == (50, True, 50, "445.25")

    out = home.run_killed("FillRecorded:1")  # the restarted run, until its first fill
    assert "fill SELL 50 TSLA @ 450.20 (TARGET_2)" in out
    orders, state, _ = home.stored()
    assert reasons(orders) == Counter({"ENTRY_LONG": 1, "PARTIAL_50": 1, "BREAK_EVEN": 1, "TARGET_2": 1})
    analytics = state["analytics"]
    assert (analytics["entries"], analytics["trades"], analytics["realized_pnl"]) == (1, 1, "341.50")
    shown = home.tradekit("ps60", "report", "--json")
    assert shown.returncode == 0, shown.stderr
    [day] = json.loads(shown.stdout)
    assert (day["day"], day["entries"], day["trades"], day["realized_pnl"]) == ("2025-03-04", 1, 1, "341.50")
    assert day["exits"] == {"TARGET_2": 1} and day["entry_paths"] == {"LONG breakout #1": 1}
    text = home.tradekit("ps60", "report").stdout
    assert "paper:us ps60 2025-03-04: 1 trades closed, 0 open, 1 entries (1 won, 0 lost)" in text
    assert "TSLA-LONG-1 (breakout): 100 @ 445.25 -> 50 @ 447.13 PARTIAL_50, 50 @ 450.20 TARGET_2; P&L +341.50" in text


def test_kill_scenario_2_two_attempts_then_restart_then_the_third_break_is_blocked(tmp_path: Path, killer: Path) -> None:
    tsla = [442.0] * 19 + [445.30, 444.90, 445.40, 444.80] + [445.60, 446.00, 444.00, 438.00] + [438.0] * 5
    home = Home(tmp_path, killer, tsla, [228.0] * len(tsla))
    home.run_killed("FillRecorded:4")  # two entries, two stop-outs
    state = home.recover()["strategy_state"]
    assert state["attempts"]["TSLA"] == {"LONG": 2, "SHORT": 0} and state["analytics"]["exits"] == {"STOP": 2}

    out = home.run_killed("FillRecorded:1")  # restarted; the next fill is the short entry on the breakdown
    assert "blocked ATTEMPT_LIMIT: TSLA LONG: close 445.6 above resistance 445.00: 2 of 2 attempts used" in out
    orders, state, events = home.stored()
    assert reasons(orders) == Counter({"ENTRY_LONG": 2, "STOP": 3, "ENTRY_SHORT": 1})
    assert [(e.rule, e.instrument_id) for e in events if e.TYPE == "SignalBlocked"] == [("ATTEMPT_LIMIT", "SMART:TSLA")]
    assert state["analytics"]["blocks"] == {"ATTEMPT_LIMIT": 1}
    assert state["attempts"]["TSLA"] == {"LONG": 2, "SHORT": 1}


def test_kill_scenario_3_mid_morning_restart_keeps_the_bar_buffers(tmp_path: Path, killer: Path) -> None:
    aapl = [228.0] * 300 + [225.90] * 12  # breaks support on the bar starting 09:55:00
    tsla = [442.0] * 306 + [445.50] * 6  # breaks resistance on the bar starting 09:55:30
    home = Home(tmp_path, killer, tsla, aapl)
    out = home.run_killed("FillRecorded:1")  # dead at 09:55:05, right after the AAPL entry
    assert "fill SELL 100 AAPL @ 225.90 (ENTRY_SHORT)" in out
    saved = home.recover()["strategy_state"]
    assert {symbol: len(rows) for symbol, rows in saved["buffers"].items()} == {"AAPL": 20, "TSLA": 20}

    out = home.run_killed("FillRecorded:1")  # restarted 30 s before the TSLA break: no new 100 s warm-up
    assert "WARMUP" not in out
    orders, state, events = home.stored()
    [entry] = [o for o in orders if o.reason == "ENTRY_LONG"]
    assert entry.instrument_id == "SMART:TSLA"
    assert entry.created_at == datetime(2025, 3, 4, 9, 55, 35, tzinfo=NY)  # the break bar's end, as without a crash
    assert state["analytics"]["blocks"] == {} and not [e for e in events if e.TYPE == "SignalBlocked"]
