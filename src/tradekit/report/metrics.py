"""Performance metrics computed in DuckDB from the store, never with a loop over trades.

Everything is set-based. The store's per-day trade summary
(``trades_daily``, store/trades_daily.py) is aggregated down to (account,
strategy, day) (the trades themselves only when an account traded on two
markets' times); every *scope* (overall per mode and currency, per account,
per strategy) and every daily, monthly and drawdown figure is rolled up from
that small table with GROUPING SETS and windows over days. Only the win/loss
streaks need the trades in exit order: DuckDB sorts them once and
``streaks.longest_runs`` counts the runs of every scope in vectorised passes;
that and the fill rates (over the orders) run on a second and third
connection in threads while the first rolls up the rest. The result rows
(one per scope, day or month) come back to Python only to be shaped for
output. docs/performance.md has the figures over a million
trades.

Definitions (docs/reporting.md explains them for traders):

* A trade's **day** is the exchange-local date of its exit (IST for accounts
  trading Indian instruments, UTC-5 otherwise: the New York date at any
  hour US markets trade).
* **paper** and **live** are never mixed: the top-level scope is the mode,
  taken from the account prefix (``paper:<name>`` is paper, anything else live).
* **Money is never added across currencies**: every scope that spans
  accounts (the mode as a whole, a strategy) is per currency, so
  ``paper:default`` (INR) and ``paper:us`` (USD) give two overall rows,
  ``paper`` INR and ``paper`` USD. An account's currency follows the exchange
  of the instruments it traded (Indian exchanges INR, else USD); an account
  that never traded anything takes it from ``currencies`` (the paper venue's
  own file says), or from its broker (zerodha, angelone: INR), else ``?``,
  which is still kept apart from every other currency.
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

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

import numpy as np

from tradekit.report.streaks import longest_runs
from tradekit.report.accounts import UNKNOWN_CURRENCY, build_accounts as _accounts
from tradekit.report.query import (
    FIRST_DAY,
    LAST_DAY,
    MODE_SQL,
    Queryable,
    ReportFilters,
    execute as _run,
    fetch_rows as _rows,
    where_clause as _where,
)

T = TypeVar("T")

@dataclass
class Metrics:
    """The raw result: lists of plain dicts, ready for JSON, tables and charts.

    A scope is identified by ``(kind, key, currency)``: ``key`` is the mode
    (``paper``), the account or ``mode/strategy``.
    """

    scopes: list[dict[str, Any]] = field(default_factory=list)
    days: list[dict[str, Any]] = field(default_factory=list)
    months: list[dict[str, Any]] = field(default_factory=list)
    exit_reasons: list[dict[str, Any]] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)


TEMP_TABLES = ("rpt_inst", "rpt_cap", "rpt_g", "rpt_sn", "rpt_d", "rpt_sa", "rpt_base", "rpt_pd", "rpt_daily")

# Every scope from one small table: GROUPING SETS over the (account, strategy, day) aggregates, always per currency.
SCOPE_SETS = "GROUPING SETS ((mode, currency), (mode, currency, account), (mode, currency, strategy))"
SCOPE_KIND = "CASE grouping(account, strategy) WHEN 3 THEN 'overall' WHEN 1 THEN 'account' ELSE 'strategy' END"
SCOPE_KEY = "CASE grouping(account, strategy) WHEN 3 THEN mode WHEN 1 THEN account ELSE mode || '/' || strategy END"


def compute(store: Queryable, filters: ReportFilters, *, currencies: Mapping[str, str] | None = None) -> Metrics:
    """All metrics for ``filters`` from the store's tables (temporary tables, dropped afterwards).

    ``currencies`` names the currency of accounts the store cannot tell
    (no trade, order or position yet), e.g. from the paper venue's file.
    The million-row work is one sort of ``trades`` in exit order for the
    win/loss streaks and the per-(account, strategy) order counts for fill
    rates, both in ``pool`` threads on their own cursors; every sum, count,
    average, daily series, drawdown and exit reason rolls up from
    ``trades_daily`` (a few ten thousand rows for a million trades).
    """
    start, end = filters.start or FIRST_DAY, filters.end or LAST_DAY
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="report") as pool:
        try:
            usable = _prepare(store, filters, currencies or {})
            # The two scans that need no temporary table run on their own connections while this one
            # rolls everything else up (DuckDB releases the GIL while it runs a query).
            accounts = _rows(store, "SELECT account, account_no, group_no, mode, currency FROM rpt_cap ORDER BY account_no")
            strategies = _rows(store, "SELECT strategy, strategy_no FROM rpt_sn ORDER BY strategy_no")
            fills = _side(pool, store, _fill_rates, _fill_rates_sql(store, filters, start, end, accounts))
            streaks = _side(pool, store, lambda connection, sql, params: _streaks(_fetch_numpy(connection, sql, params), accounts, strategies),
                            _streaks_sql(store, filters, start, end, accounts, strategies))  # fmt: skip
            _rest(store, filters, start, end)
            return _collect(store, filters, usable, fills, streaks)
        finally:
            for table in TEMP_TABLES:
                _run(store, f"DROP TABLE IF EXISTS temp.{table}")


def _side(pool: ThreadPoolExecutor, store: Queryable, fetch: Callable[[Any, str, list[Any]], T],
          query: tuple[str, list[Any]] | None) -> Future[T | None]:
    """Run ``fetch(connection, sql, params)`` in ``pool`` on a cursor of the store (closed after); None for no query."""
    if query is None:
        done: Future[T | None] = Future()
        done.set_result(None)
        return done
    sql, params = query
    cursor = store.cursor()

    def run() -> T:
        try:
            return fetch(cursor, sql, params)
        finally:
            cursor.close()

    return pool.submit(run)


def _fetch_numpy(connection: Any, sql: str, params: list[Any]) -> dict[str, Any]:
    return connection.execute(sql, params).fetchnumpy()  # type: ignore[no-any-return]


def _fetch_rows(connection: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    result = connection.execute(sql, params)
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, row)) for row in result.fetchall()]


def _day_sql(column: str, india: Sequence[str], others: bool = True) -> tuple[str, list[Any]]:
    """The exchange-local date of ``column``: IST (+05:30) for the accounts trading Indian instruments, UTC-5 for the rest.

    With accounts of one market only (``others`` False: every account is in ``india``) the offset is a constant,
    which spares a string comparison per trade.
    """
    if india and others:
        offset = f"CASE WHEN account IN ({', '.join('?' * len(india))}) THEN 19800 ELSE -18000 END"
        params: list[Any] = list(india)
    else:
        offset, params = ("19800" if india else "-18000"), []
    return f"DATE '1970-01-01' + CAST((epoch_ms({column}) // 1000 + {offset}) // 86400 AS INTEGER)", params


def _offsets(store: Queryable) -> tuple[list[str], bool]:
    """The accounts on Indian time, and whether any account is not."""
    rows = _rows(store, "SELECT account, utc_offset_s > 0 AS india FROM rpt_cap ORDER BY account")
    return [r["account"] for r in rows if r["india"]], any(not r["india"] for r in rows)


def summary_usable(store: Queryable) -> bool:
    """Whether ``trades_daily`` days are the report's days: every account's trades are all on one market's time.

    The summary dates a trade by its own instrument's market, the report by its account's; they differ only for an
    account that traded on both Indian and US exchanges, whose trades are then aggregated from ``trades``.
    """
    mixed = _rows(store, "SELECT account FROM trades_daily GROUP BY account HAVING count(DISTINCT india) > 1 LIMIT 1")
    return not mixed


def _prepare(store: Queryable, filters: ReportFilters, currencies: Mapping[str, str]) -> bool:
    """The temporary tables every figure is read from; returns whether ``trades_daily`` could stand for the trades."""
    start, end = filters.start or FIRST_DAY, filters.end or LAST_DAY
    _accounts(store, currencies)
    where, params = _where(filters)
    usable = summary_usable(store)
    # Pass 1: everything summable, down to (account, strategy, day): from the store's per-day summary
    # (exact decimal sums, a few ten thousand rows), or from the trades themselves.
    if usable:
        _run(store, f"""
            CREATE OR REPLACE TEMP TABLE rpt_g AS
            SELECT account, strategy, day, day >= ? AS in_range, CAST(sum(trades) AS BIGINT) AS trades,
                   CAST(sum(wins) AS BIGINT) AS wins, CAST(sum(losses) AS BIGINT) AS losses,
                   CAST(sum(net_pnl) AS DOUBLE) AS pnl, CAST(sum(gross_pnl) AS DOUBLE) AS gross,
                   CAST(sum(costs) AS DOUBLE) AS costs, CAST(sum(slippage) AS DOUBLE) AS slippage,
                   CASE WHEN sum(wins) > 0 THEN CAST(sum(gross_profit) AS DOUBLE) END AS gross_profit,
                   CASE WHEN sum(losses) > 0 THEN CAST(sum(gross_loss) AS DOUBLE) END AS gross_loss,
                   CAST(sum(notional) AS DOUBLE) AS notional_sum, CAST(max(max_notional) AS DOUBLE) AS max_notional,
                   sum(held_ms) / 1000.0 AS held_s, CAST(sum(notional_ms) AS DOUBLE) / 1000.0 AS notional_seconds
            FROM trades_daily WHERE {where} AND day <= ?
            GROUP BY account, strategy, day
        """, [start, *params, end])
    else:
        _aggregate_trades(store, filters, start, end)
    _run(store, """
        CREATE OR REPLACE TEMP TABLE rpt_sn AS
        SELECT strategy, CAST(row_number() OVER (ORDER BY strategy) AS USMALLINT) AS strategy_no
        FROM (SELECT DISTINCT strategy FROM rpt_g)
    """)
    return usable


def _aggregate_trades(store: Queryable, filters: ReportFilters, start: date, end: date) -> None:
    """rpt_g from the trades themselves, each dated by its account's market."""
    day, day_params = _day_sql("exit_ts", *_offsets(store))
    where, params = _where(filters)
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


def _rest(store: Queryable, filters: ReportFilters, start: date, end: date) -> None:
    # Trading days of each account in range: recorded days plus any day a trade closed.
    where_d, params_d = _where(filters, strategy_column=None)
    only_traded = "AND account IN (SELECT DISTINCT account FROM rpt_g)" if filters.strategies else ""
    _run(store, f"""
        CREATE OR REPLACE TEMP TABLE rpt_d AS
        SELECT account, day FROM accounts_daily WHERE {where_d} AND day BETWEEN ? AND ? {only_traded}
        UNION SELECT DISTINCT account, day FROM rpt_g WHERE in_range
    """, [*params_d, start, end])
    _run(store, f"""
        CREATE OR REPLACE TEMP TABLE rpt_pd AS
        SELECT {SCOPE_KIND} AS kind, {SCOPE_KEY} AS key, currency, day, in_range, sum(pnl) AS pnl, sum(trades) AS trades,
               sum(wins) AS wins, sum(losses) AS losses, sum(costs) AS costs, sum(slippage) AS slippage
        FROM (SELECT g.*, c.mode, c.currency FROM rpt_g g JOIN rpt_cap c USING (account))
        GROUP BY GROUPING SETS ((mode, currency, day, in_range), (mode, currency, account, day, in_range),
                                (mode, currency, strategy, day, in_range))
    """)
    _run(store, """
        CREATE OR REPLACE TEMP TABLE rpt_sa AS
        WITH d AS (SELECT DISTINCT d.account, c.mode, c.currency FROM rpt_d d JOIN rpt_cap c USING (account))
        SELECT 'overall' AS kind, mode AS key, currency, account FROM d
        UNION ALL SELECT 'account', account, currency, account FROM d
        UNION SELECT DISTINCT 'strategy', c.mode || '/' || g.strategy, c.currency, g.account
        FROM rpt_g g JOIN rpt_cap c USING (account) WHERE g.in_range
    """)
    _run(store, """
        CREATE OR REPLACE TEMP TABLE rpt_base AS
        WITH c AS (SELECT sa.kind, sa.key, sa.currency, sum(c.capital) AS capital
                   FROM rpt_sa sa JOIN rpt_cap c USING (account) GROUP BY ALL),
             p AS (SELECT kind, key, currency, sum(pnl) AS prior FROM rpt_pd WHERE NOT in_range GROUP BY ALL),
             s AS (SELECT DISTINCT kind, key, currency FROM rpt_sa)
        SELECT s.kind, s.key, s.currency, c.capital, coalesce(p.prior, 0) AS prior, c.capital + coalesce(p.prior, 0) AS base
        FROM s LEFT JOIN c USING (kind, key, currency) LEFT JOIN p USING (kind, key, currency)
    """)
    _run(store, """
        CREATE OR REPLACE TEMP TABLE rpt_daily AS
        WITH days AS (SELECT sa.kind, sa.key, sa.currency, d.day FROM rpt_sa sa JOIN rpt_d d USING (account) GROUP BY ALL),
        p AS (SELECT * FROM rpt_pd WHERE in_range),
        s AS (SELECT days.kind, days.key, days.currency, days.day, coalesce(p.pnl, 0) AS pnl, coalesce(p.trades, 0) AS trades,
                     coalesce(p.wins, 0) AS wins, coalesce(p.losses, 0) AS losses, coalesce(p.costs, 0) AS costs,
                     coalesce(p.slippage, 0) AS slippage, b.base
              FROM days LEFT JOIN p USING (kind, key, currency, day) JOIN rpt_base b USING (kind, key, currency)),
        e AS (SELECT *, base + sum(pnl) OVER w AS equity FROM s
              WINDOW w AS (PARTITION BY kind, key, currency ORDER BY day ROWS UNBOUNDED PRECEDING)),
        k AS (SELECT *, greatest(base, max(equity) OVER w) AS peak FROM e
              WINDOW w AS (PARTITION BY kind, key, currency ORDER BY day ROWS UNBOUNDED PRECEDING))
        SELECT *, equity - pnl AS start_equity, pnl / nullif(equity - pnl, 0) AS ret,
               equity - peak AS drawdown, (equity - peak) / nullif(peak, 0) AS drawdown_pct
        FROM k
    """)


def _streaks_sql(store: Queryable, filters: ReportFilters, start: date, end: date, accounts: list[dict[str, Any]],
                 strategies: list[dict[str, Any]]) -> tuple[str, list[Any]] | None:
    """The one sorted read the streaks need: the trades in range in exit order (ties by row order), three narrow integer
    columns. Sorting small integers instead of text, and once instead of once per kind of scope, is what makes it cheap."""
    if not accounts or not strategies:
        return None
    where, params = _where(filters)
    day_filter, day_params = _day_filter(store, filters, "exit_ts", start, end)
    return f"""
        SELECT CAST(list_position(?::VARCHAR[], account) AS USMALLINT) AS account_no,
               CAST(list_position(?::VARCHAR[], coalesce(strategy, '')) AS USMALLINT) AS strategy_no,
               CAST(sign(net_pnl) AS TINYINT) AS outcome
        FROM trades WHERE {where} {day_filter} ORDER BY exit_ts, rowid
    """, [[a["account"] for a in accounts], [s["strategy"] for s in strategies], *params, *day_params]  # fmt: skip


def _streaks(frame: dict[str, Any] | None, accounts: list[dict[str, Any]], strategies: list[dict[str, Any]]) -> dict[tuple[str, str, str], tuple[int, int]]:
    """Longest win and loss streaks of every scope: ``{(kind, key, currency): (wins, losses)}``.

    ``longest_runs`` counts the runs per overall, account and strategy scope
    in the trades ``_streaks_sql`` returned in exit order.
    """
    if frame is None or not len(frame["outcome"]):
        return {}
    account_no, strategy_no, outcome = (np.asarray(frame[c]) for c in ("account_no", "strategy_no", "outcome"))
    group_of = np.zeros(len(accounts) + 1, dtype=np.int64)
    group_of[[a["account_no"] for a in accounts]] = [a["group_no"] for a in accounts]
    groups = {a["group_no"]: (a["mode"], a["currency"]) for a in accounts}
    names = {s["strategy_no"]: s["strategy"] for s in strategies}
    group = group_of[account_no]
    width = len(strategies) + 1
    result: dict[tuple[str, str, str], tuple[int, int]] = {}
    for scope, runs in longest_runs(group, outcome).items():
        mode, currency = groups[scope]
        result[("overall", mode, currency)] = runs
    by_account = {a["account_no"]: a for a in accounts}
    for scope, runs in longest_runs(account_no, outcome).items():
        result[("account", by_account[scope]["account"], by_account[scope]["currency"])] = runs
    for scope, runs in longest_runs(group * width + strategy_no.astype(np.int64), outcome).items():
        mode, currency = groups[scope // width]
        result[("strategy", f"{mode}/{names[scope % width]}", currency)] = runs
    return result


def _collect(store: Queryable, filters: ReportFilters, usable: bool, fills_future: Future[Any], streaks_future: Future[Any]) -> Metrics:
    start, end = filters.start or FIRST_DAY, filters.end or LAST_DAY
    rf_daily = filters.risk_free / filters.periods_per_year
    annual = float(filters.periods_per_year) ** 0.5
    scopes = _rows(store, f"""
        WITH tr AS (
            SELECT {SCOPE_KIND} AS kind, {SCOPE_KEY} AS key, currency, sum(trades) AS trades, sum(wins) AS wins,
                   sum(losses) AS losses, sum(pnl) AS net_pnl, sum(gross) AS gross_pnl, sum(costs) AS costs,
                   sum(slippage) AS slippage, sum(slippage) / sum(trades) AS slippage_per_trade,
                   sum(gross_profit) AS gross_profit, sum(gross_loss) AS gross_loss,
                   sum(gross_profit) / nullif(sum(wins), 0) AS avg_win, sum(gross_loss) / nullif(sum(losses), 0) AS avg_loss,
                   sum(pnl) / sum(trades) AS expectancy, sum(notional_sum) / sum(trades) AS avg_notional,
                   max(max_notional) AS max_notional, sum(held_s) AS seconds_in_market,
                   sum(notional_seconds) AS notional_seconds, max(session_s) AS session_seconds
            FROM (SELECT g.*, c.mode, c.currency, c.session_s FROM rpt_g g JOIN rpt_cap c USING (account) WHERE g.in_range)
            GROUP BY {SCOPE_SETS}),
        dy AS (
            SELECT kind, key, currency, count(*) AS days, min(day) AS first_day, max(day) AS last_day,
                   count(*) FILTER (WHERE trades = 0) AS days_without_trades,
                   avg(ret - {rf_daily!r}) AS mean_excess, stddev_samp(ret) AS sd,
                   sqrt(avg(power(least(ret - {rf_daily!r}, 0), 2))) AS downside,
                   arg_max(equity, day) AS final_equity
            FROM rpt_daily GROUP BY ALL),
        ranked AS (SELECT *, row_number() OVER (PARTITION BY kind, key, currency ORDER BY drawdown, day) AS r,
                          sum(CASE WHEN drawdown >= 0 THEN 1 ELSE 0 END)
                              OVER (PARTITION BY kind, key, currency ORDER BY day ROWS UNBOUNDED PRECEDING) AS episode
                   FROM rpt_daily),
        trough AS (SELECT kind, key, currency, day AS dd_trough, -drawdown AS max_drawdown, -drawdown_pct AS max_drawdown_pct,
                          peak AS dd_peak, episode
                   FROM ranked WHERE r = 1 AND drawdown < 0),
        dd AS (SELECT t.kind, t.key, t.currency, t.dd_trough, t.max_drawdown, t.max_drawdown_pct, t.dd_peak,
                      (SELECT min(x.day) FROM ranked x WHERE x.kind = t.kind AND x.key = t.key AND x.currency = t.currency
                                                         AND x.episode = t.episode AND x.drawdown < 0) AS dd_start,
                      (SELECT min(x.day) FROM ranked x WHERE x.kind = t.kind AND x.key = t.key AND x.currency = t.currency
                                                         AND x.day > t.dd_trough AND x.drawdown >= 0) AS dd_recovery
               FROM trough t)
        SELECT b.kind, b.key, b.currency, b.capital, b.prior AS pnl_before_range, b.base AS starting_equity,
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
               tr.avg_notional, tr.max_notional, tr.max_notional / nullif(b.base, 0) AS max_position_share
        FROM rpt_base b LEFT JOIN tr USING (kind, key, currency) LEFT JOIN dy USING (kind, key, currency)
        LEFT JOIN dd USING (kind, key, currency)
        WHERE dy.days IS NOT NULL OR tr.trades IS NOT NULL
        ORDER BY CASE b.kind WHEN 'overall' THEN 0 WHEN 'account' THEN 1 ELSE 2 END, b.key, b.currency
    """)
    fills = fills_future.result() or {}
    streaks = streaks_future.result() or {}
    no_fills = {"orders": 0, "orders_filled": 0, "fill_rate": None, "quantity_fill_rate": None}
    for scope in scopes:
        kind, key = scope["kind"], scope["key"]
        scope["mode"] = key.split("/")[0] if kind == "strategy" else (key if kind == "overall" else ("paper" if key.startswith("paper:") else "live"))
        scope["strategy"] = key.split("/", 1)[1] if kind == "strategy" else None
        scope["account"] = key if kind == "account" else None
        wins, losses = streaks.get((kind, key, scope["currency"]), (0, 0))
        scope["longest_win_streak"], scope["longest_loss_streak"] = wins, losses
        scope.update(fills.get((kind, key, scope["currency"]), no_fills))
    days = _rows(store, """
        SELECT kind, key, currency, day, trades, wins, losses, pnl AS net_pnl, costs, slippage, start_equity, equity,
               ret AS return, drawdown, drawdown_pct
        FROM rpt_daily ORDER BY kind, key, currency, day
    """)
    months = _rows(store, """
        SELECT kind, key, currency, strftime(date_trunc('month', day), '%Y-%m') AS month, count(*) AS days, sum(trades) AS trades,
               sum(wins) AS wins, sum(losses) AS losses, sum(pnl) AS net_pnl, sum(costs) AS costs,
               arg_min(start_equity, day) AS start_equity, arg_max(equity, day) AS equity,
               sum(pnl) / nullif(arg_min(start_equity, day), 0) AS return, min(drawdown_pct) AS worst_drawdown_pct
        FROM rpt_daily GROUP BY ALL ORDER BY kind, key, currency, month
    """)
    exits = _exit_reasons(store, filters, start, end, usable)
    blocks = _blocks(store, filters, start, end)
    accounts = _rows(store, """
        SELECT account, mode, currency, first_day, capital, first_day_from_journal, tz FROM rpt_cap
        WHERE account IN (SELECT account FROM rpt_d) ORDER BY account
    """)
    return Metrics(scopes=scopes, days=days, months=months, exit_reasons=exits, blocks=blocks, accounts=accounts)


def _exit_reasons(store: Queryable, filters: ReportFilters, start: date, end: date, usable: bool) -> list[dict[str, Any]]:
    """Per strategy, currency and exit reason: how the trades ended, what they made and what slippage they paid."""
    where, params = _where(filters)
    if usable:
        inner = f"""
            SELECT account, strategy, exit_reason, CAST(sum(trades) AS BIGINT) AS trades, CAST(sum(wins) AS BIGINT) AS wins,
                   CAST(sum(net_pnl) AS DOUBLE) AS net_pnl, CAST(sum(slippage) AS DOUBLE) AS slippage
            FROM trades_daily WHERE {where} AND day BETWEEN ? AND ? GROUP BY ALL"""
        inner_params = [*params, start, end]
    else:
        day_filter, day_params = _day_filter(store, filters, "exit_ts", start, end)
        inner = f"""
            SELECT account, coalesce(strategy, '') AS strategy, coalesce(exit_reason, '') AS exit_reason, count(*) AS trades,
                   count(*) FILTER (WHERE net_pnl > 0) AS wins, sum(CAST(net_pnl AS DOUBLE)) AS net_pnl,
                   sum(CAST(slippage AS DOUBLE)) AS slippage
            FROM trades WHERE {where} {day_filter} GROUP BY ALL"""
        inner_params = [*params, *day_params]
    return _rows(store, f"""
        WITH r AS ({inner})
        SELECT c.mode, c.currency, strategy, exit_reason, sum(trades) AS trades, sum(wins) AS wins, sum(net_pnl) AS net_pnl,
               sum(net_pnl) / sum(trades) AS avg_pnl, sum(slippage) AS slippage, sum(slippage) / sum(trades) AS slippage_per_trade
        FROM r JOIN rpt_cap c USING (account) GROUP BY ALL ORDER BY c.mode, c.currency, strategy, trades DESC, exit_reason
    """, inner_params)  # fmt: skip


def _day_filter(store: Queryable, filters: ReportFilters, column: str, start: date, end: date) -> tuple[str, list[Any]]:
    """``AND <local day of column> BETWEEN start AND end``, or nothing (and no per-row date arithmetic) without --from/--to."""
    if filters.start is None and filters.end is None:
        return "", []
    day, params = _day_sql(column, *_offsets(store))
    return f"AND {day} BETWEEN ? AND ?", [*params, start, end]


def _fill_rates_sql(store: Queryable, filters: ReportFilters, start: date, end: date,
                    accounts: list[dict[str, Any]]) -> tuple[str, list[Any]] | None:
    """Entry and exit orders (market and limit; protective stops are insurance, not attempts) that got any fill.

    The accounts' mode and currency are passed in (``accounts``), not joined from ``rpt_cap``: the query runs on a
    second connection, which does not see this one's temporary tables.
    """
    if not accounts:
        return None
    where, params = _where(filters)
    day_filter, day_params = _day_filter(store, filters, "created_at", start, end)
    return f"""
        WITH o AS (
            SELECT account, coalesce(strategy, '') AS strategy, count(*) AS orders,
                   count(*) FILTER (WHERE filled_quantity > 0) AS filled, sum(quantity) AS quantity,
                   sum(filled_quantity) AS filled_quantity
            FROM orders WHERE order_type IN ('MARKET', 'LIMIT') AND {where} {day_filter}
            GROUP BY ALL),
        c AS (SELECT unnest(?::VARCHAR[]) AS account, unnest(?::VARCHAR[]) AS mode, unnest(?::VARCHAR[]) AS currency)
        SELECT {SCOPE_KIND} AS kind, {SCOPE_KEY} AS key, currency, sum(orders) AS orders, sum(filled) AS orders_filled,
               sum(filled) / sum(orders) AS fill_rate, sum(filled_quantity) / nullif(sum(quantity), 0) AS quantity_fill_rate
        FROM (SELECT o.*, c.mode, c.currency FROM o JOIN c USING (account)) GROUP BY {SCOPE_SETS}
    """, [*params, *day_params, *([a[k] for a in accounts] for k in ("account", "mode", "currency"))]


def _fill_rates(connection: Any, sql: str, params: list[Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(r.pop("kind"), r.pop("key"), r.pop("currency")): r for r in _fetch_rows(connection, sql, params)}


def _blocks(store: Queryable, filters: ReportFilters, start: date, end: date) -> list[dict[str, Any]]:
    """Blocked signals per strategy and rule (counts from the projection), with the latest reason from the journal."""
    where, params = _where(filters)
    return _rows(store, f"""
        WITH b AS (SELECT {MODE_SQL} AS mode, coalesce(c.currency, '{UNKNOWN_CURRENCY}') AS currency, strategy, rule,
                          sum(count) AS count
                   FROM blocks LEFT JOIN rpt_cap c USING (account)
                   WHERE {where} AND day BETWEEN ? AND ? GROUP BY ALL),
        e AS (SELECT {MODE_SQL} AS mode, json_extract_string(payload, '$.strategy') AS strategy,
                     json_extract_string(payload, '$.rule') AS rule,
                     arg_max(json_extract_string(payload, '$.reason'), seq) AS latest_reason
              FROM events WHERE type = 'SignalBlocked' GROUP BY ALL)
        SELECT b.mode, b.currency, b.strategy, b.rule, b.count, e.latest_reason FROM b
        LEFT JOIN e ON e.mode = b.mode AND e.strategy = b.strategy AND e.rule = b.rule
        ORDER BY b.mode, b.currency, b.strategy, b.count DESC, b.rule
    """, [*params, start, end])
