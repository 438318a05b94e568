"""A full PUT day, uninterrupted and restarted at every step: the decisions must be identical."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from oi_momentum_helpers import Harness, at, oid
from tradekit.model import Candle

P25900 = oid(25900, "PUT")


def _opening(h: Harness) -> None:
    h.start()
    h.set(26000, "CALL", oi=35_123_625)
    h.set(26000, "PUT", oi=17_592_275)
    h.set(25900, "PUT", close=28.0, oi=2_000_000, volume=1000)
    h.set(25850, "PUT", close=22.0, oi=1_500_000, volume=1000)
    h.candle("09:15", spot=25890.0)


def _set(strike: int, **changes: object):
    return lambda h: h.set(strike, "PUT", **changes)


STEPS = [
    _opening,
    _set(25900, close=27.5, oi=2_010_000),
    lambda h: h.candle("09:20", spot=25946.95),  # strike 25850 -> 25900; OI rose: no signal
    _set(25900, close=29.0, oi=2_000_000),
    lambda h: h.candle("09:25"),  # signal before the window: OUTSIDE_WINDOW
    _set(25900, close=30.0, oi=1_980_000),
    lambda h: h.candle("09:30"),  # entry 1
    lambda h: h.quote("09:36", last=33.50),
    _set(25900, close=34.0, oi=1_970_000),
    lambda h: h.candle("09:35"),  # signal while long: IN_POSITION
    lambda h: h.quote("09:41", last=35.0),
    lambda h: h.quote("09:42", last=33.0),
    lambda h: h.quote("09:43", last=31.40),  # trailing stop
    lambda h: h.candle("09:40", spot=25960.0),  # flat again: strike 25950
    lambda h: h.candle("09:45", spot=25940.0),  # back to 25900
    _set(25900, close=31.0, oi=1_960_000),
    lambda h: h.candle("09:50"),  # entry 2
    lambda h: h.quote("09:56", last=31.2),
    _set(25900, close=30.5, oi=1_990_000),
    lambda h: h.candle("10:00"),
    lambda h: h.quote("13:00", last=30.0, oi=2_100_000),  # in loss, OI +6%: no OI stop yet
    _set(25900, close=32.0, oi=1_950_000),
    lambda h: h.candle("14:30", now=at("14:36:10")),  # late 14:30 candle, in position: blocked
    lambda h: h.quote("15:14", last=30.8),
    lambda h: h.quote("15:15", last=30.9),  # square-off
    _set(25900, close=32.5, oi=1_940_000),
    lambda h: h.candle("15:10"),  # flat, signal outside the window
]


def run(h: Harness, steps=STEPS) -> Harness:
    for step in steps:
        step(h)
    return h


def test_full_day_known_decisions():
    h = run(Harness())
    logs = h.logs()
    assert h.state["direction"] == "PUT"
    assert "max call OI 35,123,625 @ 26000, max put OI 17,592,275 @ 26000 -> PUT" in logs
    assert "strike updated 25850 -> 25900 (spot 25946.95)" in logs
    assert "strike updated 25900 -> 25950 (spot 25960.00)" in logs
    assert [(e.instrument_id, e.quantity, e.signal_price) for e in h.entries()] == [(P25900, 75, 30.0), (P25900, 75, 31.0)]
    entry_times = [r.at for r in h.records if any(i.reason == "ENTRY" for i in r.decision.intents)]
    assert entry_times == [at("09:35").isoformat(), at("09:55").isoformat()]
    assert [(t["exit_reason"], t["exit_time"], t["entry"], t["exit"]) for t in h.trades] == [
        ("TRAILING_STOP", at("09:43"), Decimal("30.0"), Decimal("31.4")),
        ("END_OF_DAY", at("15:15"), Decimal("31.0"), Decimal("30.9")),
    ]
    assert any(line.startswith("exit filled: SELL 75 NIFTY 25900 PUT @ 31.40 TRAILING_STOP P&L +4.67%") for line in logs)
    assert any(line.startswith("exit filled: SELL 75 NIFTY 25900 PUT @ 30.90 END_OF_DAY P&L -0.32%") for line in logs)
    assert [b.rule for b in h.blocks()] == ["OUTSIDE_WINDOW", "IN_POSITION", "IN_POSITION", "OUTSIDE_WINDOW"]
    assert h.state["entries_today"] == 2 and h.state["position"] is None
    readable = logs + [b.reason for b in h.blocks()]
    assert not [line for line in readable if re.search(r"\b(CE|PE)\b", line)]  # CALL/PUT only


def _boundaries() -> list[int]:
    return list(range(1, len(STEPS)))


@pytest.mark.parametrize("k", _boundaries())
def test_restart_after_any_step_continues_with_identical_decisions(k):
    straight = Harness()
    marks = []
    for step in STEPS:
        step(straight)
        marks.append(len(straight.records))

    restarted = run(Harness(), STEPS[:k])
    assert len(restarted.records) == marks[k - 1]
    last = straight.records[marks[k - 1] - 1].at
    restarted.restart(now=last[11:16])  # a new process with only the saved (JSON) state and the book
    resumed = restarted.records[-1].decision
    assert resumed.intents == () and resumed.blocks == ()
    run(restarted, STEPS[k:])

    after_straight = [r.comparable() for r in straight.records[marks[k - 1]:]]
    after_restart = [r.comparable() for r in restarted.records[marks[k - 1] + 1:]]
    assert after_restart == after_straight
    assert restarted.state == straight.state
    assert restarted.trades == straight.trades


def test_restart_mid_trade_keeps_entry_peak_and_oi_at_entry():
    h = run(Harness(), STEPS[:11])  # long since 09:30, peak 35.00 seen by the monitor at 09:41
    saved = h.state["position"]
    assert saved["peak"] == "35.0" and saved["oi_at_entry"] == 1_980_000
    h.restart("09:41")
    assert any("resumed 2025-12-09: direction PUT, strike 25900, entries today 1, in NIFTY 25900 PUT entry 30.00" in line
               for line in h.logs())
    h.quote("09:42", last=31.50)  # 35.00 x 0.90: only a remembered peak can stop here
    assert [e.reason for e in h.exits()] == ["TRAILING_STOP"]


def test_same_step_replayed_with_the_same_state_decides_the_same():
    """A kill between the decision and its commit: the engine re-runs the step from the saved state."""
    h = run(Harness(), STEPS[:6])  # the 09:30 candle is next
    saved = h.state
    ctx = h.context(at("09:35"))

    candles = {iid: Candle(iid, at("09:30"), 300, 30.0, 30.0, 30.0, 30.0, 1000, 1_980_000) for iid in [P25900]}
    first = h.strategy.on_candles(ctx, candles, saved)
    again = h.strategy.on_candles(ctx, candles, saved)
    assert first == again
    assert len(first.intents) == 1
    assert h.state == saved  # the input state was not mutated
