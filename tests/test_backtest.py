"""``tradekit backtest`` over several days: trades reported, same result on every run, own store."""

from __future__ import annotations

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
