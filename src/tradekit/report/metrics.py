"""Performance metrics computed in DuckDB from the store, never with a loop over trades.

Everything is set-based: the closed trades are copied once into a temporary
table, fanned out into *scopes* (overall per mode, per account, per
strategy), and every metric is an aggregate or a window over that table.
The handful of result rows (one per scope, day or month) come back to
Python only to be shaped for output.

Definitions (docs/reporting.md explains them for traders):

* A trade's **day** is the exchange-local date of its exit.
* **paper** and **live** are never mixed: the top-level scope is the mode,
  taken from the account prefix (``paper:<name>`` is paper, anything else live).
* The **equity curve** of a scope starts at its capital (the opening cash of
  the first trading day of each account in it, plus the scope's P&L before
  ``--from``) and adds the net P&L of its closed trades day by day, over every
  trading day of its accounts, so a day without trades is a 0 return.
* **Daily return** = day's net P&L / equity at the start of that day;
  Sharpe and Sortino annualise the mean daily excess return by
  ``sqrt(periods_per_year)``; Sortino's downside deviation is
  ``sqrt(mean(min(excess, 0)^2))`` over all days.
* **Max drawdown** is on end-of-day equity against the running peak
  (capital included); its start is the first day below that peak, its
  trough the lowest day, its recovery the first later day back at or above
  the peak (None: not recovered).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol
from collections.abc import Sequence

INDIA_EXCHANGES = ("NSE", "NFO", "BSE", "BFO", "MCX", "CDS", "BCD")
TZ_SQL = (
    "CASE WHEN split_part(instrument_id, ':', 1) IN ("
    + ", ".join(f"'{e}'" for e in INDIA_EXCHANGES)
    + ") THEN 'Asia/Kolkata' ELSE 'America/New_York' END"
)
"""The exchange time zone of an instrument id, from its exchange prefix."""

MODE_SQL = "CASE WHEN account LIKE 'paper:%' THEN 'paper' ELSE 'live' END"
SESSION_SECONDS_SQL = "CASE WHEN tz = 'Asia/Kolkata' THEN 22500 ELSE 23400 END"
"""Regular session length: NSE 09:15-15:30, NYSE 09:30-16:00."""

FIRST_DAY = date(1, 1, 1)
LAST_DAY = date(9999, 12, 31)


class Queryable(Protocol):
    def query_with_columns(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]: ...


@dataclass(frozen=True)
class ReportFilters:
    """What the report covers. Dates are exchange-local trading days, both ends included."""

    start: date | None = None
    end: date | None = None
    strategies: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    mode: str | None = None  # "paper" | "live" | None for both (still reported apart)
    risk_free: float = 0.0  # annual rate, 0.065 for 6.5 %
    periods_per_year: int = 252

    def __post_init__(self) -> None:
        if self.mode not in (None, "paper", "live"):
            raise ValueError(f"mode must be paper or live, got {self.mode!r}")
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"--from {self.start} is after --to {self.end}")
        if self.periods_per_year <= 0:
            raise ValueError(f"periods_per_year must be positive, got {self.periods_per_year}")


@dataclass
class Metrics:
    """The raw result: lists of plain dicts, ready for JSON, tables and charts."""

    scopes: list[dict[str, Any]] = field(default_factory=list)
    days: list[dict[str, Any]] = field(default_factory=list)
    months: list[dict[str, Any]] = field(default_factory=list)
    exit_reasons: list[dict[str, Any]] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)


def _in(column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
    if not values:
        return "TRUE", []
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def _where(filters: ReportFilters, *, strategy_column: str | None = "strategy") -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    clause, extra = _in("account", filters.accounts)
    parts.append(clause)
    params += extra
    if strategy_column is not None:
        clause, extra = _in(f"coalesce({strategy_column}, '')", filters.strategies)
        parts.append(clause)
        params += extra
    if filters.mode is not None:
        parts.append(f"{MODE_SQL} = ?")
        params.append(filters.mode)
    return " AND ".join(parts), params


def _rows(store: Queryable, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    columns, rows = store.query_with_columns(sql, params)
    return [dict(zip(columns, row)) for row in rows]


def _run(store: Queryable, sql: str, params: Sequence[Any] = ()) -> None:
    store.query_with_columns(sql, params)


TEMP_TABLES = ("rpt_cap", "rpt_t", "rpt_st", "rpt_d", "rpt_sa", "rpt_base", "rpt_daily")


def compute(store: Queryable, filters: ReportFilters) -> Metrics:
    """All metrics for ``filters`` from the store's tables (temporary tables, dropped afterwards)."""
    try:
        _prepare(store, filters)
        return _collect(store, filters)
    finally:
        for table in TEMP_TABLES:
            _run(store, f"DROP TABLE IF EXISTS temp.{table}")


def _prepare(store: Queryable, filters: ReportFilters) -> None:
    start, end = filters.start or FIRST_DAY, filters.end or LAST_DAY
    # Each account's first trading day and capital: the first DayOpened in the
    # journal (append-only, so a later run can never move it), else the
    # earliest recorded day.
    _run(store, f"""
        CREATE OR REPLACE TEMP TABLE rpt_cap AS
        WITH j AS (
            SELECT account,
                   arg_min(CAST(json_extract_string(payload, '$.day') AS DATE), seq) AS first_day,
                   arg_min(CAST(json_extract_string(payload, '$.cash') AS DOUBLE), seq) AS capital
            FROM events WHERE type = 'DayOpened' GROUP BY account),
        d AS (SELECT account, min(day) AS first_day, arg_min(CAST(open_cash AS DOUBLE), day) AS capital
              FROM accounts_daily GROUP BY account),
        m AS (SELECT account, arg_min({TZ_SQL}, entry_ts) AS tz FROM trades GROUP BY account),
        a AS (SELECT account FROM j UNION SELECT account FROM d UNION SELECT account FROM m)
        SELECT a.account, {MODE_SQL.replace('account', 'a.account')} AS mode,
               coalesce(j.first_day, d.first_day) AS first_day, coalesce(j.capital, d.capital) AS capital,
               j.account IS NOT NULL AS first_day_from_journal, m.tz
        FROM a LEFT JOIN j ON j.account = a.account LEFT JOIN d ON d.account = a.account
        LEFT JOIN m ON m.account = a.account
    """)
    where, params = _where(filters)
    _run(store, f"""
        CREATE OR REPLACE TEMP TABLE rpt_t AS
        SELECT account, {MODE_SQL} AS mode, coalesce(strategy, '') AS strategy, trade_id, instrument_id,
               coalesce(exit_reason, '') AS exit_reason, entry_ts, exit_ts, tz,
               CAST(net_pnl AS DOUBLE) AS net, CAST(gross_pnl AS DOUBLE) AS gross, CAST(costs AS DOUBLE) AS costs,
               CAST(slippage AS DOUBLE) AS slip, CAST(entry_price * quantity AS DOUBLE) AS notional,
               day, day BETWEEN ? AND ? AS in_range
        FROM (SELECT *, {TZ_SQL} AS tz, CAST(timezone({TZ_SQL}, exit_ts) AS DATE) AS day FROM trades)
        WHERE {where} AND day <= ?
    """, [start, end, *params, end])
    # Scopes: every trade counts once overall (its mode), once for its account, once for its strategy.
    _run(store, """
        CREATE OR REPLACE TEMP TABLE rpt_st AS
        SELECT 'overall' AS kind, mode AS key, * FROM rpt_t
        UNION ALL SELECT 'account', account, * FROM rpt_t
        UNION ALL SELECT 'strategy', mode || '/' || strategy, * FROM rpt_t
    """)
    # Trading days of each account in range: recorded days plus any day a trade closed.
    where_d, params_d = _where(filters, strategy_column=None)
    only_traded = "AND account IN (SELECT account FROM rpt_t)" if filters.strategies else ""
    _run(store, f"""
        CREATE OR REPLACE TEMP TABLE rpt_d AS
        SELECT account, {MODE_SQL} AS mode, day FROM accounts_daily
        WHERE {where_d} AND day BETWEEN ? AND ? {only_traded}
        UNION SELECT account, mode, day FROM rpt_t WHERE in_range
    """, [*params_d, start, end])
    _run(store, """
        CREATE OR REPLACE TEMP TABLE rpt_sa AS
        SELECT DISTINCT 'overall' AS kind, mode AS key, account FROM rpt_d
        UNION SELECT DISTINCT 'account', account, account FROM rpt_d
        UNION SELECT DISTINCT 'strategy', mode || '/' || strategy, account FROM rpt_t WHERE in_range
    """)
    _run(store, """
        CREATE OR REPLACE TEMP TABLE rpt_base AS
        WITH c AS (SELECT sa.kind, sa.key, sum(c.capital) AS capital FROM rpt_sa sa JOIN rpt_cap c USING (account) GROUP BY ALL),
             p AS (SELECT kind, key, sum(net) AS prior FROM rpt_st WHERE NOT in_range GROUP BY ALL),
             s AS (SELECT DISTINCT kind, key FROM rpt_sa)
        SELECT s.kind, s.key, c.capital, coalesce(p.prior, 0) AS prior, c.capital + coalesce(p.prior, 0) AS base
        FROM s LEFT JOIN c USING (kind, key) LEFT JOIN p USING (kind, key)
    """)
    _run(store, """
        CREATE OR REPLACE TEMP TABLE rpt_daily AS
        WITH days AS (SELECT sa.kind, sa.key, d.day FROM rpt_sa sa JOIN rpt_d d USING (account) GROUP BY ALL),
        p AS (SELECT kind, key, day, sum(net) AS pnl, count(*) AS trades, count(*) FILTER (WHERE net > 0) AS wins,
                     count(*) FILTER (WHERE net < 0) AS losses, sum(costs) AS costs, sum(slip) AS slippage
              FROM rpt_st WHERE in_range GROUP BY ALL),
        s AS (SELECT days.kind, days.key, days.day, coalesce(p.pnl, 0) AS pnl, coalesce(p.trades, 0) AS trades,
                     coalesce(p.wins, 0) AS wins, coalesce(p.losses, 0) AS losses, coalesce(p.costs, 0) AS costs,
                     coalesce(p.slippage, 0) AS slippage, b.base
              FROM days LEFT JOIN p USING (kind, key, day) JOIN rpt_base b USING (kind, key)),
        e AS (SELECT *, base + sum(pnl) OVER w AS equity FROM s
              WINDOW w AS (PARTITION BY kind, key ORDER BY day ROWS UNBOUNDED PRECEDING)),
        k AS (SELECT *, greatest(base, max(equity) OVER w) AS peak FROM e
              WINDOW w AS (PARTITION BY kind, key ORDER BY day ROWS UNBOUNDED PRECEDING))
        SELECT *, equity - pnl AS start_equity, pnl / nullif(equity - pnl, 0) AS ret,
               equity - peak AS drawdown, (equity - peak) / nullif(peak, 0) AS drawdown_pct
        FROM k
    """)


def _collect(store: Queryable, filters: ReportFilters) -> Metrics:
    start, end = filters.start or FIRST_DAY, filters.end or LAST_DAY
    rf_daily = filters.risk_free / filters.periods_per_year
    annual = float(filters.periods_per_year) ** 0.5
    scopes = _rows(store, f"""
        WITH tr AS (
            SELECT kind, key, count(*) AS trades, count(*) FILTER (WHERE net > 0) AS wins,
                   count(*) FILTER (WHERE net < 0) AS losses, sum(net) AS net_pnl, sum(gross) AS gross_pnl,
                   sum(costs) AS costs, sum(slip) AS slippage, avg(slip) AS slippage_per_trade,
                   sum(net) FILTER (WHERE net > 0) AS gross_profit, sum(net) FILTER (WHERE net < 0) AS gross_loss,
                   avg(net) FILTER (WHERE net > 0) AS avg_win, avg(net) FILTER (WHERE net < 0) AS avg_loss,
                   avg(net) AS expectancy, avg(notional) AS avg_notional, max({SESSION_SECONDS_SQL}) AS session_seconds
            FROM rpt_st WHERE in_range GROUP BY ALL),
        dy AS (
            SELECT kind, key, count(*) AS days, min(day) AS first_day, max(day) AS last_day,
                   count(*) FILTER (WHERE trades = 0) AS days_without_trades,
                   avg(ret - {rf_daily!r}) AS mean_excess, stddev_samp(ret) AS sd,
                   sqrt(avg(power(least(ret - {rf_daily!r}, 0), 2))) AS downside,
                   arg_max(equity, day) AS final_equity
            FROM rpt_daily GROUP BY ALL),
        ranked AS (SELECT *, row_number() OVER (PARTITION BY kind, key ORDER BY drawdown, day) AS r,
                          sum(CASE WHEN drawdown >= 0 THEN 1 ELSE 0 END) OVER (PARTITION BY kind, key ORDER BY day ROWS UNBOUNDED PRECEDING) AS episode
                   FROM rpt_daily),
        trough AS (SELECT kind, key, day AS dd_trough, -drawdown AS max_drawdown, -drawdown_pct AS max_drawdown_pct, peak AS dd_peak, episode
                   FROM ranked WHERE r = 1 AND drawdown < 0),
        dd AS (SELECT t.kind, t.key, t.dd_trough, t.max_drawdown, t.max_drawdown_pct, t.dd_peak,
                      (SELECT min(x.day) FROM ranked x WHERE x.kind = t.kind AND x.key = t.key AND x.episode = t.episode AND x.drawdown < 0) AS dd_start,
                      (SELECT min(x.day) FROM ranked x WHERE x.kind = t.kind AND x.key = t.key AND x.day > t.dd_trough AND x.drawdown >= 0) AS dd_recovery
               FROM trough t),
        streak_rows AS (
            SELECT kind, key, sign(net) AS outcome,
                   row_number() OVER (PARTITION BY kind, key ORDER BY exit_ts, account, trade_id)
                   - row_number() OVER (PARTITION BY kind, key, sign(net) ORDER BY exit_ts, account, trade_id) AS grp
            FROM rpt_st WHERE in_range),
        streaks AS (
            SELECT kind, key, max(n) FILTER (WHERE outcome > 0) AS longest_win_streak, max(n) FILTER (WHERE outcome < 0) AS longest_loss_streak
            FROM (SELECT kind, key, outcome, grp, count(*) AS n FROM streak_rows GROUP BY ALL) GROUP BY ALL),
        held_rows AS (
            SELECT kind, key, entry_ts, exit_ts,
                   max(exit_ts) OVER (PARTITION BY kind, key ORDER BY entry_ts, exit_ts ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
            FROM rpt_st WHERE in_range),
        islands AS (
            SELECT kind, key, entry_ts, exit_ts,
                   sum(CASE WHEN prev_end IS NULL OR entry_ts > prev_end THEN 1 ELSE 0 END)
                       OVER (PARTITION BY kind, key ORDER BY entry_ts, exit_ts ROWS UNBOUNDED PRECEDING) AS island
            FROM held_rows),
        held AS (
            SELECT kind, key, sum(seconds) AS seconds_in_market FROM (
                SELECT kind, key, island, epoch(max(exit_ts)) - epoch(min(entry_ts)) AS seconds FROM islands GROUP BY ALL)
            GROUP BY ALL),
        flows AS (
            SELECT kind, key, entry_ts AS ts, 1 AS ord, notional AS v FROM rpt_st WHERE in_range
            UNION ALL SELECT kind, key, exit_ts, 0, -notional FROM rpt_st WHERE in_range),
        used AS (
            SELECT kind, key, max(open_notional) AS peak_notional FROM (
                SELECT kind, key, sum(v) OVER (PARTITION BY kind, key ORDER BY ts, ord ROWS UNBOUNDED PRECEDING) AS open_notional FROM flows)
            GROUP BY ALL)
        SELECT b.kind, b.key, b.capital, b.prior AS pnl_before_range, b.base AS starting_equity,
               coalesce(tr.trades, 0) AS trades, coalesce(tr.wins, 0) AS wins, coalesce(tr.losses, 0) AS losses,
               tr.wins / nullif(tr.trades, 0) AS win_rate, coalesce(tr.net_pnl, 0) AS net_pnl, coalesce(tr.gross_pnl, 0) AS gross_pnl,
               coalesce(tr.net_pnl, 0) / nullif(b.base, 0) AS total_return, dy.final_equity,
               tr.avg_win, tr.avg_loss, tr.gross_profit, tr.gross_loss,
               coalesce(tr.gross_profit, 0) / nullif(-tr.gross_loss, 0) AS profit_factor, tr.expectancy,
               coalesce(tr.costs, 0) AS costs, coalesce(tr.slippage, 0) AS slippage, tr.slippage_per_trade,
               dy.days, dy.days_without_trades, dy.first_day, dy.last_day,
               coalesce(tr.trades, 0) / nullif(dy.days, 0) AS trades_per_day,
               CASE WHEN dy.days >= 2 THEN dy.mean_excess / nullif(dy.sd, 0) * {annual!r} END AS sharpe,
               CASE WHEN dy.days >= 2 THEN dy.mean_excess / nullif(dy.downside, 0) * {annual!r} END AS sortino,
               coalesce(dd.max_drawdown, 0) AS max_drawdown, coalesce(dd.max_drawdown_pct, 0) AS max_drawdown_pct,
               dd.dd_peak AS drawdown_peak_equity, dd.dd_start AS drawdown_start, dd.dd_trough AS drawdown_trough,
               dd.dd_recovery AS drawdown_recovery,
               coalesce(held.seconds_in_market, 0) AS seconds_in_market,
               coalesce(held.seconds_in_market, 0) / nullif(dy.days * coalesce(tr.session_seconds, 22500), 0) AS exposure,
               tr.avg_notional, used.peak_notional, used.peak_notional / nullif(b.base, 0) AS capital_use,
               tr.avg_notional / nullif(b.base, 0) AS avg_capital_use,
               coalesce(streaks.longest_win_streak, 0) AS longest_win_streak,
               coalesce(streaks.longest_loss_streak, 0) AS longest_loss_streak
        FROM rpt_base b LEFT JOIN tr USING (kind, key) LEFT JOIN dy USING (kind, key) LEFT JOIN dd USING (kind, key)
        LEFT JOIN streaks USING (kind, key) LEFT JOIN held USING (kind, key) LEFT JOIN used USING (kind, key)
        WHERE dy.days IS NOT NULL OR tr.trades IS NOT NULL
        ORDER BY CASE b.kind WHEN 'overall' THEN 0 WHEN 'account' THEN 1 ELSE 2 END, b.key
    """)
    fills = _fill_rates(store, filters, start, end)
    for scope in scopes:
        scope["mode"] = scope["key"].split("/")[0] if scope["kind"] == "strategy" else (
            scope["key"] if scope["kind"] == "overall" else ("paper" if scope["key"].startswith("paper:") else "live"))
        scope["strategy"] = scope["key"].split("/", 1)[1] if scope["kind"] == "strategy" else None
        scope["account"] = scope["key"] if scope["kind"] == "account" else None
        scope.update(fills.get((scope["kind"], scope["key"]), {"orders": 0, "orders_filled": 0, "fill_rate": None, "quantity_fill_rate": None}))
    days = _rows(store, """
        SELECT kind, key, day, trades, wins, losses, pnl AS net_pnl, costs, slippage, start_equity, equity, ret AS return,
               drawdown, drawdown_pct FROM rpt_daily ORDER BY kind, key, day
    """)
    months = _rows(store, """
        SELECT kind, key, strftime(date_trunc('month', day), '%Y-%m') AS month, count(*) AS days, sum(trades) AS trades,
               sum(wins) AS wins, sum(losses) AS losses, sum(pnl) AS net_pnl, sum(costs) AS costs,
               arg_min(start_equity, day) AS start_equity, arg_max(equity, day) AS equity,
               sum(pnl) / nullif(arg_min(start_equity, day), 0) AS return, min(drawdown_pct) AS worst_drawdown_pct
        FROM rpt_daily GROUP BY ALL ORDER BY kind, key, month
    """)
    exits = _rows(store, """
        SELECT mode, strategy, exit_reason, count(*) AS trades, count(*) FILTER (WHERE net > 0) AS wins,
               sum(net) AS net_pnl, avg(net) AS avg_pnl, sum(slip) AS slippage, avg(slip) AS slippage_per_trade
        FROM rpt_t WHERE in_range GROUP BY ALL ORDER BY mode, strategy, trades DESC, exit_reason
    """)
    blocks = _blocks(store, filters, start, end)
    accounts = _rows(store, """
        SELECT account, mode, first_day, capital, first_day_from_journal, tz FROM rpt_cap
        WHERE account IN (SELECT account FROM rpt_d) ORDER BY account
    """)
    return Metrics(scopes=scopes, days=days, months=months, exit_reasons=exits, blocks=blocks, accounts=accounts)


def _fill_rates(store: Queryable, filters: ReportFilters, start: date, end: date) -> dict[tuple[str, str], dict[str, Any]]:
    """Entry and exit orders (market and limit; protective stops are insurance, not attempts) that got any fill."""
    where, params = _where(filters)
    rows = _rows(store, f"""
        WITH o AS (
            SELECT account, {MODE_SQL} AS mode, coalesce(strategy, '') AS strategy, quantity, filled_quantity
            FROM orders
            WHERE order_type IN ('MARKET', 'LIMIT') AND {where}
              AND CAST(timezone({TZ_SQL}, created_at) AS DATE) BETWEEN ? AND ?),
        s AS (SELECT 'overall' AS kind, mode AS key, * FROM o UNION ALL SELECT 'account', account, * FROM o
              UNION ALL SELECT 'strategy', mode || '/' || strategy, * FROM o)
        SELECT kind, key, count(*) AS orders, count(*) FILTER (WHERE filled_quantity > 0) AS orders_filled,
               count(*) FILTER (WHERE filled_quantity > 0) / count(*) AS fill_rate,
               sum(filled_quantity) / nullif(sum(quantity), 0) AS quantity_fill_rate
        FROM s GROUP BY ALL
    """, [*params, start, end])
    return {(r.pop("kind"), r.pop("key")): r for r in rows}


def _blocks(store: Queryable, filters: ReportFilters, start: date, end: date) -> list[dict[str, Any]]:
    """Blocked signals per strategy and rule (counts from the projection), with the latest reason from the journal."""
    where, params = _where(filters)
    return _rows(store, f"""
        WITH b AS (SELECT {MODE_SQL} AS mode, strategy, rule, sum(count) AS count FROM blocks
                   WHERE {where} AND day BETWEEN ? AND ? GROUP BY ALL),
        e AS (SELECT {MODE_SQL} AS mode, json_extract_string(payload, '$.strategy') AS strategy,
                     json_extract_string(payload, '$.rule') AS rule,
                     arg_max(json_extract_string(payload, '$.reason'), seq) AS latest_reason
              FROM events WHERE type = 'SignalBlocked' GROUP BY ALL)
        SELECT b.mode, b.strategy, b.rule, b.count, e.latest_reason FROM b
        LEFT JOIN e ON e.mode = b.mode AND e.strategy = b.strategy AND e.rule = b.rule
        ORDER BY b.mode, b.strategy, b.count DESC, b.rule
    """, [*params, start, end])
