from datetime import timedelta

from oi_momentum_helpers import INDEX, Harness, at, oid, put_day_opening
from tradekit.model import Side
from tradekit.model.intents import Enter

P25900 = oid(25900, "PUT")


def signal_setup(h: Harness, strike: int = 25900, right: str = "PUT") -> None:
    """09:15 put day at spot 25946.95; the traded contract trades 1000 a candle at 28.00, OI 2,000,000."""
    h.start()
    h.set(26000, "CALL", oi=35_123_625)
    h.set(26000, "PUT", oi=17_592_275)
    h.set(strike, right, close=28.0, oi=2_000_000, volume=1000)
    h.candle("09:15", spot=25946.95)


def test_direction_on_first_candle_logs_oi_values_with_strikes():
    h = Harness()
    put_day_opening(h)
    assert "max call OI 35,123,625 @ 26000, max put OI 17,592,275 @ 26000 -> PUT" in h.logs()
    assert h.state["direction"] == "PUT"
    assert h.state["reference"] == {
        "call_strike": "26000", "call_oi": 35_123_625, "put_strike": "26000", "put_oi": 17_592_275, "candle": "09:15"
    }


def test_direction_is_fixed_for_the_day_whatever_later_oi_does():
    h = Harness()
    put_day_opening(h)
    h.set(26000, "PUT", oi=90_000_000)
    h.candle("09:20")
    assert h.state["direction"] == "PUT"
    assert sum("max call OI" in line for line in h.logs()) == 1


def test_direction_call_day_trades_the_smallest_strike_at_or_above_spot():
    h = Harness()
    h.start()
    h.set(25800, "PUT", oi=40_000_000)
    h.set(26100, "CALL", oi=20_000_000)
    h.candle("09:15", spot=25946.95)
    assert "max call OI 20,000,000 @ 26100, max put OI 40,000,000 @ 25800 -> CALL" in h.logs()
    assert h.state["strike"] == "25950"
    assert "trading strike 25950 CALL (spot 25946.95)" in h.logs()


def test_strike_worked_example_update_logged_with_spot():
    h = Harness()
    put_day_opening(h, spot=25890.0)
    assert h.state["strike"] == "25850"
    h.candle("09:20", spot=25946.95)
    assert h.state["strike"] == "25900"
    assert "strike updated 25850 -> 25900 (spot 25946.95)" in h.logs()
    h.candle("09:25", spot=25948.0)
    assert sum(line.startswith("strike updated") for line in h.logs()) == 1  # unchanged strike: no line


def test_direction_started_late_uses_first_candle_seen_and_says_so():
    h = Harness()
    h.start("10:02")
    h.set(26000, "CALL", oi=35_123_625)
    h.candle("10:00", spot=25946.95)
    assert h.state["direction"] == "PUT"
    assert any("direction fixed on the 10:00 candle, not the day's first (09:15)" in line for line in h.logs())


def test_vwap_is_per_contract_running_typical_price_from_the_open():
    h = Harness()
    signal_setup(h)
    h.set(25900, "PUT", close=30.0, high=33.0, low=27.0, volume=3000)  # typical 30.0
    h.candle("09:20")
    pv, volume, last_oi, _ = h.state["contracts"][P25900]
    assert volume == 4000
    assert pv / volume == (28.0 * 1000 + 30.0 * 3000) / 4000
    assert last_oi == 2_000_000


def test_vwap_close_setting_uses_the_close():
    h = Harness(settings={"vwap_price": "close"})
    signal_setup(h)
    h.set(25900, "PUT", close=30.0, high=36.0, low=27.0, volume=1000)
    h.candle("09:20")
    pv, volume, _, _ = h.state["contracts"][P25900]
    assert pv / volume == 29.0


def test_entry_signal_close_above_vwap_and_oi_fell_buys_lots_at_the_close():
    h = Harness(settings={"lots": 2})
    signal_setup(h)
    h.set(25900, "PUT", close=27.5, oi=2_010_000)
    h.candle("09:20")
    h.set(25900, "PUT", close=28.5, oi=2_030_000)  # above VWAP but OI rose: no entry
    h.candle("09:25")
    assert h.entries() == []
    h.set(25900, "PUT", close=30.0, oi=1_980_000)
    h.candle("09:30")
    assert h.entries() == [Enter(P25900, Side.BUY, 150, reason="ENTRY", signal_price=30.0)]
    assert h.state["entries_today"] == 1
    assert h.state["position"]["oi_at_entry"] == 1_980_000
    assert any("09:25 NIFTY 25900 PUT" in line and "no signal (OI did not fall)" in line for line in h.logs())
    assert any("09:30 NIFTY 25900 PUT: close 30.00" in line and "ENTRY BUY 2 lots (150) NIFTY 25900 PUT" in line
               for line in h.logs())


def test_entry_signal_needs_close_above_vwap():
    h = Harness()
    signal_setup(h)
    h.set(25900, "PUT", close=27.0, oi=1_900_000)  # OI fell, close below VWAP
    h.candle("09:30")
    assert h.entries() == []
    assert any("no signal (close not above VWAP)" in line for line in h.logs())


def test_entry_before_window_is_blocked_and_0930_bound_is_inclusive():
    h = Harness()
    signal_setup(h)
    h.set(25900, "PUT", close=29.0, oi=1_990_000)
    h.candle("09:25")
    assert h.entries() == []
    assert [b.rule for b in h.blocks()] == ["OUTSIDE_WINDOW"]
    assert h.blocks()[0].instrument_id == P25900
    h.set(25900, "PUT", close=30.0, oi=1_980_000)
    h.candle("09:30")
    assert len(h.entries()) == 1


def test_entry_1430_candle_arriving_late_still_enters():
    h = Harness()
    signal_setup(h)
    h.set(25900, "PUT", close=30.0, oi=1_990_000)
    late = at("14:35") + timedelta(seconds=47)  # the API answered 47 s after the candle closed
    h.candle("14:30", now=late)
    assert len(h.entries()) == 1
    assert h.blocks() == []


def test_entry_1435_candle_is_outside_the_window():
    h = Harness()
    signal_setup(h)
    h.set(25900, "PUT", close=30.0, oi=1_990_000)
    h.candle("14:35")
    assert h.entries() == []
    assert [b.rule for b in h.blocks()] == ["OUTSIDE_WINDOW"]


def test_entry_one_position_at_a_time_and_strike_frozen_while_in_it():
    h = Harness()
    signal_setup(h)
    h.set(25900, "PUT", close=30.0, oi=1_980_000)
    h.candle("09:30")
    assert h.state["position"]["entry_time"] is not None  # filled by the driver
    h.set(25900, "PUT", close=31.0, oi=1_970_000)  # a second signal while long
    h.candle("09:35", spot=26010.0)  # spot moved: a flat strategy would pick 26000
    assert len(h.entries()) == 1
    assert [b.rule for b in h.blocks()] == ["IN_POSITION"]
    assert h.state["strike"] == "25900"


def test_entry_max_entries_per_day_blocks_the_third_signal():
    h = Harness(fill_prices={"INITIAL_STOP": 22.0})
    signal_setup(h)
    for n, start in enumerate(("09:30", "09:45", "10:00")):
        h.set(25900, "PUT", close=30.0 + n, oi=1_900_000 - n * 10_000)
        h.candle(start)
        h.quote(f"{start[:3]}{int(start[3:]) + 6}", last=20.0)  # stop out so the next signal finds us flat
    assert len(h.entries()) == 2
    assert [b.rule for b in h.blocks()] == ["MAX_ENTRIES"]
    assert h.blocks()[0].reason == "2 of 2 entries used today"
    assert len(h.trades) == 2


def test_entry_not_filled_gives_up_after_the_next_candle_and_counts():
    h = Harness(auto_fill=False)
    signal_setup(h)
    h.set(25900, "PUT", close=30.0, oi=1_980_000)
    h.candle("09:30")
    assert len(h.entries()) == 1 and h.state["position"] is not None
    h.candle("09:35")
    assert h.state["position"] is None
    assert h.state["entries_today"] == 1
    assert any("entry order did not fill" in line for line in h.logs())


def test_subscription_candles_for_index_and_chain_monitor_only_the_held_contract():
    h = Harness()
    signal_setup(h)
    sub = h.strategy.subscription(h.context(at("09:20")), h.state)
    assert sub.candle_seconds == 300 and sub.monitor_seconds == 60
    assert sub.instruments[0] == INDEX and len(sub.instruments) == 1 + 2 * len(h.strikes)
    assert sub.monitor_instruments == ()
    h.set(25900, "PUT", close=30.0, oi=1_980_000)
    h.candle("09:30")
    assert h.strategy.subscription(h.context(at("09:36")), h.state).monitor_instruments == (P25900,)


def test_candle_delivered_twice_is_counted_once():
    h = Harness()
    signal_setup(h)
    before = list(h.state["contracts"][P25900])
    h.candle("09:15")  # the same candle again (a restart re-delivering it)
    assert h.state["contracts"][P25900] == before
