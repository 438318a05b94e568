"""Crash recovery at the port: save the state as JSON at a chosen instant, rebuild, continue.

Each scenario (requirements, "Crash recovery" 1-3, and 6) runs twice: once
uninterrupted and once with a new strategy object built from the saved
state at the chosen instant. The decisions after the restart must be the
very same, and so must the final state.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from tradekit.model.intents import Enter

NY = ZoneInfo("America/New_York")
QUIET = {"TSLA": 442.0, "AAPL": 228.0}


def bars(tsla, aapl=228.0, fill=None) -> tuple:
    return ({"TSLA": tsla, "AAPL": aapl}, fill)


WARMUP = [bars(442.0)] * 19
SCENARIO_1 = [
    *WARMUP,
    bars(445.30, fill={"TSLA": 445.25}),  # bar 20: long 100 TSLA @ 445.25
    bars(446.00),
    bars(447.10, fill={"TSLA": 447.13}),  # target 1: 50 sold @ 447.13  <- crash after this step
    bars(446.50),
    bars(445.60),
    bars(447.50),
    bars((446.0, 446.0, 445.20, 444.90)),  # trades through break-even: the stop sells the other 50
    bars(445.70),  # still above resistance: attempt 2
]
CRASH_1 = 21
SCENARIO_2 = [
    *WARMUP,
    bars(445.30),  # attempt 1
    bars((445.2, 445.3, 444.9, 444.95)),  # stopped at 445.00
    bars(445.40),  # attempt 2
    bars((445.3, 445.3, 444.8, 444.90)),  # stopped at 445.00  <- crash after this step
    bars(445.60),  # breaks again: blocked
    bars(446.10),
]
CRASH_2 = 22


def run(make_sim, script, crash_after: int | None = None, downtime: timedelta = timedelta(0)):
    sim = make_sim()
    restarted = None
    for index, (bar, fill) in enumerate(script):
        sim.step(bar, fill=fill)
        if index == crash_after:
            sim.ts += downtime
            restarted = sim.restart()
    return sim, restarted


def after(record: list, sim_ts: str) -> list:
    return [entry for entry in record if entry[0] > sim_ts]


def test_scenario_1_after_restart_50_remain_stop_at_break_even_and_no_second_entry(make_sim) -> None:
    reference, _ = run(make_sim, SCENARIO_1)
    crashed = make_sim()
    for bar, fill in SCENARIO_1[: CRASH_1 + 1]:
        crashed.step(bar, fill=fill)
    saved = crashed.state
    assert crashed.fills == [
        ("SMART:TSLA", "ENTRY_LONG", 100, Decimal("445.25")),
        ("SMART:TSLA", "PARTIAL_50", -50, Decimal("447.13")),
    ]
    resumed = crashed.restart()
    assert resumed.intents == ()
    trade = crashed.state["trades"]["TSLA"]
    assert (trade["remaining"], trade["stop"], trade["partial_taken"], trade["partial_filled"]) == (50, "445.25", True, 50)
    assert trade["entry_price"] == "445.25" and crashed.state == saved
    assert crashed.held("TSLA").quantity == 50 and crashed.held("TSLA").stop == Decimal("445.25")
    steps_after = []
    for bar, fill in SCENARIO_1[CRASH_1 + 1 : -1]:
        steps_after.append(crashed.step(bar, fill=fill))
    assert not any(isinstance(i, Enter) for d in steps_after for i in d.intents)  # no second entry while holding
    assert not any(d.intents for d in steps_after[:3])  # no second partial either
    assert crashed.fills[-1] == ("SMART:TSLA", "STOP", -50, Decimal("445.25"))
    crashed.step(*SCENARIO_1[-1])
    assert crashed.record == reference.record and crashed.state == reference.state
    assert crashed.state["trades"]["TSLA"]["attempt"] == 2  # the re-break after the stop is attempt 2, not 1


def test_scenario_2_two_attempts_then_restart_then_a_new_break_is_blocked(make_sim) -> None:
    reference, _ = run(make_sim, SCENARIO_2)
    crashed, resumed = run(make_sim, SCENARIO_2, crash_after=CRASH_2)
    assert resumed.intents == () and crashed.record == reference.record and crashed.state == reference.state
    blocked = [entry for entry in crashed.record if entry[2]]
    assert blocked == [(crashed.record[CRASH_2 + 1][0], (), (("ATTEMPT_LIMIT", "SMART:TSLA"),))]
    assert [f[1] for f in crashed.fills] == ["ENTRY_LONG", "STOP", "ENTRY_LONG", "STOP"]
    assert crashed.state["attempts"]["TSLA"] == {"LONG": 2, "SHORT": 0}
    assert crashed.state["analytics"]["blocks"] == {"ATTEMPT_LIMIT": 1}


def test_scenario_3_restart_during_warmup_keeps_counting_the_same_bars(make_sim) -> None:
    script = [*WARMUP, bars(445.30), bars(446.0)]
    reference, _ = run(make_sim, script)
    crashed, _ = run(make_sim, script, crash_after=9)
    assert crashed.record == reference.record and crashed.state == reference.state
    entry_steps = [i for i, entry in enumerate(crashed.record) if entry[1]]
    assert entry_steps == [19]  # bar 20, as without the crash


def test_scenario_3_mid_morning_restart_restores_buffers_and_starts_no_new_warmup(make_sim) -> None:
    start = datetime(2025, 3, 4, 10, 0, tzinfo=NY)
    sim = make_sim(start_at=start)
    for _ in range(40):
        sim.step(QUIET)
    buffers = {symbol: list(rows) for symbol, rows in sim.state["buffers"].items()}
    assert {symbol: len(rows) for symbol, rows in buffers.items()} == {"TSLA": 20, "AAPL": 20}
    sim.ts += timedelta(minutes=12)  # the process was down for 12 minutes
    sim.restart()
    assert sim.state["buffers"] == buffers
    assert any("bar buffers: AAPL 20, TSLA 20" in line for line in sim.last_logs)
    first = sim.step({"TSLA": 445.50, "AAPL": 225.50})
    assert first.blocks == ()
    assert sorted(i.instrument_id for i in first.intents if isinstance(i, Enter)) == ["SMART:AAPL", "SMART:TSLA"]


@pytest.mark.parametrize("crash_after", range(17, len(SCENARIO_1) - 1))
def test_restart_after_any_step_decides_exactly_as_the_uninterrupted_run(make_sim, crash_after: int) -> None:
    reference, _ = run(make_sim, SCENARIO_1)
    crashed, _ = run(make_sim, SCENARIO_1, crash_after=crash_after)
    assert crashed.record == reference.record
    assert crashed.fills == reference.fills
    assert crashed.state == reference.state


def test_restart_does_not_re_read_the_scanner_file(make_sim) -> None:
    sim = make_sim()
    sim.warm_up(5)
    sim.scanner.write_text("garbage\n")  # edited (or removed) after the day began
    sim.restart()
    assert sim.state["setups"]["TSLA"]["resistance"] == "445.00"


def test_scenario_6_state_from_an_earlier_day_resets_intraday_counters(make_sim) -> None:
    from tradekit.ports.strategy import SessionInfo

    sim, _ = run(make_sim, SCENARIO_2)
    assert sim.state["attempts"]["TSLA"]["LONG"] == 2
    day = date(2025, 3, 5)
    sim.session_info = SessionInfo("NYSE", day, "America/New_York", datetime.combine(day, time(9, 30), NY),
                                   datetime.combine(day, time(16, 0), NY))
    sim.ts = sim.session_info.open
    resumed = sim.restart()
    assert any("saved state is from 2025-03-04, not 2025-03-05; intraday counters reset" in l for l in resumed.logs)
    state = sim.state
    assert state["day"] == "2025-03-05" and state["attempts"]["TSLA"] == {"LONG": 0, "SHORT": 0}
    assert state["buffers"] == {"TSLA": [], "AAPL": []} and state["closed"] == []
    assert state["analytics"]["realized_pnl"] == "0" and state["analytics"]["trades"] == 0
    assert [b.rule for b in sim.step({"TSLA": 445.5, "AAPL": 228.0}).blocks] == ["WARMUP"]


def test_position_held_at_a_fresh_start_is_adopted_and_squared_off(make_sim) -> None:
    from tradekit.ports.strategy import SessionInfo

    sim, _ = run(make_sim, SCENARIO_1[:21])  # holding 100 TSLA
    day = date(2025, 3, 5)
    sim.session_info = SessionInfo("NYSE", day, "America/New_York", datetime.combine(day, time(9, 30), NY),
                                   datetime.combine(day, time(16, 0), NY))
    sim.ts = datetime.combine(day, time(15, 54, 55), NY)
    resumed = sim.restart()
    trade = sim.state["trades"]["TSLA"]
    assert (trade["path"], trade["remaining"], trade["stop"], trade["entry_price"]) == ("adopted", 100, "445.00", "445.25")
    assert any("not in ps60's record; managing it" in line for line in resumed.logs)
    decision = sim.step({"AAPL": 228.0}, fill={"TSLA": 446.0})
    assert [(i.instrument_id, i.reason) for i in decision.intents] == [("SMART:TSLA", "END_OF_DAY")]


def test_fill_before_start_is_left_to_reconciliation_at_start(make_sim) -> None:
    from tradekit.model import Fill, Order, OrderStatus, Side
    from tradekit.errors import StrategyError

    sim, _ = run(make_sim, SCENARIO_1[:21])  # holding 100 TSLA @ 445.25, stop 445.00
    saved = sim.state
    fill = Fill("B9", "paper:test", "SMART:TSLA", Side.SELL, 100, Decimal("445.00"), sim.ts)
    order = Order("S9", "paper:test", "SMART:TSLA", Side.SELL, 100, reason="STOP", status=OrderStatus.FILLED)
    fresh = type(sim.strategy)(sim.strategy.config)
    early = fresh.on_fill(sim.context(), fill, order, {})  # what an engine settling missed fills first would do
    assert early.state == {} and early.intents == () and "before start" in early.logs[0]
    with pytest.raises(StrategyError, match="before start"):
        fresh.on_candles(sim.context(), {}, {})
    del sim.positions["SMART:TSLA"]  # the stop filled while down
    sim.strategy = fresh
    sim.start(saved)
    [closed] = sim.state["closed"]
    assert closed["exit_reason"] == "CLOSED_AT_BROKER" and closed["unaccounted"] == 100


def test_saved_state_of_an_unknown_version_is_refused_not_reset(make_sim) -> None:
    from tradekit.errors import StrategyError

    sim, _ = run(make_sim, SCENARIO_2)
    sim.state["version"] = 99
    with pytest.raises(StrategyError, match=r"saved state has version 99, this ps60 reads 1; refusing"):
        sim.restart()
