"""`tradekit run --broker zerodha --live` through whole trading days on the fake Kite (rehearsal day, SimClock).

The unmodified kiteconnect client (through the plugin) sends every order to
the fake; the fake's book is the truth the assertions read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tradekit.clock import SimClock
from tradekit.plugins.manager import reset_plugin_manager
from tradekit.services.run import RunOptions, run
from tradekit.services.setup import workspace

from zerodha_live_helpers import (
    BEFORE_OPEN,
    DAY,
    SYMBOLS,
    assert_no_tag_twice,
    closed_days,
    fake_fills,
    oi_momentum_trades,
    open_positions,
    rehearsal_fake,
    store_fills,
    store_trades,
    tradekit_orders,
    write_home,
)
from tradekit_zerodha.fake import FakeKite

PUT = f"NFO:{SYMBOLS['traded_put']}"
FUTURE = f"NFO:{SYMBOLS['future']}"


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[FakeKite, SimClock, Path]]:
    clock = SimClock(BEFORE_OPEN)
    # client timeout 1 s (wall), faults hold 1.5 s: a slow answer on a loaded machine is not mistaken for one
    with rehearsal_fake(tmp_path / "data", clock, hang_seconds=1.5) as fake:
        home = tmp_path / "home"
        monkeypatch.setenv("TRADEKIT_HOME", str(home))
        for name in [n for n in __import__("os").environ if n.startswith("TRADEKIT__")]:
            monkeypatch.delenv(name)
        reset_plugin_manager()
        yield fake, clock, home
        reset_plugin_manager()


def _session(monkeypatch: pytest.MonkeyPatch, fake: FakeKite, home: Path, strategy: str, clock: SimClock,
             timeout: float = 5.0) -> tuple[list[str], object]:
    for name, value in write_home(home, fake, strategy=strategy, timeout=timeout).items():
        monkeypatch.setenv(name, value)
    lines: list[str] = []
    outcome = run(workspace(), RunOptions(broker="zerodha", strategy=strategy, live=True), lines.append, clock=clock)
    return lines, outcome


def test_live_oi_momentum_day_orders_reach_kite_once_even_when_placements_time_out(
        live, monkeypatch: pytest.MonkeyPatch) -> None:
    fake, clock, home = live
    # the entry's answer is lost after Kite took it; the first exit is lost before Kite saw it, then
    # meets a 503, and goes through on its third try: none of it may produce a second order
    fake.faults.next("timeout", path="/orders/regular", method="POST")
    fake.faults.next("hang", path="/orders/regular", method="POST")
    fake.faults.next("503", path="/orders/regular", method="POST")
    lines, outcome = _session(monkeypatch, fake, home, "oi-momentum", clock, timeout=1.0)

    assert outcome.result is not None and outcome.day == DAY, outcome.message
    assert [kind for kind, _, _ in fake.faults.fired] == ["timeout", "hang", "503"]
    tags = assert_no_tag_twice(fake)
    orders = tradekit_orders(fake)
    assert [(o["tradingsymbol"], o["transaction_type"], o["quantity"], o["order_type"], o["status"]) for o in orders] == [
        (SYMBOLS["traded_put"], side, 75, "MARKET", "COMPLETE") for side in ("BUY", "SELL", "BUY", "SELL")
    ]
    assert all(o["product"] == "MIS" and o["market_protection"] == -1 for o in orders)
    # the trades closed in the store are the fake's fills, at the fake's prices
    assert store_fills(home) == fake_fills(fake)
    trades = store_trades(home)
    assert [(reason, hhmm, entry, exit_) for reason, hhmm, entry, exit_, _ in trades] == oi_momentum_trades(300)
    assert all(quantity == 75 for *_, quantity in trades)
    assert open_positions(home) == [] and fake.app.net_quantity(SYMBOLS["traded_put"]) == 0
    days = closed_days(home)
    assert days[0][0] == "zerodha:AB1234" and days[0][2] is not None  # the live account, closed
    text = "\n".join(lines)
    assert any("checking its tag first" in line for line in lines)
    # tradekit's book and Kite's positions agree all day (Kite's day-blended average after the re-entry included)
    assert not [line for line in lines if "reconcile periodic" in line and "corrected" in line]
    assert f"order {tags[0]} sent" in text and f"order {tags[2]} sent" in text
    assert clock.now() >= BEFORE_OPEN.replace(hour=15, minute=30)


def test_live_protective_stop_is_placed_at_kite_kept_equal_to_the_position_and_fills_there(
        live, monkeypatch: pytest.MonkeyPatch) -> None:
    fake, clock, home = live
    # at 10:07 the trader sells one of the two lots by hand in the Kite app
    fake.app.at(BEFORE_OPEN.replace(hour=10, minute=7),
                lambda: fake.app.trade(SYMBOLS["future"], "SELL", 75, product="MIS"))
    _, outcome = _session(monkeypatch, fake, home, "example", clock)
    assert outcome.result is not None, outcome.message
    assert_no_tag_twice(fake)
    entry, stop = tradekit_orders(fake)
    assert (entry["tradingsymbol"], entry["transaction_type"], entry["quantity"], entry["order_type"], entry["status"]) == (
        SYMBOLS["future"], "BUY", 150, "MARKET", "COMPLETE")
    assert entry["average_price"] == 25200.0  # 10:05, the close of the 10:04 bar
    # a future takes a real SL-M, sized to the position (150), its trigger 0.5% under the 25200 close ...
    placed, *changes = fake.book.history[stop["order_id"]][3:]
    assert (placed["order_type"], placed["status"], placed["transaction_type"], placed["quantity"]) == (
        "SL-M", "TRIGGER PENDING", "SELL", 150)
    assert stop["trigger_price"] == 25074.0
    # ... cut to 75 once the hand-made sale was seen, and it is what filled when 10:18 went through it
    assert [(c["status"], c["quantity"]) for c in changes][:2] == [("MODIFY PENDING", 75), ("TRIGGER PENDING", 75)]
    assert (stop["status"], stop["filled_quantity"], stop["average_price"]) == ("COMPLETE", 75, 24900.0)
    trades = store_trades(home)
    assert [(reason, entry_price, exit_price, quantity) for reason, _, entry_price, exit_price, quantity in trades] == [
        ("STOP", 25200, 25050, 150)]  # half sold by hand at 25200, half stopped at 24900
    assert store_fills(home) == fake_fills(fake)
    assert open_positions(home) == [] and fake.app.net_quantity(SYMBOLS["future"]) == 0


def test_live_exit_whose_placement_keeps_failing_is_looked_up_and_sent_later_in_the_session(
        live, monkeypatch: pytest.MonkeyPatch) -> None:
    fake, clock, home = live
    # the first exit: lost before Kite saw it, then two 503s: the retry policy's three tries are spent
    fake.faults.next("hang", path="/orders/regular", method="POST", after=1)  # the entry goes through
    fake.faults.next("503", path="/orders/regular", method="POST", after=1, times=2)
    _, outcome = _session(monkeypatch, fake, home, "oi-momentum", clock, timeout=1.0)
    assert outcome.result is not None
    assert [kind for kind, _, _ in fake.faults.fired] == ["hang", "503", "503"]
    assert_no_tag_twice(fake)
    assert fake.app.net_quantity(SYMBOLS["traded_put"]) == 0  # the exit was looked up by tag, then sent again
    assert open_positions(home) == []
