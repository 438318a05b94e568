"""Crash recovery scenario 4 through the real CLI: kill -9 of a live ps60 run while its stop works at the gateway.

``tradekit run --broker ibkr --strategy ps60 --live --yes`` runs as a child
process on a ``FileClock`` it shares with the fake gateway in this process.
A tiny test-only plugin (``on_event`` hook) SIGKILLs the child right after
the protective stop's acknowledgement is journalled. While tradekit is
down the harness moves the shared clock until the gateway's bars reach the
stop, so the gateway fills it. The restarted run closes the trade at the
gateway's fill price, sends nothing twice and finishes the day.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tradekit.clock import FileClock
from tradekit.store import DuckDBStore

from tradekit_ibkr.fake.gateway import FakeGateway
from tradekit_ibkr.fake.market import NEW_YORK, GeneratedUSDay

from .conftest import DAY
from .test_run_ps60 import SCANNER

BEFORE_OPEN = datetime(2025, 1, 2, 9, 0, tzinfo=NEW_YORK)
ACCOUNT = "ibkr:DU7654321"
KILLER = '''"""Test plugin: SIGKILL this process right after the N-th journal event of a kind is committed."""
import os
import signal

from tradekit import hookimpl

_seen = {}


@hookimpl
def on_event(event):
    kind, _, count = os.environ.get("IBKR_KILL", "").partition(":")
    if kind and event.TYPE == kind:
        _seen[kind] = _seen.get(kind, 0) + 1
        if _seen[kind] == int(count):
            os.kill(os.getpid(), signal.SIGKILL)
'''


def install_killer(site: Path) -> Path:
    dist = site / "ibkr_killer-0.1.dist-info"
    dist.mkdir(parents=True)
    (site / "ibkr_killer.py").write_text(KILLER)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ibkr-killer\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[tradekit]\nibkr-killer = ibkr_killer\n")
    return site


def write_home(root: Path, port: int, library: str) -> Path:
    """A home configured through tradekit.toml's documented keys only."""
    data = root / "data" / "NYSE" / DAY.isoformat()
    data.mkdir(parents=True)
    (data / "scanner.csv").write_text(SCANNER)
    home = root / "home"
    home.mkdir()
    (home / "tradekit.toml").write_text(
        f'[data]\nroot = "{root / "data"}"\n'
        f'[brokers.ibkr]\nport = {port}\nclient_id = 29\nclient_library = "{library}"\nrequest_timeout = 10\n'
        "[strategies.ps60]\nbar_seconds = 300\nwarmup_bars = 3\n"
        "[engine]\nsync_minutes = 60\n[risk]\ncooldown_seconds = 0\n"
    )
    return home


def tradekit_run(home: Path, clock: FileClock, killer: Path, kill: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEKIT")}
    env.update(TRADEKIT_HOME=str(home), TRADEKIT_SIM_CLOCK=str(clock.path), PYTHONPATH=str(killer), IBKR_KILL=kill)
    command = [sys.executable, "-m", "tradekit", "run", "--broker", "ibkr", "--strategy", "ps60", "--live", "--yes"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)


def stored(home: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with DuckDBStore(home / "tradekit.duckdb", readonly=True) as store:
        trades = store.query("SELECT entry_price, exit_price, exit_ts, exit_reason FROM trades WHERE account = ? "
                             "ORDER BY entry_ts", [ACCOUNT])
        orders = store.query("SELECT client_order_id, reason, status FROM orders WHERE account = ? ORDER BY created_at",
                             [ACCOUNT])
        days = store.query("SELECT day, close_cash FROM accounts_daily WHERE account = ?", [ACCOUNT])
    return trades, orders, days


def test_kill_with_working_stop_then_stop_fills_at_gateway_while_down(tmp_path: Path, library: Any) -> None:
    clock = FileClock(tmp_path / "clock", BEFORE_OPEN)
    market = GeneratedUSDay(DAY, {"TSLA": 445.25, "AAPL": 228.50}, seed=11)
    killer = install_killer(tmp_path / "killer")
    with FakeGateway(market, account="DU7654321", clock=clock) as gateway:
        home = write_home(tmp_path, gateway.port, library.__name__)

        # 1. the live run enters TSLA, its stop is acknowledged by the gateway: kill -9 right then
        killed = tradekit_run(home, clock, killer, kill="OrderAccepted:2")
        assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
        assert gateway.wait_for(lambda: gateway.connected_clients() == [])
        [stop] = [o for o in gateway.orders() if o.order_type == "STP"]
        assert stop.status == "Submitted" and stop.stop_price == 450.0 and gateway.positions()["TSLA"][0] == 100
        entry = next(o for o in gateway.orders() if o.order_type == "MKT")

        # 2. tradekit is down; the market reaches the stop and the gateway fills it
        killed_at = gateway.sync()
        bars = market.bars("TSLA", killed_at, killed_at + timedelta(hours=6))
        touch = next(bar for bar in bars if bar.low <= stop.stop_price)
        gateway.set_time(touch.end + timedelta(minutes=3))
        [stop_fill] = [e for e in gateway.executions() if e.order_ref == stop.order_ref]
        assert stop_fill.price == (touch.open if touch.open <= 450.0 else 450.0) and stop_fill.time == touch.end
        assert gateway.positions().get("TSLA", (0.0, 0.0))[0] == 0
        placed_before = len(gateway.orders())

        # 3. the restart books the broker's fill, places nothing twice and finishes the day
        restarted = tradekit_run(home, clock, killer)
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        assert f"session {DAY}:" in restarted.stdout

    trades, orders, days = stored(home)
    first = trades[0]
    assert (float(first[0]), float(first[1])) == (next(e.price for e in gateway.executions() if e.order_ref == entry.order_ref),
                                                  stop_fill.price)
    assert first[2] == stop_fill.time and first[3] == "STOP"
    refs = [o.order_ref for o in gateway.orders()]
    assert len(refs) == len(set(refs)) and set(refs) == {o[0] for o in orders}
    new_orders = gateway.orders()[placed_before:]
    assert all(o.order_ref not in (entry.order_ref, stop.order_ref) for o in new_orders)
    assert [o[0] for o in orders if o[1] == "STOP"][0] == stop.order_ref  # the stop was not re-placed at restart
    assert days == [(DAY, days[0][1])] and days[0][1] is not None  # the day was finished and closed
    assert gateway.positions().get("TSLA", (0.0, 0.0))[0] == 0
