from decimal import Decimal

from oi_momentum_helpers import Harness, at, oid
from tradekit.model import Order, OrderStatus, Side
from tradekit.model.intents import Exit
from tradekit.ports.strategy import PositionView

P25900 = oid(25900, "PUT")


def entered(h: Harness) -> None:
    """PUT day; 25900 PUT VWAP 28.00 after 09:15, entry signal at the 09:30 candle close 30.00 (OI 1,980,000)."""
    h.start()
    h.set(26000, "CALL", oi=35_123_625)
    h.set(25900, "PUT", close=28.0, oi=2_000_000, volume=1000)
    h.candle("09:15", spot=25946.95)
    h.set(25900, "PUT", close=30.0, oi=1_980_000, volume=0)  # no volume: VWAP stays 28.00
    h.candle("09:30")
    assert len(h.entries()) == 1


def test_monitor_worked_example_entry_30_ltp_33_50_logs_every_stop():
    h = Harness()
    entered(h)
    h.quote("09:36", last=33.50, oi=1_950_000)
    line = h.records[-1].decision.logs[0]
    assert line == (
        "NIFTY 25900 PUT: LTP 33.50 entry 30.00 P&L +11.67% | initial stop 22.50 (48.89% away) "
        "| trailing armed peak 33.50 stop 30.15 (11.11% away) | VWAP stop off in profit (VWAP 28.00) "
        "| OI stop off in profit (OI 1,950,000) | square-off 15:15 (in 339 min)"
    )
    assert h.exits() == []
    assert h.state["position"]["peak"] == "33.5"


def test_entry_price_is_the_fill_not_the_signal():
    h = Harness(fill_prices={"ENTRY": 30.60})
    entered(h)
    h.quote("09:36", last=30.60)
    assert "LTP 30.60 entry 30.60 P&L +0.00%" in h.records[-1].decision.logs[0]
    assert any("entry filled: BUY 75 NIFTY 25900 PUT @ 30.60 (signal 30.00" in line for line in h.logs())


def test_exit_initial_stop_from_monitor_quote():
    h = Harness(settings={"vwap_stop_pct": 90})  # keep the VWAP stop (level 2.80) out of the way
    entered(h)
    h.quote("09:41", last=22.55)
    assert h.exits() == []
    h.quote("09:42", last=22.50)
    assert h.exits() == [Exit(P25900, reason="INITIAL_STOP", signal_price=22.5)]
    assert h.trades[-1]["exit_reason"] == "INITIAL_STOP"
    assert h.state["position"] is None
    assert any(line.startswith("exit filled: SELL 75 NIFTY 25900 PUT @ 22.50 INITIAL_STOP P&L -25.00%") for line in h.logs())


def test_exit_trailing_stop_after_arming():
    h = Harness()
    entered(h)
    for minute, last in (("09:36", 32.90), ("09:37", 35.00), ("09:38", 31.60)):
        h.quote(minute, last=last)
    assert h.exits() == []
    h.quote("09:39", last=31.50)  # 35.00 x 0.90
    assert [e.reason for e in h.exits()] == ["TRAILING_STOP"]
    assert "trailing armed peak 35.00 stop 31.50 (hit)" in h.records[-2].decision.logs[0]


def test_exit_trailing_never_armed_below_plus_10_percent():
    h = Harness()
    entered(h)
    h.quote("09:36", last=32.95)
    h.quote("09:37", last=29.60)  # 10% below the peak, but the trail never armed; in loss, VWAP 28 OK
    assert h.exits() == []


def test_exit_vwap_stop_in_loss():
    h = Harness()
    entered(h)
    h.quote("09:36", last=26.65)  # VWAP 28.00 x 0.95 = 26.60
    assert h.exits() == []
    h.quote("09:37", last=26.55)
    assert [e.reason for e in h.exits()] == ["VWAP_STOP"]


def test_exit_oi_stop_in_loss_against_oi_at_entry():
    h = Harness()
    entered(h)
    h.quote("09:36", last=29.0, oi=2_177_999)
    assert h.exits() == []
    h.quote("09:37", last=31.0, oi=3_000_000)  # in profit: the OI stop is off
    assert h.exits() == []
    h.quote("09:38", last=29.0, oi=2_178_000)  # 1,980,000 x 1.10
    assert [e.reason for e in h.exits()] == ["OI_STOP"]


def test_exit_end_of_day_on_the_1515_monitor_check_without_a_candle():
    h = Harness()
    entered(h)
    h.quote("15:14", last=31.0)
    assert h.exits() == []
    h.quote("15:15", last=31.0)
    assert h.exits() == [Exit(P25900, reason="END_OF_DAY", signal_price=31.0)]
    assert h.trades[-1]["exit_reason"] == "END_OF_DAY"


def test_exit_end_of_day_fires_without_a_quote():
    h = Harness()
    entered(h)
    d = h.strategy.on_quotes(h.context(at("15:15")), {}, h.state)
    assert d.intents == (Exit(P25900, reason="END_OF_DAY", signal_price=None),)


def test_exit_missing_quote_before_square_off_skips_the_check():
    h = Harness()
    entered(h)
    d = h.strategy.on_quotes(h.context(at("10:00")), {}, h.state)
    assert d.intents == ()
    assert d.logs == ("NIFTY 25900 PUT: no fresh quote; exit check skipped",)


def test_exit_checked_on_the_candle_close_too():
    h = Harness()
    entered(h)
    h.set(25900, "PUT", close=22.0)
    h.candle("09:35")
    assert [e.reason for e in h.exits()] == ["INITIAL_STOP"]
    assert h.exits()[0].signal_price == 22.0


def test_exit_end_of_day_on_the_1510_candle_closing_at_1515():
    h = Harness()
    entered(h)
    h.set(25900, "PUT", close=31.0)
    h.candle("15:10")
    assert [e.reason for e in h.exits()] == ["END_OF_DAY"]
    assert h.blocks() == []


def test_exit_sent_once_while_its_order_works_then_again_if_lost():
    h = Harness(auto_fill=False)
    entered(h)
    h.fill(h.entries()[0], at("09:35"))
    h.quote("09:40", last=20.0)
    assert len(h.exits()) == 1
    working = Order("O9", "paper:test", P25900, Side.SELL, 75, reason="INITIAL_STOP", status=OrderStatus.ACCEPTED)
    h.working = (working,)
    h.quote("09:42", last=19.0)
    assert len(h.exits()) == 1  # the exit is working: no second sell
    h.working = ()  # rejected or lost
    h.quote("09:43", last=19.0)
    assert [e.reason for e in h.exits()] == ["INITIAL_STOP", "INITIAL_STOP"]
    assert any("INITIAL_STOP exit not filled and no order working; sending it again" in line for line in h.logs())


def test_position_closed_outside_the_strategy_makes_it_flat():
    h = Harness()
    entered(h)
    h.positions.clear()  # closed by hand in the broker's app, then synced
    h.quote("09:40", last=31.0, instrument=P25900)
    assert h.state["position"] is None
    assert h.exits() == []
    assert any("closed outside the strategy" in line for line in h.logs())


def test_fill_for_another_instrument_is_ignored():
    h = Harness()
    entered(h)
    before = h.state
    other = oid(26000, "CALL")
    from tradekit.model import Fill

    fill = Fill("X1", "paper:test", other, Side.BUY, 75, Decimal("10"), at("09:40"))
    order = Order("X1", "paper:test", other, Side.BUY, 75)
    d = h.strategy.on_fill(h.context(at("09:40")), fill, order, before)
    assert d.state == before
    assert "not this strategy's position" in d.logs[0]


def test_adopts_a_position_the_book_holds_when_state_is_fresh():
    h = Harness()
    h.positions[P25900] = PositionView(P25900, 75, Decimal("30.00"), at("09:31"))
    h.start("09:50")
    assert h.state["position"]["adopted"] == [75, "30.00"]
    assert h.state["entries_today"] == 1
    h.quote("09:51", last=22.0)
    assert [e.reason for e in h.exits()] == ["INITIAL_STOP"]


def test_fill_before_start_leaves_an_empty_state_alone():
    """The engine may settle fills found at the broker before start() (recovery): nothing to corrupt."""
    h = Harness()
    from tradekit.model import Fill

    fill = Fill("B1", "paper:test", P25900, Side.SELL, 75, Decimal("31"), at("09:50"))
    d = h.strategy.on_fill(h.context(at("09:50")), fill, Order("B1", "paper:test", P25900, Side.SELL, 75), {})
    assert d.state == {} and d.intents == ()
    assert "arrived before the strategy started" in d.logs[0]


def test_candles_without_saved_state_start_the_day_fresh():
    h = Harness()
    h.set(26000, "CALL", oi=35_123_625)
    h.state = {}
    h.candle("09:15", spot=25946.95)
    assert h.state["direction"] == "PUT" and h.state["strike"] == "25900"
    assert "no saved state for today: starting the day fresh" in h.logs()


def test_candle_batch_without_the_held_contract_skips_the_candle_check_quietly():
    h = Harness()
    entered(h)
    d = h.strategy.on_candles(h.context(at("09:40")), {}, h.state)
    assert d.intents == () and d.logs == ()
