"""What a run leaves behind, in a form two runs can be compared by (ids and wall times left out)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tradekit.store import DuckDBStore


def store_outcome(home: Path) -> dict[str, Any]:
    store = DuckDBStore(home / "tradekit.duckdb", readonly=True)
    try:
        trades = store.query(
            "SELECT strategy, instrument_id, side, quantity, entry_ts, entry_price, exit_ts, exit_price, gross_pnl, costs, "
            "net_pnl, exit_reason FROM trades ORDER BY exit_ts, entry_ts, instrument_id"
        )
        days = store.query("SELECT account, day, open_cash, close_cash, close_equity FROM accounts_daily ORDER BY account, day")
        positions = store.query("SELECT account, instrument_id, quantity, average_price FROM positions WHERE quantity <> 0 ORDER BY 1, 2")
        cash = store.query("SELECT account, cash FROM accounts ORDER BY account")
        fills = store.query("SELECT instrument_id, side, quantity, price, ts FROM fills ORDER BY ts, instrument_id, side")
    finally:
        store.close()
    return {"trades": trades, "days": days, "positions": positions, "cash": cash, "fills": fills}


def venue_outcome(home: Path, account: str = "default") -> dict[str, Any]:
    state = json.loads((home / "paper" / f"{account}.json").read_text())
    orders = sorted(state["orders"].values(), key=lambda o: o["broker_order_id"])
    return {
        "cash": state["cash"],
        "positions": {k: v for k, v in state["positions"].items() if v["quantity"]},
        "orders": [(o["instrument_id"], o["side"], o["quantity"], o["order_type"], o["status"]) for o in orders],
        "tags": [o["tag"] for o in orders if o["tag"]],
        "fills": [(f["instrument_id"], f["side"], f["quantity"], f["price"], f["ts"]) for f in state["fills"]],
    }
