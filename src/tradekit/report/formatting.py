"""How numbers read, the same on the terminal and on the HTML page."""

from __future__ import annotations

from datetime import date
from typing import Any

DASH = "–"


def money(value: float | None) -> str:
    return DASH if value is None else f"{value:,.2f}"


def pct(value: float | None, digits: int = 2) -> str:
    return DASH if value is None else f"{value * 100:.{digits}f}%"


def ratio(value: float | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def day(value: date | None) -> str:
    return DASH if value is None else value.isoformat()


def recovery(scope: dict[str, Any]) -> str:
    """The recovery date, or "not recovered" when the worst drawdown is still open."""
    if not scope.get("max_drawdown"):
        return DASH
    return day(scope["drawdown_recovery"]) if scope["drawdown_recovery"] else "not recovered"


def scope_label(scope: dict[str, Any]) -> str:
    """Every row names its currency: ``paper (all, INR)``, ``paper:us (USD)``, ``strategy momo (INR)``."""
    currency = scope.get("currency") or "?"
    if scope["kind"] == "overall":
        return f"{scope['key']} (all, {currency})"
    if scope["kind"] == "account":
        return f"{scope['key']} ({currency})"
    return f"strategy {scope['strategy'] or '(none)'} ({currency})"


RESULT_COLUMNS = ("scope", "trades", "net P&L", "return", "win rate", "avg win", "avg loss", "profit factor",
                  "expectancy", "win streak", "loss streak", "trades/day")  # fmt: skip
RISK_COLUMNS = ("scope", "Sharpe", "Sortino", "max DD", "max DD %", "DD start", "DD trough", "recovered",
                "exposure", "capital use", "costs", "slippage", "fill rate")  # fmt: skip


def result_row(s: dict[str, Any]) -> list[str]:
    return [scope_label(s), str(s["trades"]), money(s["net_pnl"]), pct(s["total_return"], 3), pct(s["win_rate"], 1),
            money(s["avg_win"]), money(s["avg_loss"]), ratio(s["profit_factor"]) if s["losses"] else ("∞" if s["wins"] else DASH),
            money(s["expectancy"]), str(s["longest_win_streak"]), str(s["longest_loss_streak"]), ratio(s["trades_per_day"])]  # fmt: skip


def risk_row(s: dict[str, Any]) -> list[str]:
    return [scope_label(s), ratio(s["sharpe"]), ratio(s["sortino"]), money(s["max_drawdown"]), pct(s["max_drawdown_pct"], 3),
            day(s["drawdown_start"]), day(s["drawdown_trough"]), recovery(s), pct(s["exposure"], 1), pct(s["capital_use"], 1),
            money(s["costs"]), money(s["slippage"]), pct(s["fill_rate"], 1)]  # fmt: skip


BENCHMARK_COLUMNS = ("account", "benchmark", "first trading day", "to", "account return", "benchmark return", "excess", "note")


def benchmark_row(b: dict[str, Any]) -> list[str]:
    return [b["account"], b["benchmark"], day(b["first_trading_day"]), day(b["benchmark_end"] or b["last_day"]),
            pct(b["account_return"], 3), pct(b["benchmark_return"], 3), pct(b["excess_return"], 3), b["note"]]  # fmt: skip


MONTH_COLUMNS = ("month", "days", "trades", "wins", "losses", "net P&L", "costs", "return", "worst DD")


def month_row(m: dict[str, Any]) -> list[str]:
    return [m["month"], str(m["days"]), str(m["trades"]), str(m["wins"]), str(m["losses"]), money(m["net_pnl"]),
            money(m["costs"]), pct(m["return"], 3), pct(m["worst_drawdown_pct"], 3)]  # fmt: skip


DAY_COLUMNS = ("day", "trades", "wins", "losses", "net P&L", "costs", "slippage", "return", "equity", "drawdown")


def day_row(d: dict[str, Any]) -> list[str]:
    return [day(d["day"]), str(d["trades"]), str(d["wins"]), str(d["losses"]), money(d["net_pnl"]), money(d["costs"]),
            money(d["slippage"]), pct(d["return"], 3), money(d["equity"]), money(d["drawdown"])]  # fmt: skip


EXIT_COLUMNS = ("strategy", "exit reason", "trades", "wins", "net P&L", "avg P&L", "slippage", "slippage/trade")


def exit_row(e: dict[str, Any]) -> list[str]:
    return [e["strategy"] or "(none)", e["exit_reason"] or "(none)", str(e["trades"]), str(e["wins"]), money(e["net_pnl"]),
            money(e["avg_pnl"]), money(e["slippage"]), money(e["slippage_per_trade"])]  # fmt: skip


BLOCK_COLUMNS = ("strategy", "rule", "blocked", "latest reason")


def block_row(b: dict[str, Any]) -> list[str]:
    return [b["strategy"], b["rule"], str(b["count"]), b["latest_reason"] or ""]
