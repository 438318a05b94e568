"""The day's analytics, derived from the strategy state.

The numbers are recomputed from the trade record after every step and saved
with the state (``state["analytics"]``), so the store always holds them and
``report`` can show them without asking the strategy to run.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

State = dict[str, Any]


def summarize(state: State) -> dict[str, Any]:
    """Blocks by rule, entries by path, P&L and trade counts, as plain data."""
    closed = [trade for trade in state.get("closed", []) if trade["status"] == "closed"]
    unfilled = [trade for trade in state.get("closed", []) if trade["status"] == "unfilled"]
    live = [trade for trade in state.get("trades", {}).values() if trade is not None and trade["status"] == "open"]
    realized = sum((Decimal(trade["realized_pnl"]) for trade in closed + live), Decimal(0))
    costs = sum((Decimal(trade["costs"]) for trade in closed + live), Decimal(0))
    net = [Decimal(trade["realized_pnl"]) - Decimal(trade["costs"]) for trade in closed]
    counters = state.get("counters", {})
    return {
        "entries": int(counters.get("entries", 0)),
        "trades": len(closed),
        "open_trades": len(live),
        "unfilled_entries": len(unfilled),
        "wins": sum(1 for value in net if value > 0),
        "losses": sum(1 for value in net if value < 0),
        "realized_pnl": str(realized),
        "costs": str(costs),
        "net_pnl": str(realized - costs),
        "blocks": dict(sorted(counters.get("blocks", {}).items())),
        "entry_paths": dict(sorted(counters.get("paths", {}).items())),
        "exits": dict(sorted(Counter(trade["exit_reason"] for trade in closed).items())),
        "attempts": {symbol: dict(sides) for symbol, sides in sorted(state.get("attempts", {}).items()) if any(sides.values())},
    }


def report_lines(state: State) -> list[str]:
    """Human-readable lines for ``tradekit report`` (the CLI prints them)."""
    summary = summarize(state)
    unfilled = f", {summary['unfilled_entries']} not filled" if summary["unfilled_entries"] else ""
    lines = [
        f"ps60 {state.get('day', '?')}: {summary['trades']} trades closed, {summary['open_trades']} open, "
        f"{summary['entries']} entries{unfilled} ({summary['wins']} won, {summary['losses']} lost)",
        f"  realised P&L {Decimal(summary['realized_pnl']):+.2f}, costs {Decimal(summary['costs']):.2f}, "
        f"net {Decimal(summary['net_pnl']):+.2f}",
    ]
    if summary["entry_paths"]:
        lines.append("  entries by path: " + ", ".join(f"{path} {n}" for path, n in summary["entry_paths"].items()))
    if summary["blocks"]:
        lines.append("  entries blocked: " + ", ".join(f"{rule} {n}" for rule, n in summary["blocks"].items()))
    if summary["exits"]:
        lines.append("  exits: " + ", ".join(f"{reason} {n}" for reason, n in summary["exits"].items()))
    for trade in state.get("closed", []):
        if trade["status"] != "closed":
            continue
        exits = ", ".join(f"{e['quantity']} @ {e['price']} {e['reason']}" for e in trade["exits"]) or "no fill booked"
        lines.append(
            f"  {trade['id']} ({trade['path']}): {trade['filled']} @ {Decimal(trade['entry_price']):.2f} -> {exits}; "
            f"P&L {Decimal(trade['realized_pnl']):+.2f}"
        )
    return lines
