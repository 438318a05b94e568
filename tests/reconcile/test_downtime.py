"""A stop fills at the broker while tradekit is down (kill -9): the restart closes the trade at the broker's price and time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tradekit.services.doctor import check
from tradekit.services.setup import workspace
from tradekit.services.sync import run_reconcile
from tradekit.store import DuckDBStore

from .conftest import run_day


def kill_after_stop_placed(home: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEKIT")}
    env["TRADEKIT_HOME"] = str(home)
    process = subprocess.Popen([sys.executable, "-m", "tradekit", "run", "--strategy", "example"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if "sent: SELL" in line and "stop" in line:
            break
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    process.stdout.close()
    assert process.returncode == -signal.SIGKILL
    return lines


def test_stop_filled_while_down_closes_trade_at_broker_price_and_time(
    isolated_home: Path, market_root: Path, configure_example: Callable[..., None], cli: Callable
) -> None:
    configure_example(isolated_home, market_root)
    kill_after_stop_placed(isolated_home)
    venue = json.loads((isolated_home / "paper" / "default.json").read_text())
    stops = [o for o in venue["orders"].values() if o["order_type"] == "STOP_MARKET" and o["status"] == "ACCEPTED"]
    assert len(stops) == 1
    stop = stops[0]
    placed = datetime.fromisoformat(venue["watermark"])

    filled = cli("paper", "fill", stop["broker_order_id"], "--price", "996", "--until", "+2", "--json")
    assert filled.exit_code == 0, filled.output
    [record] = json.loads(filled.output)
    assert (Decimal(record["price"]), record["tag"], record["ts"]) == (Decimal("996"), stop["tag"], (placed + timedelta(minutes=2)).isoformat())
    again = cli("paper", "fill", stop["broker_order_id"], "--price", "995")
    assert again.exit_code != 0 and "FILLED" in str(again.exception)

    lines = run_day(isolated_home)  # restart
    assert any("fill SELL 50 TESTCO @ 996" in line and "(STOP)" in line for line in lines), lines
    store = DuckDBStore(isolated_home / "tradekit.duckdb", readonly=True)
    try:
        first = store.query("SELECT exit_price, exit_ts, exit_reason FROM trades ORDER BY exit_ts LIMIT 1")[0]
        fill_ids = [row[0] for row in store.query("SELECT fill_id FROM fills")]
        assert check(store).clean
    finally:
        store.close()
    assert first[0] == Decimal("996") and first[1] == placed + timedelta(minutes=2) and first[2] == "STOP"
    venue = json.loads((isolated_home / "paper" / "default.json").read_text())
    tags = [o["tag"] for o in venue["orders"].values() if o["tag"]]
    assert len(tags) == len(set(tags))  # nothing sent twice
    assert sorted(fill_ids) == sorted(f["fill_id"] for f in venue["fills"])  # no fill lost
    assert run_reconcile(workspace(isolated_home), "paper", apply=False).result.in_sync
