"""Exits: target 1 partial with break-even, target 2, stops, end of day, and the trade record."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from tradekit.model import Side
from tradekit.model.intents import Enter, Exit, MoveStop

from tradekit_ps60 import report_lines

NY = ZoneInfo("America/New_York")


def views(decision) -> list[tuple]:
    out = []
    for intent in decision.intents:
        if isinstance(intent, Exit):
            out.append(("EXIT", intent.instrument_id, intent.reason, intent.quantity))
        elif isinstance(intent, MoveStop):
            out.append(("MOVE_STOP", intent.instrument_id, intent.stop_price, intent.reason))
        elif isinstance(intent, Enter):
            out.append(("ENTER", intent.instrument_id, intent.side, intent.quantity))
    return out


def long_tsla(sim, fill: float = 445.25, shares: int = 100) -> None:
    sim.warm_up(20)
    sim.step({"TSLA": 445.30, "AAPL": 228.0}, fill={"TSLA": fill})
    assert sim.held("TSLA").quantity == shares


def test_target_1_sells_half_as_partial_50_and_moves_stop_to_break_even(make_sim) -> None:
    sim = make_sim()
    long_tsla(sim)
    assert views(sim.step({"TSLA": 446.90, "AAPL": 228.0})) == []
    decision = sim.step({"TSLA": 447.10, "AAPL": 228.0}, fill={"TSLA": 447.13})
    assert views(decision) == [
        ("EXIT", "SMART:TSLA", "PARTIAL_50", 50),
        ("MOVE_STOP", "SMART:TSLA", Decimal("445.25"), "BREAK_EVEN"),
    ]
    trade = sim.state["trades"]["TSLA"]
    assert (trade["remaining"], trade["partial_taken"], trade["partial_filled"], trade["stop"]) == (50, True, 50, "445.25")
    assert sim.held("TSLA").quantity == 50 and sim.held("TSLA").stop == Decimal("445.25")
    assert Decimal(sim.state["analytics"]["realized_pnl"]) == Decimal("94.00")  # (447.13 - 445.25) x 50
    assert views(sim.step({"TSLA": 447.50, "AAPL": 228.0})) == []  # no second partial


def test_target_2_closes_the_rest_and_books_the_trade(make_sim) -> None:
    sim = make_sim()
    long_tsla(sim)
    sim.step({"TSLA": 447.10, "AAPL": 228.0}, fill={"TSLA": 447.13})
    decision = sim.step({"TSLA": 450.20, "AAPL": 228.0})
    assert views(decision) == [("EXIT", "SMART:TSLA", "TARGET_2", None)]
    assert sim.held("TSLA") is None and sim.state["trades"]["TSLA"] is None
    [closed] = sim.state["closed"]
    assert closed["exit_reason"] == "TARGET_2" and [e["reason"] for e in closed["exits"]] == ["PARTIAL_50", "TARGET_2"]
    analytics = sim.state["analytics"]
    assert (analytics["trades"], analytics["wins"], analytics["losses"], analytics["open_trades"]) == (1, 1, 0, 0)
    assert Decimal(analytics["realized_pnl"]) == Decimal("341.50")  # 94.00 + (450.20 - 445.25) x 50
    assert analytics["exits"] == {"TARGET_2": 1}


def test_target_1_and_2_on_the_same_bar_closes_everything_at_target_2(make_sim) -> None:
    sim = make_sim()
    long_tsla(sim)
    assert views(sim.step({"TSLA": 450.50, "AAPL": 228.0})) == [("EXIT", "SMART:TSLA", "TARGET_2", None)]


def test_targets_use_the_close_by_default_and_the_high_when_configured(make_sim) -> None:
    spike = (446.5, 447.5, 446.4, 446.5)  # traded through target 1, closed below it
    by_close = make_sim()
    long_tsla(by_close)
    assert views(by_close.step({"TSLA": spike, "AAPL": 228.0})) == []
    by_extreme = make_sim({"target_trigger": "extreme"})
    long_tsla(by_extreme)
    assert views(by_extreme.step({"TSLA": spike, "AAPL": 228.0})) == [
        ("EXIT", "SMART:TSLA", "PARTIAL_50", 50),
        ("MOVE_STOP", "SMART:TSLA", Decimal("445.25"), "BREAK_EVEN"),
    ]


def test_stop_at_break_even_after_partial_closes_flat_and_a_new_break_is_attempt_2(make_sim) -> None:
    sim = make_sim()
    long_tsla(sim)
    sim.step({"TSLA": 447.10, "AAPL": 228.0}, fill={"TSLA": 447.13})
    sim.step({"TSLA": (446.0, 446.0, 445.10, 444.90), "AAPL": 228.0})
    assert sim.fills[-1] == ("SMART:TSLA", "STOP", -50, Decimal("445.25"))
    [closed] = sim.state["closed"]
    assert closed["exit_reason"] == "STOP" and Decimal(closed["realized_pnl"]) == Decimal("94.00")
    assert sim.state["analytics"]["wins"] == 1
    [enter] = [i for i in sim.step({"TSLA": 445.60, "AAPL": 228.0}).intents if isinstance(i, Enter)]
    assert enter.side is Side.BUY and sim.state["trades"]["TSLA"]["attempt"] == 2
    assert sim.state["trades"]["TSLA"]["path"] == "breakout"


def test_stopped_out_bar_closing_beyond_the_pivot_re_enters_on_that_bar(make_sim) -> None:
    sim = make_sim()
    long_tsla(sim, fill=445.30)
    decision = sim.step({"TSLA": (445.2, 445.3, 444.9, 445.20), "AAPL": 228.0})  # stop hit, close back above
    assert [f[1] for f in sim.fills] == ["ENTRY_LONG", "STOP", "ENTRY_LONG"]
    assert views(decision) == [("ENTER", "SMART:TSLA", Side.BUY, 100)]
    assert sim.state["attempts"]["TSLA"]["LONG"] == 2


def test_stop_at_the_pivot_loses_the_distance_and_counts_the_attempt(make_sim) -> None:
    sim = make_sim()
    long_tsla(sim, fill=445.30)
    sim.step({"TSLA": (445.2, 445.3, 444.9, 444.95), "AAPL": 228.0})
    assert sim.fills[-1] == ("SMART:TSLA", "STOP", -100, Decimal("445.00"))
    assert Decimal(sim.state["analytics"]["realized_pnl"]) == Decimal("-30.00")
    assert sim.state["attempts"]["TSLA"]["LONG"] == 1 and sim.state["analytics"]["losses"] == 1


def test_short_partial_break_even_and_target_2(make_sim) -> None:
    sim = make_sim()
    sim.warm_up(20)
    sim.step({"TSLA": 442.0, "AAPL": 225.90})
    decision = sim.step({"TSLA": 442.0, "AAPL": 224.40})
    assert views(decision) == [
        ("EXIT", "SMART:AAPL", "PARTIAL_50", 50),
        ("MOVE_STOP", "SMART:AAPL", Decimal("225.90"), "BREAK_EVEN"),
    ]
    assert sim.held("AAPL").quantity == -50
    assert views(sim.step({"TSLA": 442.0, "AAPL": 222.90})) == [("EXIT", "SMART:AAPL", "TARGET_2", None)]
    assert Decimal(sim.state["analytics"]["realized_pnl"]) == Decimal("225.00")  # 1.50 x 50 + 3.00 x 50


def test_odd_quantity_partial_rounds_down(make_sim) -> None:
    sim = make_sim({"shares": 75})
    long_tsla(sim, shares=75)
    assert views(sim.step({"TSLA": 447.10, "AAPL": 228.0}))[0] == ("EXIT", "SMART:TSLA", "PARTIAL_50", 37)


def test_end_of_day_squares_off_at_15_55_without_a_bar_of_that_symbol(make_sim) -> None:
    sim = make_sim(start_at=datetime(2025, 3, 4, 15, 52, tzinfo=NY))
    long_tsla(sim)  # entry on the bar ending 15:53:45
    for _ in range(14):  # AAPL prints, TSLA does not, until 15:54:55
        assert views(sim.step({"AAPL": 228.0})) == []
    decision = sim.step({"AAPL": 228.0}, fill={"TSLA": 445.90})  # ends 15:55:00
    assert sim.ts == datetime(2025, 3, 4, 15, 55, tzinfo=NY)
    assert views(decision) == [("EXIT", "SMART:TSLA", "END_OF_DAY", None)]
    assert sim.held("TSLA") is None and sim.state["closed"][0]["exit_reason"] == "END_OF_DAY"
    assert views(sim.step({"AAPL": 228.0})) == []  # nothing sent twice


def test_end_of_day_moves_before_an_early_close(make_sim) -> None:
    from tradekit.ports.strategy import SessionInfo

    day = date(2025, 11, 28)  # the day after Thanksgiving: NYSE closes at 13:00
    early = SessionInfo("NYSE", day, "America/New_York", datetime.combine(day, time(9, 30), NY),
                        datetime.combine(day, time(13, 0), NY))
    sim = make_sim(session_info=early,
                   start_at=datetime(2025, 11, 28, 12, 52, tzinfo=NY))
    long_tsla(sim)
    reasons = []
    while sim.ts < datetime(2025, 11, 28, 12, 55, tzinfo=NY):
        reasons += [v[2] for v in views(sim.step({"AAPL": 228.0}, fill={"TSLA": 446.0}))]
    assert reasons == ["END_OF_DAY"]


def test_no_working_stop_at_the_broker_falls_back_to_a_strategy_stop_exit(make_sim) -> None:
    sim = make_sim(stop_orders=False)
    long_tsla(sim)
    assert views(sim.step({"TSLA": 445.10, "AAPL": 228.0})) == []
    assert views(sim.step({"TSLA": 444.90, "AAPL": 228.0})) == [("EXIT", "SMART:TSLA", "STOP", None)]
    assert sim.held("TSLA") is None and sim.state["closed"][0]["exit_reason"] == "STOP"


def test_stop_differing_at_the_broker_is_moved_back_once_per_resync_period(make_sim) -> None:
    sim = make_sim({"stop_resync_bars": 4})
    long_tsla(sim)
    sim.held("TSLA").stop = Decimal("444.00")  # someone moved it by hand
    seen = [views(sim.step({"TSLA": 446.0, "AAPL": 228.0})) for _ in range(6)]
    moves = [(i, v) for i, step in enumerate(seen) for v in step]
    assert moves == [(3, ("MOVE_STOP", "SMART:TSLA", Decimal("445.00"), "STOP_RESYNC"))]
    assert sim.held("TSLA").stop == Decimal("445.00")


def test_entry_neither_filled_nor_working_is_given_up_and_still_counts_as_an_attempt(make_sim) -> None:
    sim = make_sim()
    sim.warm_up(20)
    sim.step({"TSLA": 445.30, "AAPL": 228.0}, act=False)  # e.g. rejected for lack of funds
    assert sim.state["trades"]["TSLA"]["status"] == "pending"
    for _ in range(2):
        assert views(sim.step({"TSLA": 445.30, "AAPL": 228.0}, act=False)) == []
    again = sim.step({"TSLA": 445.30, "AAPL": 228.0}, act=False)
    assert views(again) == [("ENTER", "SMART:TSLA", Side.BUY, 100)]
    assert any("entry not filled after 15 s (rejected or refused); attempt 1 stays counted" in line for line in again.logs)
    assert sim.state["trades"]["TSLA"]["attempt"] == 2
    later = [sim.step({"TSLA": 445.30, "AAPL": 228.0}, act=False) for _ in range(10)]
    assert [v for d in later for v in views(d)] == []  # a rejecting broker sees two orders, not one every 15 s
    assert [b.rule for d in later for b in d.blocks] == ["ATTEMPT_LIMIT"]
    assert sim.state["analytics"]["unfilled_entries"] == 2 and sim.state["analytics"]["entries"] == 2
    assert "0 trades closed, 0 open, 2 entries, 2 not filled (0 won, 0 lost)" in report_lines(sim.state)[0]


def test_fill_arriving_after_the_entry_was_given_up_revives_the_trade(make_sim) -> None:
    sim = make_sim()
    sim.warm_up(20)
    sim.step({"TSLA": 445.30, "AAPL": 228.0}, act=False)
    for _ in range(3):
        sim.step({"TSLA": 444.0, "AAPL": 228.0}, act=False)
    assert sim.state["trades"]["TSLA"] is None
    sim._fill("SMART:TSLA", Side.BUY, 100, Decimal("445.31"), "ENTRY_LONG")
    trade = sim.state["trades"]["TSLA"]
    assert (trade["status"], trade["attempt"], trade["entry_price"]) == ("open", 1, "445.31")
    assert sim.state["attempts"]["TSLA"]["LONG"] == 1 and sim.state["analytics"]["unfilled_entries"] == 0


def test_partial_entry_fills_average_into_the_break_even_price(make_sim) -> None:
    sim = make_sim()
    sim.warm_up(20)
    sim.step({"TSLA": 445.30, "AAPL": 228.0}, act=False)
    sim._fill("SMART:TSLA", Side.BUY, 60, Decimal("445.20"), "ENTRY_LONG")
    sim.positions["SMART:TSLA"].stop = Decimal("445.00")
    sim._fill("SMART:TSLA", Side.BUY, 40, Decimal("445.31"), "ENTRY_LONG")
    trade = sim.state["trades"]["TSLA"]
    assert (trade["filled"], Decimal(trade["entry_price"])) == (100, Decimal("445.244"))
    decision = sim.step({"TSLA": 447.10, "AAPL": 228.0})
    assert views(decision)[1] == ("MOVE_STOP", "SMART:TSLA", Decimal("445.24"), "BREAK_EVEN")


def test_position_gone_at_the_broker_closes_the_trade_and_a_late_fill_is_booked(make_sim) -> None:
    from tradekit.model import Fill, Order, OrderStatus

    sim = make_sim()
    long_tsla(sim)
    del sim.positions["SMART:TSLA"]  # the stop filled while tradekit was not looking
    sim.step({"TSLA": 444.5, "AAPL": 228.0})
    [closed] = sim.state["closed"]
    assert closed["exit_reason"] == "CLOSED_AT_BROKER" and closed["unaccounted"] == 100
    fill = Fill("B1", "paper:test", "SMART:TSLA", Side.SELL, 100, Decimal("444.98"), sim.ts)
    order = Order("S1", "paper:test", "SMART:TSLA", Side.SELL, 100, reason="STOP", status=OrderStatus.FILLED)
    state = sim.strategy.on_fill(sim.context(), fill, order, sim.state).state
    assert state["closed"][0]["exit_reason"] == "STOP" and state["closed"][0]["unaccounted"] == 0
    assert Decimal(state["analytics"]["realized_pnl"]) == Decimal("-27.00")  # (444.98 - 445.25) x 100


def test_report_lines_show_pnl_paths_blocks_and_each_trade(make_sim) -> None:
    sim = make_sim()
    sim.warm_up(18)
    sim.step({"TSLA": 445.30, "AAPL": 228.0})  # WARMUP block
    sim.step({"TSLA": 445.30, "AAPL": 228.0}, fill={"TSLA": 445.25})
    sim.step({"TSLA": 447.10, "AAPL": 228.0}, fill={"TSLA": 447.13})
    sim.step({"TSLA": 450.20, "AAPL": 228.0})
    text = "\n".join(report_lines(sim.state))
    assert "1 trades closed, 0 open, 1 entries (1 won, 0 lost)" in text
    assert "realised P&L +341.50" in text
    assert "entries by path: LONG continuation #1 1" in text
    assert "entries blocked: WARMUP 1" in text
    assert "TSLA-LONG-1 (continuation): 100 @ 445.25 -> 50 @ 447.13 PARTIAL_50, 50 @ 450.2 TARGET_2" in text
    assert sim.strategy.analytics(sim.state) == sim.state["analytics"]


def test_exit_monitor_quotes_take_target_1_and_square_off(make_sim) -> None:
    from tradekit.model import Quote

    sim = make_sim({"monitor_seconds": 1})
    assert sim.strategy.subscription(sim.context(), sim.state).monitor_seconds == 1
    long_tsla(sim)
    quote = {"SMART:TSLA": Quote("SMART:TSLA", sim.ts, 447.05)}
    decision = sim.strategy.on_quotes(sim.context(), quote, sim.state)
    assert views(decision) == [
        ("EXIT", "SMART:TSLA", "PARTIAL_50", 50),
        ("MOVE_STOP", "SMART:TSLA", Decimal("445.25"), "BREAK_EVEN"),
    ]
    sim.ts = datetime(2025, 3, 4, 15, 55, 1, tzinfo=NY)
    late = sim.strategy.on_quotes(sim.context(), {}, decision.state)
    assert views(late) == [("EXIT", "SMART:TSLA", "END_OF_DAY", None)]
