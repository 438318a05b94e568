"""``tradekit backtest`` over several days: trades reported, same result on every run, own store."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tradekit.services.backtest import backtest
from tradekit.services.setup import workspace
from tradekit.testing.market import example_config


def test_backtest_over_three_days_reports_trades_and_repeats_exactly(isolated_home: Path, market_root: Path) -> None:
    example_config(isolated_home, market_root)
    first = backtest(workspace(), "example", None, None, name="twice")
    second = backtest(workspace(), "example", None, None, name="twice")
    assert len(first.days) == 3 and first.trades > 0
    assert first.to_dict() == second.to_dict()
    assert first.final_cash == first.starting_cash + first.net_pnl
    assert not (isolated_home / "tradekit.duckdb").exists()  # the user's own store is not touched
    assert (isolated_home / "backtests" / "twice" / "tradekit.duckdb").exists()


def test_a_backtest_trades_exactly_as_its_days_run_one_by_one(isolated_home: Path, market_root: Path) -> None:
    """A backtest keeps one store session and one paper venue for all its days; ``tradekit run`` opens both
    afresh each day (and journals first). Same days, same strategy: the same trades, cash and venue account."""
    import json

    from tradekit.services.run import RunOptions, run
    from tradekit.store import DuckDBStore

    example_config(isolated_home, market_root)
    summary = backtest(workspace(), "example", None, None, name="whole")
    days = []
    while (outcome := run(workspace(), RunOptions(strategy="example"), lambda line: None)).day is not None:
        days.append(outcome.day)
    assert days == summary.days and len(days) == 3
    columns = "instrument_id, side, quantity, entry_ts, entry_price, exit_ts, exit_price, gross_pnl, costs, net_pnl, exit_reason"
    with DuckDBStore(isolated_home / "backtests" / "whole" / "tradekit.duckdb", readonly=True) as kept, \
            DuckDBStore(isolated_home / "tradekit.duckdb", readonly=True) as daily:
        trades = kept.query(f"SELECT {columns} FROM trades ORDER BY entry_ts")
        assert trades and trades == daily.query(f"SELECT {columns} FROM trades ORDER BY entry_ts")
        assert kept.query("SELECT day, open_cash, close_cash FROM accounts_daily ORDER BY day") == \
            daily.query("SELECT day, open_cash, close_cash FROM accounts_daily ORDER BY day")
    accounts = [json.loads(path.read_text()) for path in (*(isolated_home / "backtests" / "whole" / "paper").glob("*.json"),
                                                          *(isolated_home / "paper").glob("*.json"))]
    assert len(accounts) == 2
    assert Decimal(accounts[0]["cash"]) == Decimal(accounts[1]["cash"]) == summary.final_cash
    assert [(f["instrument_id"], f["side"], f["quantity"], f["price"]) for f in accounts[0]["fills"]] == \
        [(f["instrument_id"], f["side"], f["quantity"], f["price"]) for f in accounts[1]["fills"]]


def test_what_survives_a_backtest_day_is_out_of_the_collectors_passes_until_the_end(isolated_home: Path, market_root: Path) -> None:
    """tradekit/collector.py: after each day the book, the journal batch and the venue account are frozen (a full
    pass walked them all again and again); the backtest hands them back when it ends, and trades the same."""
    import gc

    example_config(isolated_home, market_root)
    assert gc.get_freeze_count() == 0
    frozen_after_day: list[int] = []
    summary = backtest(workspace(), "example", None, None, name="kept",
                       progress=lambda done, total, day: frozen_after_day.append(gc.get_freeze_count()))
    assert len(frozen_after_day) == 3 and min(frozen_after_day) > 0
    assert gc.get_freeze_count() == 0
    assert summary.trades > 0
