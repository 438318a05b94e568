"""The SQL of ``tradekit positions`` and ``trades``: the same text runs in the CLI and inside a running engine."""

from __future__ import annotations

POSITIONS = (
    "SELECT account, instrument_id, quantity, average_price, realized_pnl, strategy, external, opened_at "
    "FROM positions WHERE quantity <> 0 ORDER BY account, instrument_id"
)
TRADES_JSON = (
    "SELECT trade_id, account, strategy, instrument_id, side, quantity, entry_ts, entry_price, exit_ts, exit_price, "
    "gross_pnl, costs, net_pnl, pnl_pct, exit_reason, slippage FROM trades ORDER BY exit_ts, trade_id"
)
TRADES_TABLE = (
    "SELECT strategy, instrument_id AS instrument, side, quantity AS qty, strftime(entry_ts, '%m-%d %H:%M') AS entry, "
    "entry_price, strftime(exit_ts, '%H:%M') AS exit, exit_price, net_pnl, exit_reason AS reason "
    "FROM trades ORDER BY exit_ts, trade_id"
)

LISTINGS: dict[str, str] = {"positions": POSITIONS, "trades": TRADES_TABLE, "trades_json": TRADES_JSON}
"""Named read-only listings a running engine answers (nothing else is accepted over the endpoint)."""
