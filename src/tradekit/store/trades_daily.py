"""``trades_daily``: the closed trades summed per (account, strategy, market, exchange-local day, exit reason).

Why: the report's every sum, count, average, daily series and exit-reason
table rolls up from this; over a million trades it holds a few ten
thousand rows, so the report aggregates days instead of re-reading every
trade (docs/performance.md, "## Report"). It is a projection like the
others: kept up to date in the same transaction as the trades it sums
(``add``), created and back-filled from ``trades`` by migration m004, and
compared by ``doctor`` with a rebuild from the journal (``rows``).

All sums are exact decimals (``DECIMAL(38, 8)``) and integer milliseconds,
so a summary built a trade at a time equals one built from scratch, to the
last digit. A trade's **day** is the local date of its exit on its own
instrument's market: IST (+05:30) for Indian exchanges, UTC-5 otherwise
(the New York date at any hour US markets trade); ``india`` says which.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal
from typing import Any

import duckdb

INDIA_EXCHANGES = ("NSE", "NFO", "BSE", "BFO", "MCX", "CDS", "BCD")
"""Exchanges on Indian time (and in rupees); every other exchange is taken as US (New York, dollars)."""
INDIA_OFFSET_S, US_OFFSET_S = 19800, -18000

COLUMNS = (
    "account", "strategy", "india", "day", "exit_reason", "trades", "wins", "losses", "net_pnl", "gross_pnl", "costs",
    "slippage", "gross_profit", "gross_loss", "notional", "max_notional", "held_ms", "notional_ms", "first_entry_ts",
)  # fmt: skip
KEY = COLUMNS[:5]
_SUMMED = ("trades", "wins", "losses", "net_pnl", "gross_pnl", "costs", "slippage", "gross_profit", "gross_loss", "notional",
           "held_ms", "notional_ms")  # fmt: skip

SUM = "DECIMAL(38, 8)"
CREATE_SQL = f"""
CREATE TABLE trades_daily (
    account VARCHAR NOT NULL,
    strategy VARCHAR NOT NULL,        -- '' for a trade without one
    india BOOLEAN NOT NULL,           -- the instrument's market: Indian time, else New York
    day DATE NOT NULL,                -- exchange-local date of the exit
    exit_reason VARCHAR NOT NULL,     -- '' when none was recorded
    trades BIGINT NOT NULL,
    wins BIGINT NOT NULL,             -- net_pnl > 0
    losses BIGINT NOT NULL,           -- net_pnl < 0
    net_pnl {SUM} NOT NULL,
    gross_pnl {SUM} NOT NULL,
    costs {SUM} NOT NULL,
    slippage {SUM} NOT NULL,
    gross_profit {SUM} NOT NULL,      -- sum of net_pnl of the wins (0 without any)
    gross_loss {SUM} NOT NULL,        -- sum of net_pnl of the losses (0 without any)
    notional {SUM} NOT NULL,          -- sum of entry_price * quantity
    max_notional {SUM} NOT NULL,
    held_ms BIGINT NOT NULL,          -- sum of exit - entry, whole milliseconds of each
    notional_ms {SUM} NOT NULL,       -- sum of entry_price * quantity * held ms
    first_entry_ts TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, strategy, india, day, exit_reason)
);
"""

_INDIA_SQL = "split_part(instrument_id, ':', 1) IN (" + ", ".join(f"'{e}'" for e in INDIA_EXCHANGES) + ")"
SELECT_SQL = f"""
SELECT account, coalesce(strategy, '') AS strategy, india,
       DATE '1970-01-01' + CAST((epoch_ms(exit_ts) // 1000 + CASE WHEN india THEN {INDIA_OFFSET_S} ELSE {US_OFFSET_S} END)
                                // 86400 AS INTEGER) AS day,
       coalesce(exit_reason, '') AS exit_reason, count(*) AS trades,
       count(*) FILTER (WHERE net_pnl > 0) AS wins, count(*) FILTER (WHERE net_pnl < 0) AS losses,
       CAST(sum(net_pnl) AS {SUM}), CAST(sum(gross_pnl) AS {SUM}), CAST(sum(costs) AS {SUM}), CAST(sum(slippage) AS {SUM}),
       CAST(coalesce(sum(net_pnl) FILTER (WHERE net_pnl > 0), 0) AS {SUM}),
       CAST(coalesce(sum(net_pnl) FILTER (WHERE net_pnl < 0), 0) AS {SUM}),
       CAST(sum(entry_price * quantity) AS {SUM}), CAST(max(entry_price * quantity) AS {SUM}),
       sum(epoch_ms(exit_ts) - epoch_ms(entry_ts)) AS held_ms,
       CAST(sum(entry_price * quantity * (epoch_ms(exit_ts) - epoch_ms(entry_ts))) AS {SUM}),
       min(entry_ts)
FROM (SELECT *, {_INDIA_SQL} AS india FROM trades)
GROUP BY ALL
"""
"""The whole projection from ``trades`` (migration back-fill; tests compare it with what ``add`` built)."""

MIGRATION_SQL = CREATE_SQL + f"INSERT INTO trades_daily {SELECT_SQL};\n"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_EXACT = Context(prec=60)
_CHUNK = 200
_DECIMAL = frozenset(c for c in COLUMNS if c not in KEY and c not in ("trades", "wins", "losses", "held_ms", "first_entry_ts"))
_BULK = 256  # summary rows from which they go in as one Arrow table


def _epoch_ms(ts: datetime) -> int:
    return (ts - _EPOCH) // _MS


def rows(trade_rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """The summary rows of ``trade_rows`` (rows of the ``trades`` table, as ``rows.trade_row`` makes them).

    Used for each flush's trades (``add``) and by ``doctor`` for a rebuild from the journal.
    """
    groups: dict[tuple[Any, ...], list[Any]] = {}
    add, mul = _EXACT.add, _EXACT.multiply
    for row in trade_rows:
        account, _, strategy, instrument_id, _, quantity, entry_ts, entry_price, exit_ts = row[:9]
        gross, costs, net, reason, slippage = row[10], row[11], row[12], row[14], row[15]
        india = instrument_id.split(":", 1)[0] in INDIA_EXCHANGES
        exit_ms, entry_ms = _epoch_ms(exit_ts), _epoch_ms(entry_ts)
        day = date(1970, 1, 1) + timedelta(days=(exit_ms // 1000 + (INDIA_OFFSET_S if india else US_OFFSET_S)) // 86400)
        notional = mul(entry_price, Decimal(quantity))
        held = exit_ms - entry_ms
        key = (account, strategy or "", india, day, reason or "")
        zero = Decimal(0)
        g = groups.get(key)
        if g is None:
            g = groups[key] = [0, 0, 0, zero, zero, zero, zero, zero, zero, zero, notional, 0, zero, entry_ts]
        g[0] += 1
        g[1] += net > 0
        g[2] += net < 0
        g[3], g[4], g[5], g[6] = add(g[3], net), add(g[4], gross), add(g[5], costs), add(g[6], slippage)
        if net > 0:
            g[7] = add(g[7], net)
        elif net < 0:
            g[8] = add(g[8], net)
        g[9] = add(g[9], notional)
        g[10] = max(g[10], notional)
        g[11] += held
        g[12] = add(g[12], mul(notional, Decimal(held)))
        g[13] = min(g[13], entry_ts)
    return [(*key, *values) for key, values in groups.items()]


def add(connection: duckdb.DuckDBPyConnection, trade_rows: Sequence[Sequence[Any]], replaced: bool) -> None:
    """Fold the trades just written into the summary, inside the caller's transaction.

    ``replaced``: some of them overwrote a trade already stored (a key
    written twice); its old figures cannot be taken out of a max or a min,
    so the summary is then rebuilt from ``trades`` (never happens in a
    normal run: a closed trade is written once).
    """
    if replaced:
        connection.execute("DELETE FROM trades_daily")
        connection.execute(f"INSERT INTO trades_daily {SELECT_SQL}")
        return
    summary = rows(trade_rows)
    if not summary:
        return
    updates = ", ".join(f"{c} = trades_daily.{c} + excluded.{c}" for c in _SUMMED)
    conflict = (f" ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {updates}, "
                "max_notional = greatest(trades_daily.max_notional, excluded.max_notional), "
                "first_entry_ts = least(trades_daily.first_entry_ts, excluded.first_entry_ts)")  # fmt: skip
    if len(summary) >= _BULK:  # a backtest's flush: hundreds of days in one Arrow scan instead of bound parameters
        from tradekit.store import arrow

        # decimals arrive as text (store/arrow.py): cast here, or ``excluded`` would carry text into the sums
        columns = ", ".join(f"CAST({c} AS {SUM})" if c in _DECIMAL else c for c in COLUMNS)
        arrow.insert(connection, arrow.table(dict(zip(COLUMNS, zip(*summary)))),
                     f"INSERT INTO trades_daily SELECT {columns} FROM _tradekit_arrow{conflict}")
        return
    group = f"({', '.join('?' * len(COLUMNS))})"
    for start in range(0, len(summary), _CHUNK):  # keys are unique within the summary: no row is updated twice per statement
        chunk = summary[start:start + _CHUNK]
        connection.execute(f"INSERT INTO trades_daily VALUES {', '.join([group] * len(chunk))}{conflict}",
                           [value for row in chunk for value in row])
