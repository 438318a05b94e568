"""Every account the report covers: its mode, currency, time zone, first trading day and capital (``rpt_cap``).

The store does not record an account's currency: it is the market of the instruments the account traded,
ordered or holds; else what the caller knows (a paper venue's own file); else the broker's only currency;
else unknown, which is still kept apart from every other currency.
"""

from __future__ import annotations

from collections.abc import Mapping

from tradekit.report.query import INDIA_SQL, Queryable, execute as _run, fetch_rows as _rows, mode_sql

BROKER_CURRENCY = {"zerodha": "INR", "angelone": "INR"}
"""Brokers that only trade one currency: the fallback for an account that never traded or ordered anything."""
UNKNOWN_CURRENCY = "?"


def build_accounts(store: Queryable, currencies: Mapping[str, str]) -> None:
    """rpt_cap: every account with its mode, currency, time zone, first trading day and capital."""
    # The market of an account: its first trade's instrument; for an account that never closed a
    # trade, any order or position it has (read only for those accounts, so the big orders table is
    # not scanned when every account traded).
    _run(store, "CREATE OR REPLACE TEMP TABLE rpt_inst AS SELECT account, arg_min(india, first_entry_ts) AS india FROM trades_daily GROUP BY account")
    missing = [row["account"] for row in _rows(store, """
        SELECT account FROM (SELECT account FROM events WHERE type = 'DayOpened' UNION SELECT account FROM accounts_daily)
        WHERE account NOT IN (SELECT account FROM rpt_inst) ORDER BY account
    """)]  # fmt: skip
    if missing:
        marks = ", ".join("?" * len(missing))
        _run(store, f"""
            INSERT INTO rpt_inst
            SELECT account, {INDIA_SQL} FROM (SELECT account, min(instrument_id) AS instrument_id FROM (
                SELECT account, instrument_id FROM orders WHERE account IN ({marks})
                UNION ALL SELECT account, instrument_id FROM positions WHERE account IN ({marks}))
            GROUP BY account)
        """, [*missing, *missing])  # fmt: skip
    known = {a: c for a, c in currencies.items() if c}
    brokers = " ".join(f"WHEN '{b}' THEN '{c}'" for b, c in BROKER_CURRENCY.items())
    # Each account's first trading day and capital: the first DayOpened in the journal (append-only,
    # so a later run can never move it), else the earliest recorded day.
    _run(store, f"""
        CREATE OR REPLACE TEMP TABLE rpt_cap AS
        WITH j AS (
            SELECT account,
                   arg_min(CAST(json_extract_string(payload, '$.day') AS DATE), seq) AS first_day,
                   arg_min(CAST(json_extract_string(payload, '$.cash') AS DOUBLE), seq) AS capital
            FROM events WHERE type = 'DayOpened' GROUP BY account),
        d AS (SELECT account, min(day) AS first_day, arg_min(CAST(open_cash AS DOUBLE), day) AS capital
              FROM accounts_daily GROUP BY account),
        k AS (SELECT unnest(?::VARCHAR[]) AS account, unnest(?::VARCHAR[]) AS currency),
        a AS (SELECT account FROM j UNION SELECT account FROM d UNION SELECT account FROM rpt_inst),
        c AS (SELECT a.account, i.india,
                     CASE WHEN i.india IS NOT NULL THEN (CASE WHEN i.india THEN 'INR' ELSE 'USD' END)
                          ELSE coalesce(k.currency, CASE split_part(a.account, ':', 1) {brokers} END, '{UNKNOWN_CURRENCY}') END AS currency
              FROM a LEFT JOIN rpt_inst i ON i.account = a.account LEFT JOIN k ON k.account = a.account),
        z AS (SELECT *, CASE WHEN india THEN 'Asia/Kolkata' WHEN NOT india THEN 'America/New_York' WHEN currency = 'INR' THEN 'Asia/Kolkata'
                             WHEN currency = 'USD' THEN 'America/New_York' END AS tz FROM c)
        SELECT z.account, {mode_sql('z.account')} AS mode, z.currency,
               coalesce(j.first_day, d.first_day) AS first_day, coalesce(j.capital, d.capital) AS capital,
               j.account IS NOT NULL AS first_day_from_journal, z.tz,
               CASE WHEN z.tz = 'America/New_York' THEN -18000 ELSE 19800 END AS utc_offset_s,
               CASE WHEN z.tz = 'America/New_York' THEN 23400 ELSE 22500 END AS session_s,
               CAST(row_number() OVER (ORDER BY z.account) AS USMALLINT) AS account_no,
               CAST(dense_rank() OVER (ORDER BY {mode_sql('z.account')}, z.currency) AS USMALLINT) AS group_no
        FROM z LEFT JOIN j ON j.account = z.account LEFT JOIN d ON d.account = z.account
    """, [list(known) or [""], list(known.values()) or [""]])  # fmt: skip
