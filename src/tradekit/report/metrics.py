"""Performance metrics computed in DuckDB from the store, never with a loop over trades.

Everything is set-based. The trades are aggregated once down to (account,
strategy, day); every *scope* (overall per mode, per account, per strategy)
and every daily, monthly and drawdown figure is rolled up from that small
table with GROUPING SETS and windows over days. Only the win/loss streaks
read the trades in exit order (one sorted window pass per kind of scope).
The result rows (one per scope, day or month) come back to Python only to
be shaped for output. docs/performance.md has the figures over a million
trades.

Definitions (docs/reporting.md explains them for traders):

* A trade's **day** is the exchange-local date of its exit (IST for accounts
  trading Indian instruments, UTC-5 otherwise: the New York date at any
  hour US markets trade).
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

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

INDIA_EXCHANGES = ("NSE", "NFO", "BSE", "BFO", "MCX", "CDS", "BCD")
TZ_SQL = (
    "CASE WHEN split_part(instrument_id, ':', 1) IN ("
    + ", ".join(f"'{e}'" for e in INDIA_EXCHANGES)
    + ") THEN 'Asia/Kolkata' ELSE 'America/New_York' END"
)
"""The exchange time zone of an instrument id, from its exchange prefix."""


def mode_sql(column: str = "account") -> str:
    """paper or live, from the account prefix."""
    return f"CASE WHEN {column} LIKE 'paper:%' THEN 'paper' ELSE 'live' END"


MODE_SQL = mode_sql()

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


def _where(filters: ReportFilters, *, strategy_column: str | None = "strategy", account_column: str = "account") -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    clause, extra = _in(account_column, filters.accounts)
    parts.append(clause)
    params += extra
    if strategy_column is not None:
        clause, extra = _in(f"coalesce({strategy_column}, '')", filters.strategies)
        parts.append(clause)
        params += extra
    if filters.mode is not None:
        parts.append(f"{mode_sql(account_column)} = ?")
        params.append(filters.mode)
    return " AND ".join(parts), params


def _rows(store: Queryable, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    columns, rows = store.query_with_columns(sql, params)
    return [dict(zip(columns, row)) for row in rows]


def _run(store: Queryable, sql: str, params: Sequence[Any] = ()) -> None:
    store.query_with_columns(sql, params)


TEMP_TABLES = ("rpt_cap", "rpt_g", "rpt_sn", "rpt_o", "rpt_d", "rpt_sa", "rpt_base", "rpt_pd", "rpt_daily")

# Every scope from one small table: GROUPING SETS over the (account, strategy, day, exit reason) aggregates.
SCOPE_SETS = "GROUPING SETS ((mode), (mode, account), (mode, strategy))"
SCOPE_KIND = "CASE grouping(account, strategy) WHEN 3 THEN 'overall' WHEN 1 THEN 'account' ELSE 'strategy' END"
SCOPE_KEY = "CASE grouping(account, strategy) WHEN 3 THEN mode WHEN 1 THEN account ELSE mode || '/' || strategy END"


def compute(store: Queryable, filters: ReportFilters) -> Metrics:
    """All metrics for ``filters`` from the store's tables (temporary tables, dropped afterwards).

    The million-row work is three passes over ``trades``: one hash
    aggregation down to (account, strategy, day, exit reason), which every
    sum, count, average, daily series and drawdown is rolled up from; one
    narrow copy for the win/loss streaks, which need the trades in exit
    order; and the per-(account, strategy) order counts for fill rates.
    """
    try:
        _prepare(store, filters)
        return _collect(store, filters)
    finally:
        for table in TEMP_TABLES:
            _run(store, f"DROP TABLE IF EXISTS temp.{table}")


def _day_sql(column: str, india: Sequence[str]) -> tuple[str, list[Any]]:
    """The exchange-local date of ``column``: IST (+05:30) for the accounts trading Indian instruments, UTC-5 for the rest."""
    if india:
        offset = f"CASE WHEN account IN ({', '.join('?' * len(india))}) THEN 19800 ELSE -18000 END"
        params: list[Any] = list(india)
    else:
        offset, params = "-18000", []
    return f"DATE '1970-01-01' + CAST((epoch_ms({column}) // 1000 + {offset}) // 86400 AS INTEGER)", params


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
        m AS (SELECT account, {TZ_SQL} AS tz FROM (SELECT account, arg_min(instrument_id, entry_ts) AS instrument_id FROM trades GROUP BY account)),
        a AS (SELECT account FROM j UNION SELECT account FROM d UNION SELECT account FROM m)
        SELECT a.account, {mode_sql('a.account')} AS mode,
               coalesce(j.first_day, d.first_day) AS first_day, coalesce(j.capital, d.capital) AS capital,
               j.account IS NOT NULL AS first_day_from_journal, m.tz,
               CASE WHEN m.tz = 'America/New_York' THEN -18000 ELSE 19800 END AS utc_offset_s,
               CASE WHEN m.tz = 'America/New_York' THEN 23400 ELSE 22500 END AS session_s,
               CAST(row_number() OVER (ORDER BY a.account) AS USMALLINT) AS account_no
        FROM a LEFT JOIN j ON j.account = a.account LEFT JOIN d ON d.account = a.account
        LEFT JOIN m ON m.account = a.account
    """)
    accounts = [row["account"] for row in _rows(store, "SELECT account FROM rpt_cap ORDER BY account_no")]
    india = [row["account"] for row in _rows(store, "SELECT account FROM rpt_cap WHERE utc_offset_s > 0 ORDER BY account")]
    day, day_params = _day_sql("exit_ts", india)
    where, params = _where(filters)
    # Pass 1: everything summable, down to (account, strategy, day).
    _run(store, f"""
        CREATE OR REPLACE TEMP TABLE rpt_g AS
        SELECT account, strategy, day, day >= ? AS in_range, count(*) AS trades,
               count(*) FILTER (WHERE net > 0) AS wins, count(*) FILTER (WHERE net < 0) AS losses,
               sum(net) AS pnl, sum(gross) AS gross, sum(costs) AS costs, sum(slip) AS slippage,
               sum(net) FILTER (WHERE net > 0) AS gross_profit, sum(net) FILTER (WHERE net < 0) AS gross_loss,
               sum(notional) AS notional_sum, max(notional) AS max_notional, sum(held_s) AS held_s,
               sum(held_s * notional) AS notional_seconds
        FROM (SELECT account, coalesce(strategy, '') AS strategy, {day} AS day,
                     CAST(net_pnl AS DOUBLE) AS net, CAST(gross_pnl AS DOUBLE) AS gross, CAST(costs AS DOUBLE) AS costs,
                     CAST(slippage AS DOUBLE) AS slip, CAST(entry_price AS DOUBLE) * quantity AS notional,
                     (epoch_ms(exit_ts) - epoch_ms(entry_ts)) / 1000.0 AS held_s
              FROM trades WHERE {where})
        WHERE day <= ?
        GROUP BY ALL
    """, [start, *day_params, *params, end])
    _run(store, """
        CREATE OR REPLACE TEMP TABLE rpt_sn AS
        SELECT strategy, CAST(row_number() OVER (ORDER BY strategy) AS USMALLINT) AS strategy_no
        FROM (SELECT DISTINCT strategy FROM rpt_g)
    """)
    strategies = [row["strategy"] for row in _rows(store, "SELECT strategy FROM rpt_sn ORDER BY strategy_no")]
    o_filter, o_params = _day_filter(store, filters, "exit_ts", start, end)
    # Pass 2: the trades in range, narrow and with small integer ids, for the streaks
    # (sorting a million rows on narrow integer keys is several times faster than on text).
    _run(store, f"""
        CREATE OR REPLACE TEMP TABLE rpt_o AS
        SELECT CAST(account LIKE 'paper:%' AS UTINYINT) AS mode_no,
               CAST(list_position(?::VARCHAR[], account) AS USMALLINT) AS account_no,
               CAST(list_position(?::VARCHAR[], coalesce(strategy, '')) AS USMALLINT) AS strategy_no,
               CAST(epoch_ms(exit_ts) // 1000 AS UINTEGER) AS exit_s, CAST(rowid AS UINTEGER) AS rid,
               CAST(sign(net_pnl) AS TINYINT) AS outcome
        FROM trades WHERE {where} {o_filter}
    """, [accounts or [""], strategies or [""], *params, *o_params])
    # Trading days of each account in range: recorded days plus any day a trade closed.
    where_d, params_d = _where(filters, strategy_column=None)
    only_traded = "AND account IN (SELECT DISTINCT account FROM rpt_g)" if filters.strategies else ""
    _run(store, f"""
        CREATE OR REPLACE TEMP TABLE rpt_d AS
        SELECT account, {MODE_SQL} AS mode, day FROM accounts_daily
        WHERE {where_d} AND day BETWEEN ? AND ? {only_traded}
        UNION SELECT DISTINCT account, {MODE_SQL} AS mode, day FROM rpt_g WHERE in_range
    """, [*params_d, start, end])
    _run(store, f"""
        CREATE OR REPLACE TEMP TABLE rpt_pd AS
        SELECT {SCOPE_KIND} AS kind, {SCOPE_KEY} AS key, day, in_range, sum(pnl) AS pnl, sum(trades) AS trades,
               sum(wins) AS wins, sum(losses) AS losses, sum(costs) AS costs, sum(slippage) AS slippage
        FROM (SELECT *, {MODE_SQL} AS mode FROM rpt_g)
        GROUP BY GROUPING SETS ((mode, day, in_range), (mode, account, day, in_range), (mode, strategy, day, in_range))
    """)
    _run(store, f"""
        CREATE OR REPLACE TEMP TABLE rpt_sa AS
        SELECT DISTINCT 'overall' AS kind, mode AS key, account FROM rpt_d
        UNION SELECT DISTINCT 'account', account, account FROM rpt_d
        UNION SELECT DISTINCT 'strategy', {MODE_SQL} || '/' || strategy, account FROM rpt_g WHERE in_range
    """)
    _run(store, """
        CREATE OR REPLACE TEMP TABLE rpt_base AS
        WITH c AS (SELECT sa.kind, sa.key, sum(c.capital) AS capital FROM rpt_sa sa JOIN rpt_cap c USING (account) GROUP BY ALL),
             p AS (SELECT kind, key, sum(pnl) AS prior FROM rpt_pd WHERE NOT in_range GROUP BY ALL),
             s AS (SELECT DISTINCT kind, key FROM rpt_sa)
        SELECT s.kind, s.key, c.capital, coalesce(p.prior, 0) AS prior, c.capital + coalesce(p.prior, 0) AS base
        FROM s LEFT JOIN c USING (kind, key) LEFT JOIN p USING (kind, key)
    """)
    _run(store, """
        CREATE OR REPLACE TEMP TABLE rpt_daily AS
        WITH days AS (SELECT sa.kind, sa.key, d.day FROM rpt_sa sa JOIN rpt_d d USING (account) GROUP BY ALL),
        p AS (SELECT * FROM rpt_pd WHERE in_range),
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


def _streaks_sql() -> str:
    """Longest runs of wins and losses in exit order, per scope.

    One sorted pass per kind of scope, on narrow integer keys (scope id,
    exit second, row id) and without PARTITION BY (DuckDB sorts one big
    ordered window much faster than a few huge partitions): ``lag`` marks
    the first trade of every run (a new scope or a changed outcome), and a
    run's length is the gap to the next start.
    """
    passes = []
    for kind, ids in (("overall", ["mode_no"]), ("account", ["account_no"]), ("strategy", ["mode_no", "strategy_no"])):
        order = ", ".join([*ids, "exit_s", "rid"])
        changed = " OR ".join(f"lag({c}) OVER w <> {c}" for c in ids)
        passes.append(f"""
            SELECT '{kind}' AS kind, mode_no, account_no, strategy_no, outcome,
                   coalesce(lead(rn) OVER (ORDER BY rn), (SELECT count(*) FROM rpt_o) + 1) - rn AS length
            FROM (
                SELECT {'mode_no' if kind != 'account' else 'NULL::UTINYINT AS mode_no'},
                       {'account_no' if kind == 'account' else 'NULL::USMALLINT AS account_no'},
                       {'strategy_no' if kind == 'strategy' else 'NULL::USMALLINT AS strategy_no'},
                       outcome, row_number() OVER w AS rn,
                       row_number() OVER w = 1 OR {changed} OR lag(outcome) OVER w <> outcome AS starts
                FROM rpt_o
                WINDOW w AS (ORDER BY {order}))
            WHERE starts""")
    runs = " UNION ALL ".join(passes)
    return f"""
        streak_runs AS (
            SELECT kind, mode_no, account_no, strategy_no, max(length) FILTER (WHERE outcome > 0) AS longest_win_streak,
                   max(length) FILTER (WHERE outcome < 0) AS longest_loss_streak
            FROM ({runs}) GROUP BY ALL),
        streaks AS (
            SELECT x.kind,
                   CASE x.kind WHEN 'overall' THEN m.mode WHEN 'account' THEN c.account ELSE m.mode || '/' || n.strategy END AS key,
                   x.longest_win_streak, x.longest_loss_streak
            FROM streak_runs x
            LEFT JOIN (VALUES (0, 'live'), (1, 'paper')) m(mode_no, mode) ON m.mode_no = x.mode_no
            LEFT JOIN rpt_cap c ON c.account_no = x.account_no
            LEFT JOIN rpt_sn n ON n.strategy_no = x.strategy_no)"""


def _collect(store: Queryable, filters: ReportFilters) -> Metrics:
    start, end = filters.start or FIRST_DAY, filters.end or LAST_DAY
    rf_daily = filters.risk_free / filters.periods_per_year
    annual = float(filters.periods_per_year) ** 0.5
    scopes = _rows(store, f"""
        WITH tr AS (
            SELECT {SCOPE_KIND} AS kind, {SCOPE_KEY} AS key, sum(trades) AS trades, sum(wins) AS wins, sum(losses) AS losses,
                   sum(pnl) AS net_pnl, sum(gross) AS gross_pnl, sum(costs) AS costs, sum(slippage) AS slippage,
                   sum(slippage) / sum(trades) AS slippage_per_trade,
                   sum(gross_profit) AS gross_profit, sum(gross_loss) AS gross_loss,
                   sum(gross_profit) / nullif(sum(wins), 0) AS avg_win, sum(gross_loss) / nullif(sum(losses), 0) AS avg_loss,
                   sum(pnl) / sum(trades) AS expectancy, sum(notional_sum) / sum(trades) AS avg_notional,
                   max(max_notional) AS max_notional, sum(held_s) AS seconds_in_market,
                   sum(notional_seconds) AS notional_seconds, max(session_s) AS session_seconds
            FROM (SELECT g.*, c.mode, c.session_s FROM rpt_g g JOIN rpt_cap c USING (account) WHERE g.in_range)
            GROUP BY {SCOPE_SETS}),
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
        {_streaks_sql()}
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
               coalesce(tr.seconds_in_market, 0) AS seconds_in_market,
               coalesce(tr.seconds_in_market, 0) / nullif(dy.days * coalesce(tr.session_seconds, 22500), 0) AS exposure,
               tr.notional_seconds / nullif(dy.days * coalesce(tr.session_seconds, 22500), 0) AS avg_notional_in_use,
               tr.notional_seconds / nullif(dy.days * coalesce(tr.session_seconds, 22500), 0) / nullif(b.base, 0) AS capital_use,
               tr.avg_notional, tr.max_notional, tr.max_notional / nullif(b.base, 0) AS max_position_share,
               coalesce(streaks.longest_win_streak, 0) AS longest_win_streak,
               coalesce(streaks.longest_loss_streak, 0) AS longest_loss_streak
        FROM rpt_base b LEFT JOIN tr USING (kind, key) LEFT JOIN dy USING (kind, key) LEFT JOIN dd USING (kind, key)
        LEFT JOIN streaks USING (kind, key)
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
    exits = _exit_reasons(store, filters, start, end)
    blocks = _blocks(store, filters, start, end)
    accounts = _rows(store, """
        SELECT account, mode, first_day, capital, first_day_from_journal, tz FROM rpt_cap
        WHERE account IN (SELECT account FROM rpt_d) ORDER BY account
    """)
    return Metrics(scopes=scopes, days=days, months=months, exit_reasons=exits, blocks=blocks, accounts=accounts)


def _exit_reasons(store: Queryable, filters: ReportFilters, start: date, end: date) -> list[dict[str, Any]]:
    """Per strategy and exit reason: how the trades ended, what they made and what slippage they paid."""
    where, params = _where(filters)
    day_filter, day_params = _day_filter(store, filters, "exit_ts", start, end)
    return _rows(store, f"""
        WITH r AS (
            SELECT account, coalesce(strategy, '') AS strategy, coalesce(exit_reason, '') AS exit_reason, count(*) AS trades,
                   count(*) FILTER (WHERE net_pnl > 0) AS wins, sum(CAST(net_pnl AS DOUBLE)) AS net_pnl,
                   sum(CAST(slippage AS DOUBLE)) AS slippage
            FROM trades WHERE {where} {day_filter} GROUP BY ALL)
        SELECT {MODE_SQL} AS mode, strategy, exit_reason, sum(trades) AS trades, sum(wins) AS wins, sum(net_pnl) AS net_pnl,
               sum(net_pnl) / sum(trades) AS avg_pnl, sum(slippage) AS slippage, sum(slippage) / sum(trades) AS slippage_per_trade
        FROM r GROUP BY ALL ORDER BY mode, strategy, trades DESC, exit_reason
    """, [*params, *day_params])


def _day_filter(store: Queryable, filters: ReportFilters, column: str, start: date, end: date) -> tuple[str, list[Any]]:
    """``AND <local day of column> BETWEEN start AND end``, or nothing (and no per-row date arithmetic) without --from/--to."""
    if filters.start is None and filters.end is None:
        return "", []
    india = [row["account"] for row in _rows(store, "SELECT account FROM rpt_cap WHERE utc_offset_s > 0")]
    day, params = _day_sql(column, india)
    return f"AND {day} BETWEEN ? AND ?", [*params, start, end]


def _fill_rates(store: Queryable, filters: ReportFilters, start: date, end: date) -> dict[tuple[str, str], dict[str, Any]]:
    """Entry and exit orders (market and limit; protective stops are insurance, not attempts) that got any fill."""
    where, params = _where(filters)
    day_filter, day_params = _day_filter(store, filters, "created_at", start, end)
    rows = _rows(store, f"""
        WITH o AS (
            SELECT account, coalesce(strategy, '') AS strategy, count(*) AS orders,
                   count(*) FILTER (WHERE filled_quantity > 0) AS filled, sum(quantity) AS quantity,
                   sum(filled_quantity) AS filled_quantity
            FROM orders WHERE order_type IN ('MARKET', 'LIMIT') AND {where} {day_filter}
            GROUP BY ALL)
        SELECT {SCOPE_KIND} AS kind, {SCOPE_KEY} AS key, sum(orders) AS orders, sum(filled) AS orders_filled,
               sum(filled) / sum(orders) AS fill_rate, sum(filled_quantity) / nullif(sum(quantity), 0) AS quantity_fill_rate
        FROM (SELECT *, {MODE_SQL} AS mode FROM o) GROUP BY {SCOPE_SETS}
    """, [*params, *day_params])
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
