"""trades_daily: the per-day trade summary kept by the store equals one built from scratch, however it was built."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tradekit.services.doctor import check
from tradekit.store import DuckDBStore
from tradekit.store import rows as R
from tradekit.store import trades_daily
from tradekit.testing.ledger import D1, D3, D4, PAPER, Ledger, write_scenario

US = "paper:us"


def summary(store: DuckDBStore) -> Counter[tuple]:
    return Counter(R.normalise(store.table_rows("trades_daily")))


def from_scratch(store: DuckDBStore) -> Counter[tuple]:
    return Counter(R.normalise(store.query(trades_daily.SELECT_SQL)))


def write_in_steps(path: Path) -> None:
    """The report scenario plus US trades, flushed trade by trade (the way a live run writes them)."""
    ledger = Ledger(path)
    write_scenario(ledger)
    ledger.store.flush(ledger.book)
    ledger.open_day(US, D1, 10000)
    # 15:50 New York is 20:50 UTC: the same day at UTC-5; and three trades into one (day, strategy, reason) key
    for entry, exit, price in (("09:40", "10:10", 101.25), ("11:00", "15:50", 99.5), ("12:00", "12:30", 100)):
        ledger.trade(US, "gap", "NASDAQ:ZZZ", D1, entry, 100, exit, price, quantity=7, exit_costs=0.35)
        ledger.store.flush(ledger.book)
    ledger.trade(US, "gap", "NASDAQ:ZZZ", D3, "10:00", 50, "11:00", 51, reason="END_OF_DAY")
    ledger.close()


def test_summary_built_flush_by_flush_equals_a_from_scratch_aggregation(tmp_path: Path) -> None:
    path = tmp_path / "tradekit.duckdb"
    write_in_steps(path)
    with DuckDBStore(path, readonly=True) as store:
        built = summary(store)
        assert built == from_scratch(store)
        assert built == Counter(R.normalise(trades_daily.rows(store.query("SELECT * FROM trades"))))
        (gap,) = [r for r in store.query("SELECT * FROM trades_daily WHERE account = ? AND day = ? AND exit_reason = 'TARGET'", [US, D1])]
        trades = store.query("SELECT net_pnl, entry_price * quantity FROM trades WHERE account = ? AND exit_reason = 'TARGET'", [US])
    row = dict(zip(trades_daily.COLUMNS, gap))
    assert row["trades"] == 3 and row["india"] is False and row["day"] == D1
    assert row["net_pnl"] == sum(t[0] for t in trades)
    assert row["wins"] == sum(1 for t in trades if t[0] > 0) and row["losses"] == sum(1 for t in trades if t[0] < 0)
    assert row["gross_profit"] == sum(t[0] for t in trades if t[0] > 0)
    assert row["held_ms"] == (30 + 290 + 30) * 60_000
    assert row["max_notional"] == Decimal(700)


def test_doctor_rebuilds_the_summary_and_finds_it_clean_then_tampered(tmp_path: Path) -> None:
    path = tmp_path / "tradekit.duckdb"
    write_in_steps(path)
    with DuckDBStore(path, readonly=True) as store:
        report = check(store)
    assert report.clean, report.differences
    connection = duckdb.connect(str(path))
    connection.execute("UPDATE trades_daily SET net_pnl = net_pnl + 0.01 WHERE day = ?", [D4])
    connection.close()
    with DuckDBStore(path, readonly=True) as store:
        report = check(store)
    assert set(report.differences) == {"trades_daily"}
    assert report.differences["trades_daily"]["missing_in_store"] and report.differences["trades_daily"]["unexpected_in_store"]


def test_migration_back_fills_a_store_written_before_it(tmp_path: Path) -> None:
    path = tmp_path / "tradekit.duckdb"
    write_in_steps(path)
    with DuckDBStore(path, readonly=True) as store:
        expected = summary(store)
    assert sum(row[5] for row in expected.elements()) == 11  # 7 scenario trades + 4 US ones
    connection = duckdb.connect(str(path))  # the store as m003 left it
    connection.execute("DROP TABLE trades_daily")
    connection.execute("DELETE FROM schema_migrations WHERE name = 'm004_trades_daily'")
    connection.close()
    with pytest.raises(Exception, match="needs migration m004_trades_daily"):
        DuckDBStore(path, readonly=True)
    DuckDBStore(path).close()  # a writer migrates
    with DuckDBStore(path, readonly=True) as store:
        assert summary(store) == expected
        assert "m004_trades_daily" in store.migrations()


def test_a_trade_written_again_is_not_counted_twice(tmp_path: Path) -> None:
    path = tmp_path / "tradekit.duckdb"
    ledger = Ledger(path)
    ledger.open_day(PAPER, D1, 100000)
    ledger.trade(PAPER, "momo", "NSE:AAA", D1, "09:20", 100, "10:00", 110)
    ledger.trade(PAPER, "momo", "NSE:AAA", D1, "10:20", 100, "11:00", 104)
    closed = list(ledger.book.dirty.trades)
    ledger.store.flush(ledger.book)
    assert len(closed) == 2 and len(ledger.store.query("SELECT * FROM trades")) == 2
    # the same closed trade handed to the store once more, with a changed exit reason
    ledger.book.dirty.trades.append(replace(closed[0], exit_reason="STOP"))
    ledger.store.flush(ledger.book)
    built = summary(ledger.store)
    assert built == from_scratch(ledger.store)
    assert sum(row[5] for row in built.elements()) == 2
    assert {row[4] for row in built.elements()} == {"STOP", "TARGET"}
    ledger.close()


def test_report_dates_trades_by_the_account_market_when_an_account_traded_on_both(tmp_path: Path) -> None:
    """An NSE account that also traded a US instrument: the summary cannot date its trades, the report reads trades."""
    from tradekit.report.metrics import ReportFilters, compute, summary_usable

    path = tmp_path / "tradekit.duckdb"
    ledger = Ledger(path)
    ledger.open_day(PAPER, D1, 100000)
    ledger.trade(PAPER, "momo", "NSE:AAA", D1, "09:20", 100, "10:00", 110)
    # 20:30 New York on D1 is 07:00 IST on the next day: the account's (Indian) date of this exit
    ledger.trade(PAPER, "momo", "NASDAQ:ZZZ", D1, "19:00", 100, "20:30", 90)
    ledger.close()
    with DuckDBStore(path, readonly=True) as store:
        assert not summary_usable(store)
        result = compute(store, ReportFilters())
    days = {d["day"]: d["trades"] for d in result.days if d["kind"] == "account"}
    assert days == {D1: 1, date(2025, 12, 2): 1}
    (account,) = [s for s in result.scopes if s["kind"] == "account"]
    assert account["net_pnl"] == pytest.approx(100 - 100) and account["trades"] == 2


def test_a_backtest_sized_flush_goes_in_as_one_table_and_still_equals_a_from_scratch_aggregation(tmp_path: Path) -> None:
    """Hundreds of (day, reason) keys in one flush take the Arrow path of ``add``; a second such flush
    into the same keys must add to them (the ON CONFLICT sums), not replace them."""
    from datetime import timedelta

    path = tmp_path / "tradekit.duckdb"
    ledger = Ledger(path)
    ledger.open_day(PAPER, D1, 1_000_000)
    days = [D1 + timedelta(days=n) for n in range(300)]
    for round_ in range(2):
        for number, day in enumerate(days):
            reason = ("TARGET", "STOP")[number % 2]
            ledger.trade(PAPER, "oi", "NFO:NIFTY24MAR22000CE", day, "09:20", 100 + number % 7, "10:05",
                         99 + (number * 3 + round_) % 11, quantity=25, reason=reason, exit_costs=1.25)
        assert len(trades_daily.rows(R.trade_row(t) for t in ledger.book.dirty.trades)) >= trades_daily._BULK
        ledger.store.flush(ledger.book)
    ledger.close()
    with DuckDBStore(path, readonly=True) as store:
        built = summary(store)
        assert built == from_scratch(store)
        assert sum(row[5] for row in store.table_rows("trades_daily")) == 600
