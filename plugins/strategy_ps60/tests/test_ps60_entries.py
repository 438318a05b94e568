"""Entries: warm-up, breakouts both ways, attempts, blocks and sizing, through the port."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tradekit.errors import StrategyError
from tradekit.model import Side
from tradekit.model.intents import Enter

HEADER = "symbol,resistance,support,long_target_1,long_target_2,short_target_1,short_target_2"


def enters(decision) -> list[Enter]:
    return [i for i in decision.intents if isinstance(i, Enter)]


def test_warmup_breakout_before_bar_20_is_blocked_and_bar_20_enters(make_sim) -> None:
    sim = make_sim()
    sim.warm_up(18)
    blocked = sim.step({"TSLA": 445.30, "AAPL": 228.0})  # bar 19 closes above resistance
    assert enters(blocked) == []
    assert [(b.rule, b.instrument_id) for b in blocked.blocks] == [("WARMUP", "SMART:TSLA")]
    assert "19/20 bars" in blocked.blocks[0].reason
    entry = sim.step({"TSLA": 445.40, "AAPL": 228.0})  # bar 20
    [enter] = enters(entry)
    assert (enter.instrument_id, enter.side, enter.quantity, enter.reason) == ("SMART:TSLA", Side.BUY, 100, "ENTRY_LONG")
    assert enter.stop_price == Decimal("445.00") and enter.signal_price == 445.40
    assert sim.state["analytics"]["blocks"] == {"WARMUP": 1}
    assert sim.state["analytics"]["entry_paths"] == {"LONG continuation #1": 1}


def test_warmup_counts_bars_per_symbol(make_sim) -> None:
    sim = make_sim()
    sim.warm_up(19, {"TSLA": 442.0})  # AAPL printed nothing yet
    decision = sim.step({"TSLA": 442.0, "AAPL": 230.5})
    assert enters(decision) == [] and [b.rule for b in decision.blocks] == ["WARMUP"]
    assert len(sim.state["buffers"]["TSLA"]) == 20
    assert sim.state["buffers"]["AAPL"] == ["2025-03-04T09:31:35-05:00 230.5 230.5 230.5 230.5 100"]


def test_long_breakout_after_warmup_enters_once_and_holds(make_sim) -> None:
    sim = make_sim()
    sim.warm_up(20)
    [enter] = enters(sim.step({"TSLA": 445.01, "AAPL": 228.0}))
    assert enter.side is Side.BUY and enter.stop_price == Decimal("445.00")
    assert sim.held("TSLA").quantity == 100
    later = sim.step({"TSLA": 445.50, "AAPL": 228.0})
    assert enters(later) == [] and later.blocks == ()  # holding is no new block every bar
    assert sim.state["analytics"]["entry_paths"] == {"LONG breakout #1": 1}
    assert sim.state["attempts"]["TSLA"] == {"LONG": 1, "SHORT": 0}


def test_close_exactly_at_pivot_is_no_signal(make_sim) -> None:
    sim = make_sim()
    sim.warm_up(20)
    decision = sim.step({"TSLA": 445.00, "AAPL": 226.00})
    assert decision.intents == () and decision.blocks == ()


def test_short_breakdown_enters_sell_with_stop_at_support(make_sim) -> None:
    sim = make_sim()
    sim.warm_up(20)
    [enter] = enters(sim.step({"TSLA": 442.0, "AAPL": 225.90}))
    assert (enter.instrument_id, enter.side, enter.quantity, enter.reason) == ("SMART:AAPL", Side.SELL, 100, "ENTRY_SHORT")
    assert enter.stop_price == Decimal("226.00")
    assert sim.held("AAPL").quantity == -100


def test_many_symbols_enter_on_the_same_bar(make_sim) -> None:
    sim = make_sim()
    sim.warm_up(20)
    decision = sim.step({"TSLA": 438.0, "AAPL": 230.10})
    assert sorted((e.instrument_id, e.side) for e in enters(decision)) == [
        ("SMART:AAPL", Side.BUY), ("SMART:TSLA", Side.SELL)
    ]


def stopped_attempt(sim, *, entry: float, stop_bar: tuple[float, float, float, float]) -> None:
    sim.step({"TSLA": entry, "AAPL": 228.0})
    assert sim.held("TSLA") is not None
    sim.step({"TSLA": stop_bar, "AAPL": 228.0})
    assert sim.held("TSLA") is None


def test_attempt_limit_third_break_after_two_stopouts_is_blocked(make_sim) -> None:
    sim = make_sim()
    sim.warm_up(20)
    stopped_attempt(sim, entry=445.30, stop_bar=(445.2, 445.3, 444.9, 444.95))
    stopped_attempt(sim, entry=445.40, stop_bar=(445.3, 445.3, 444.8, 444.9))
    third = sim.step({"TSLA": 445.60, "AAPL": 228.0})
    assert enters(third) == []
    assert [(b.rule, b.instrument_id) for b in third.blocks] == [("ATTEMPT_LIMIT", "SMART:TSLA")]
    assert "2 of 2 attempts used" in third.blocks[0].reason
    assert [f[1] for f in sim.fills] == ["ENTRY_LONG", "STOP", "ENTRY_LONG", "STOP"]
    analytics = sim.state["analytics"]
    assert analytics["trades"] == 2 and analytics["losses"] == 2 and analytics["exits"] == {"STOP": 2}
    assert Decimal(analytics["realized_pnl"]) == Decimal("-70.00")  # (445.00-445.30)*100 + (445.00-445.40)*100
    # the short side of the same symbol keeps its own count
    [short] = enters(sim.step({"TSLA": 438.0, "AAPL": 228.0}))
    assert short.side is Side.SELL


def test_close_already_past_target_1_is_blocked_until_it_comes_back(make_sim) -> None:
    sim = make_sim()
    sim.warm_up(20)
    gap = sim.step({"TSLA": 447.20, "AAPL": 224.50})  # TSLA past long target 1, AAPL at short target 1
    assert enters(gap) == []
    assert sorted((b.rule, b.instrument_id) for b in gap.blocks) == [
        ("PAST_TARGET", "SMART:AAPL"), ("PAST_TARGET", "SMART:TSLA")
    ]
    back = sim.step({"TSLA": 446.80, "AAPL": 224.60})
    assert sorted((e.instrument_id, e.side) for e in enters(back)) == [("SMART:AAPL", Side.SELL), ("SMART:TSLA", Side.BUY)]
    assert sim.state["analytics"]["entry_paths"] == {"LONG continuation #1": 1, "SHORT continuation #1": 1}


def test_attempt_limit_is_configurable(make_sim) -> None:
    sim = make_sim({"max_attempts": 1})
    sim.warm_up(20)
    stopped_attempt(sim, entry=445.30, stop_bar=(445.2, 445.3, 444.9, 444.95))
    assert [b.rule for b in sim.step({"TSLA": 445.60, "AAPL": 228.0}).blocks] == ["ATTEMPT_LIMIT"]


def test_blocked_signal_is_counted_once_per_episode(make_sim) -> None:
    sim = make_sim({"max_attempts": 1})
    sim.warm_up(20)
    stopped_attempt(sim, entry=445.30, stop_bar=(445.2, 445.3, 444.9, 444.95))
    for _ in range(5):
        sim.step({"TSLA": 445.60, "AAPL": 228.0})
    sim.step({"TSLA": 444.0, "AAPL": 228.0})  # back inside: the episode ends
    sim.step({"TSLA": 445.70, "AAPL": 228.0})
    assert sim.state["analytics"]["blocks"] == {"ATTEMPT_LIMIT": 2}


def test_entry_after_square_off_time_is_blocked(make_sim) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    sim = make_sim(start_at=datetime(2025, 3, 4, 15, 53, tzinfo=ZoneInfo("America/New_York")))
    sim.warm_up(23)  # last bar 15:54:50-15:54:55
    decision = sim.step({"TSLA": 445.5, "AAPL": 228.0})  # ends 15:55:00
    assert enters(decision) == [] and [b.rule for b in decision.blocks] == ["AFTER_CUTOFF"]


def test_entry_cutoff_allows_the_bar_ending_at_it_and_blocks_the_next(make_sim) -> None:
    sim = make_sim({"entry_cutoff": "09:31:45"})
    sim.warm_up(20)  # 09:30:00-09:31:40
    assert len(enters(sim.step({"TSLA": 445.5, "AAPL": 228.0}))) == 1  # ends 09:31:45
    late = sim.step({"TSLA": 445.5, "AAPL": 230.5})
    assert [(b.rule, b.instrument_id) for b in late.blocks] == [("AFTER_CUTOFF", "SMART:AAPL")]


def test_risk_sizing_divides_cash_risk_by_distance_to_the_stop(make_sim) -> None:
    sim = make_sim({"sizing": "risk", "risk_per_trade": 100})
    sim.warm_up(20)
    decision = sim.step({"TSLA": 445.30, "AAPL": 225.10})
    sizes = {e.instrument_id: e.quantity for e in enters(decision)}
    assert sizes == {"SMART:TSLA": 333, "SMART:AAPL": 111}  # 100/0.30 = 333.3; 100/0.90 = 111.1


def test_risk_sizing_respects_max_shares_and_blocks_below_one_share(make_sim) -> None:
    sim = make_sim({"sizing": "risk", "risk_per_trade": "0.50", "max_shares": 20})
    sim.warm_up(20)
    decision = sim.step({"TSLA": 445.01, "AAPL": 225.0})  # 0.50/0.01 = 50 -> capped at 20; 0.50/1.00 < 1 share
    assert {e.instrument_id: e.quantity for e in enters(decision)} == {"SMART:TSLA": 20}
    assert [(b.rule, b.instrument_id) for b in decision.blocks] == [("SIZE", "SMART:AAPL")]


def test_fixed_shares_are_configurable(make_sim) -> None:
    sim = make_sim({"shares": 40})
    sim.warm_up(20)
    assert [e.quantity for e in enters(sim.step({"TSLA": 445.5}))] == [40]


def test_redelivered_bar_is_ignored(make_sim) -> None:
    sim = make_sim()
    sim.warm_up(19)
    from tradekit.model import Candle

    stale = {"SMART:TSLA": Candle("SMART:TSLA", sim.ts.replace(second=0), 5, 442, 442, 442, 442)}
    decision = sim.strategy.on_candles(sim.context(), stale, sim.state)
    assert len(decision.state["buffers"]["TSLA"]) == 19 and decision.intents == () and decision.blocks == ()


def test_start_without_scanner_raises_a_clear_strategy_error(make_sim) -> None:
    with pytest.raises(StrategyError, match=r"^ps60 needs the day's scanner file"):
        make_sim(scanner=None)


def test_start_with_a_bad_scanner_raises_naming_file_line_and_field(make_sim) -> None:
    with pytest.raises(StrategyError, match=r"scanner-2025-03-04.csv:2: field 'support' 'x' is not a number"):
        make_sim(scanner=HEADER + "\nTSLA,445,x,447,450,436,433\n")


def test_scanner_symbol_without_instrument_is_skipped_and_not_subscribed(make_sim) -> None:
    sim = make_sim(symbols=("TSLA",))
    assert any("AAPL (scanner line 3) is not tradable here; skipped" in line for line in sim.last_logs)
    subscription = sim.strategy.subscription(sim.context(), sim.state)
    assert subscription.instruments == ("SMART:TSLA",)
    assert subscription.candle_seconds == 5 and subscription.monitor_seconds is None


def test_no_tradable_scanner_symbol_is_an_error(make_sim) -> None:
    with pytest.raises(StrategyError, match=r"none of the 2 scanner symbols is an instrument here \(TSLA, AAPL\)"):
        make_sim(symbols=("MSFT",))
