from datetime import datetime
from decimal import Decimal

import pytest

from oi_momentum_helpers import at
from tradekit_oi_momentum.config import parse_config
from tradekit_oi_momentum.stops import CheckInput, check_exits

CONFIG = parse_config({})


def check(ltp, *, entry="30.00", peak=None, vwap="29.00", oi=1_000_000, oi_at_entry=1_000_000, now: datetime | None = None):
    ltp_d = Decimal(ltp) if ltp is not None else None
    peak_d = Decimal(peak) if peak is not None else max(Decimal(entry), ltp_d or Decimal(0))
    return check_exits(
        CONFIG,
        CheckInput("NIFTY 25900 PUT", ltp_d, Decimal(entry), peak_d, Decimal(vwap) if vwap else None, oi, oi_at_entry,
                   now or at("11:00")),
    )


def test_check_worked_example_entry_30_ltp_33_50():
    result = check("33.50", peak="33.50")
    assert result.reason is None
    assert result.line.startswith(
        "NIFTY 25900 PUT: LTP 33.50 entry 30.00 P&L +11.67% | initial stop 22.50 (48.89% away) "
        "| trailing armed peak 33.50 stop 30.15 (11.11% away) | "
    )
    assert "VWAP stop off in profit (VWAP 29.00)" in result.line
    assert "OI stop off in profit (OI 1,000,000)" in result.line
    assert result.line.endswith("square-off 15:15 (in 255 min)")


@pytest.mark.parametrize(("ltp", "hit"), [("22.55", None), ("22.50", "INITIAL_STOP"), ("10.00", "INITIAL_STOP")])
def test_check_initial_stop_is_inclusive_at_25_percent(ltp, hit):
    assert check(ltp, vwap=None, oi=None).reason == hit


def test_check_trailing_not_armed_below_plus_10_percent():
    result = check("29.70", peak="32.95", vwap=None, oi=None)  # peak short of 33.00: no trail
    assert result.reason is None
    assert "trailing arms at 33.00 (peak 32.95)" in result.line


@pytest.mark.parametrize(("ltp", "hit"), [("30.20", None), ("30.15", "TRAILING_STOP")])
def test_check_trailing_armed_exits_at_10_percent_below_peak(ltp, hit):
    result = check(ltp, peak="33.50")
    assert result.reason == hit


def test_check_vwap_stop_only_while_in_loss():
    in_loss = check("29.50", vwap="31.10", oi=None)  # level 29.545
    in_profit = check("30.50", vwap="33.00", oi=None)  # far below VWAP but in profit
    assert in_loss.reason == "VWAP_STOP" and "VWAP stop 29.55 (VWAP 31.10, hit)" in in_loss.line
    assert in_profit.reason is None and "VWAP stop off in profit" in in_profit.line


def test_check_vwap_stop_is_strictly_below():
    assert check("28.50", vwap="30.00", oi=None).reason is None  # exactly on the 28.50 level: LTP < level fails
    assert check("28.45", vwap="30.00", oi=None).reason == "VWAP_STOP"


def test_check_oi_stop_only_while_in_loss_and_inclusive():
    hit = check("29.00", oi=1_100_000, oi_at_entry=1_000_000)
    near = check("29.00", oi=1_099_999, oi_at_entry=1_000_000)
    profit = check("31.00", oi=2_000_000, oi_at_entry=1_000_000)
    assert hit.reason == "OI_STOP" and "OI stop 1,100,000 (OI 1,100,000, hit)" in hit.line
    assert near.reason is None and "OI stop 1,100,000 (OI 1,099,999, 0.00% away)" in near.line
    assert profit.reason is None


def test_check_oi_stop_off_without_oi():
    result = check("29.00", oi=0, oi_at_entry=1_000_000)
    assert result.reason is None and "OI stop n/a (no OI)" in result.line


def test_check_end_of_day_at_square_off_even_without_a_quote():
    assert check("31.00", now=at("15:14:59")).reason is None
    assert check("31.00", now=at("15:15")).reason == "END_OF_DAY"
    no_quote = check(None, now=at("15:15"))
    assert no_quote.reason == "END_OF_DAY" and "no fresh quote" in no_quote.line


def test_check_first_hit_wins_in_rule_order():
    # everything at once: initial stop wins over VWAP, OI and the clock
    result = check("20.00", vwap="40.00", oi=5_000_000, now=at("15:20"))
    assert result.reason == "INITIAL_STOP"
    assert result.line.endswith("-> EXIT INITIAL_STOP")
    assert check("25.00", vwap="40.00", oi=5_000_000, now=at("15:20")).reason == "VWAP_STOP"
    assert check("29.90", vwap="29.00", oi=5_000_000, now=at("15:20")).reason == "OI_STOP"
