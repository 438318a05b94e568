"""Every metric against numbers worked out by hand from the trade list in conftest.write_scenario.

The expected values below are written out as arithmetic on the trade list,
not read back from the code: if a formula in metrics.py changes, these fail.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from tradekit.report.metrics import Metrics, ReportFilters, compute
from tradekit.store import DuckDBStore
from tradekit.testing.ledger import D1, D2, D3, D4, PAPER, Ledger


def metrics(home: Path, **filters: object) -> Metrics:
    store = DuckDBStore(home / "tradekit.duckdb", readonly=True)
    try:
        return compute(store, ReportFilters(**filters))  # type: ignore[arg-type]
    finally:
        store.close()


def scope(result: Metrics, kind: str, key: str) -> dict:
    (found,) = [s for s in result.scopes if s["kind"] == kind and s["key"] == key]
    return found


def sharpe_by_hand(returns: list[float], periods: int = 252, rf: float = 0.0) -> tuple[float, float]:
    excess = [r - rf / periods for r in returns]
    mean = sum(excess) / len(excess)
    sd = math.sqrt(sum((r - sum(returns) / len(returns)) ** 2 for r in returns) / (len(returns) - 1))
    downside = math.sqrt(sum(min(e, 0.0) ** 2 for e in excess) / len(excess))
    return mean / sd * math.sqrt(periods), mean / downside * math.sqrt(periods)


def test_overall_paper_numbers_match_hand_computation(scenario: Ledger, isolated_home: Path) -> None:
    paper = scope(metrics(isolated_home), "overall", "paper")
    # trades: +95, -50, -40, -100, -100, +150
    assert paper["trades"] == 6 and paper["wins"] == 2 and paper["losses"] == 4
    assert paper["net_pnl"] == pytest.approx(95 - 50 - 40 - 100 - 100 + 150)  # -45
    assert paper["gross_pnl"] == pytest.approx(100 - 50 - 40 - 100 - 100 + 150)  # costs only on T1
    assert paper["costs"] == pytest.approx(2 + 3)
    assert paper["slippage"] == pytest.approx((100 - 99.5) * 10 + (110.5 - 110) * 10)  # paid on both fills of T1
    assert paper["total_return"] == pytest.approx(-45 / 100_000)
    assert paper["win_rate"] == pytest.approx(2 / 6)
    assert paper["avg_win"] == pytest.approx((95 + 150) / 2)
    assert paper["avg_loss"] == pytest.approx((-50 - 40 - 100 - 100) / 4)
    assert paper["profit_factor"] == pytest.approx(245 / 290)
    assert paper["expectancy"] == pytest.approx(-45 / 6)
    assert paper["days"] == 4 and paper["days_without_trades"] == 1
    assert paper["trades_per_day"] == pytest.approx(6 / 4)
    assert paper["longest_win_streak"] == 1  # W L L L L W by exit time
    assert paper["longest_loss_streak"] == 4
    account = scope(metrics(isolated_home), "account", PAPER)
    assert (account["longest_win_streak"], account["longest_loss_streak"]) == (1, 4)
    # position-time: 40 + 30 + 75 min on D1 (T2 and T4 overlap, both count), 60 on D3, 60 + 60 on D4 = 325 min
    assert paper["seconds_in_market"] == pytest.approx(325 * 60)
    assert paper["exposure"] == pytest.approx(325 / (4 * 375))  # of four 09:15-15:30 sessions
    # every trade holds 1,000 of notional: on average 1,000 x 325 / 1,500 min is at work, of 100,000
    assert paper["avg_notional_in_use"] == pytest.approx(1000 * 325 / 1500)
    assert paper["capital_use"] == pytest.approx(1000 * 325 / 1500 / 100_000)
    assert paper["max_position_share"] == pytest.approx(1000 / 100_000)
    # 12 entry/exit orders filled, one entry rejected
    assert paper["orders"] == 13 and paper["orders_filled"] == 12
    assert paper["fill_rate"] == pytest.approx(12 / 13)


def test_sharpe_sortino_use_every_trading_day_including_the_one_without_trades(scenario: Ledger, isolated_home: Path) -> None:
    paper = scope(metrics(isolated_home, risk_free=0.0), "overall", "paper")
    # end-of-day equity 100005, 100005, 99905, 99955 from 100000
    returns = [5 / 100_000, 0.0, -100 / 100_005, 50 / 99_905]
    sharpe, sortino = sharpe_by_hand(returns)
    assert paper["sharpe"] == pytest.approx(sharpe)
    assert paper["sortino"] == pytest.approx(sortino)
    with_rf = scope(metrics(isolated_home, risk_free=0.0504), "overall", "paper")
    sharpe_rf, sortino_rf = sharpe_by_hand(returns, rf=0.0504)
    assert with_rf["sharpe"] == pytest.approx(sharpe_rf) and with_rf["sharpe"] < paper["sharpe"]
    assert with_rf["sortino"] == pytest.approx(sortino_rf)


def test_drawdown_not_recovered_and_recovered(scenario: Ledger, isolated_home: Path) -> None:
    result = metrics(isolated_home)
    paper = scope(result, "overall", "paper")
    # peak 100005 after D1, 99905 on D3, 99955 on D4: still below the peak
    assert paper["max_drawdown"] == pytest.approx(100)
    assert paper["max_drawdown_pct"] == pytest.approx(100 / 100_005)
    assert (paper["drawdown_start"], paper["drawdown_trough"], paper["drawdown_recovery"]) == (D3, D3, None)
    momo = scope(result, "strategy", "paper/momo")
    # momo alone: 100045, 100045, 99945, 100095 -> back above 100045 on D4
    assert momo["max_drawdown"] == pytest.approx(100)
    assert (momo["drawdown_start"], momo["drawdown_trough"], momo["drawdown_recovery"]) == (D3, D3, D4)


def test_strategy_with_only_losses(scenario: Ledger, isolated_home: Path) -> None:
    loser = scope(metrics(isolated_home), "strategy", "paper/loser")
    assert loser["trades"] == 2 and loser["wins"] == 0
    assert loser["win_rate"] == 0
    assert loser["avg_win"] is None
    assert loser["avg_loss"] == pytest.approx((-40 - 100) / 2)
    assert loser["profit_factor"] == 0  # no profit at all, not "undefined"
    assert loser["net_pnl"] == pytest.approx(-140)
    assert loser["longest_win_streak"] == 0 and loser["longest_loss_streak"] == 2
    # the drawdown starts at the capital itself, on the first day, and never recovers
    assert loser["max_drawdown"] == pytest.approx(140)
    assert loser["max_drawdown_pct"] == pytest.approx(140 / 100_000)
    assert (loser["drawdown_start"], loser["drawdown_trough"], loser["drawdown_recovery"]) == (D1, D4, None)


def test_per_strategy_and_live_kept_apart_from_paper(scenario: Ledger, isolated_home: Path) -> None:
    result = metrics(isolated_home)
    momo = scope(result, "strategy", "paper/momo")
    assert momo["trades"] == 4 and momo["net_pnl"] == pytest.approx(95 - 50 - 100 + 150)
    assert momo["profit_factor"] == pytest.approx((95 + 150) / (50 + 100))
    assert momo["longest_loss_streak"] == 2
    assert momo["fill_rate"] == pytest.approx(8 / 9)
    live = scope(result, "overall", "live")
    assert live["trades"] == 1 and live["net_pnl"] == pytest.approx(500)
    assert live["total_return"] == pytest.approx(500 / 50_000)
    assert live["sharpe"] is None  # one day is not a distribution
    assert scope(result, "strategy", "live/momo")["net_pnl"] == pytest.approx(500)
    assert {s["key"] for s in result.scopes if s["kind"] == "overall"} == {"paper", "live"}
    paper_only = metrics(isolated_home, mode="paper")
    assert {s["mode"] for s in paper_only.scopes} == {"paper"}


def test_per_day_and_per_month(scenario: Ledger, isolated_home: Path) -> None:
    result = metrics(isolated_home)
    days = [d for d in result.days if d["kind"] == "overall" and d["key"] == "paper"]
    assert [d["day"] for d in days] == [D1, D2, D3, D4]
    assert [d["net_pnl"] for d in days] == pytest.approx([5, 0, -100, 50])
    assert [d["trades"] for d in days] == [3, 0, 1, 2]
    assert [d["equity"] for d in days] == pytest.approx([100_005, 100_005, 99_905, 99_955])
    assert [d["drawdown"] for d in days] == pytest.approx([0, 0, -100, -50])
    (month,) = [m for m in result.months if m["kind"] == "overall" and m["key"] == "paper"]
    assert month["month"] == "2025-12" and month["trades"] == 6
    assert month["return"] == pytest.approx(-45 / 100_000)


def test_exit_reasons_blocks_and_slippage_per_strategy(scenario: Ledger, isolated_home: Path) -> None:
    result = metrics(isolated_home)
    exits = {(e["mode"], e["strategy"], e["exit_reason"]): e for e in result.exit_reasons}
    assert exits[("paper", "momo", "TARGET")]["trades"] == 2
    assert exits[("paper", "momo", "TARGET")]["slippage"] == pytest.approx(10)
    assert exits[("paper", "momo", "STOP")]["net_pnl"] == pytest.approx(-150)
    assert exits[("paper", "loser", "STOP")]["trades"] == 2
    blocks = {(b["strategy"], b["rule"]): b for b in result.blocks}
    assert blocks[("momo", "MAX_TRADES")]["count"] == 2
    assert blocks[("momo", "MAX_TRADES")]["latest_reason"] == "limit 2 reached"
    assert blocks[("momo", "ALREADY_HELD")]["count"] == 1


def test_filters_from_to_strategy_account(scenario: Ledger, isolated_home: Path) -> None:
    later = metrics(isolated_home, start=D3)
    paper = scope(later, "overall", "paper")
    # D1-D2 earned +5 before the window: the window starts from 100005
    assert paper["starting_equity"] == pytest.approx(100_005)
    assert paper["trades"] == 3 and paper["net_pnl"] == pytest.approx(-100 - 100 + 150)
    assert paper["total_return"] == pytest.approx(-50 / 100_005)
    assert paper["days"] == 2
    assert (paper["drawdown_start"], paper["drawdown_recovery"]) == (D3, None)
    early = scope(metrics(isolated_home, end=D2), "overall", "paper")
    assert early["trades"] == 3 and early["days"] == 2 and early["net_pnl"] == pytest.approx(5)
    only_loser = metrics(isolated_home, strategies=("loser",))
    assert scope(only_loser, "overall", "paper")["net_pnl"] == pytest.approx(-140)
    assert {s["key"] for s in only_loser.scopes} == {"paper", PAPER, "paper/loser"}
    only_live = metrics(isolated_home, accounts=("zerodha:AB1234",))
    assert {s["mode"] for s in only_live.scopes} == {"live"}


def test_first_trading_day_comes_from_the_journal_and_never_moves(scenario: Ledger, isolated_home: Path) -> None:
    assert {a["account"]: a["first_day"] for a in metrics(isolated_home).accounts}[PAPER] == D1
    # a later run replays an EARLIER day: the account's first trading day stays D1
    again = Ledger(isolated_home / "tradekit.duckdb")
    again.open_day(PAPER, date(2025, 11, 28))
    again.close_day(PAPER, date(2025, 11, 28))
    again.close()
    accounts = {a["account"]: a for a in metrics(isolated_home).accounts}
    assert accounts[PAPER]["first_day"] == D1 and accounts[PAPER]["first_day_from_journal"]
    assert accounts[PAPER]["capital"] == pytest.approx(100_000)


def test_empty_store_reports_nothing(ledger: Ledger, isolated_home: Path) -> None:
    ledger.close()
    result = metrics(isolated_home)
    assert result.scopes == [] and result.days == [] and result.accounts == []
