"""The nearest expiry's options: the one selection a broker's chain and a strategy's chain share."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tradekit.model import Instrument, InstrumentKind, OptionRight
from tradekit.model.instruments import nearest_expiry


def option(strike: str, right: OptionRight, expiry: date, underlying: str = "NIFTY") -> Instrument:
    code = "CE" if right is OptionRight.CALL else "PE"
    return Instrument(symbol=f"{underlying}{expiry:%y%m%d}{strike}{code}", exchange="NFO", kind=InstrumentKind.OPTION,
                      underlying=underlying, expiry=expiry, strike=Decimal(strike), right=right, lot_size=75,
                      tick_size=Decimal("0.05"))


THIS_WEEK, NEXT_WEEK, LAST_WEEK = date(2025, 10, 7), date(2025, 10, 14), date(2025, 9, 30)
INSTRUMENTS = [
    option("25000", OptionRight.CALL, LAST_WEEK),  # expired before the day
    option("25000", OptionRight.CALL, THIS_WEEK), option("25000", OptionRight.PUT, THIS_WEEK),
    option("25050", OptionRight.CALL, THIS_WEEK), option("25100", OptionRight.PUT, THIS_WEEK),
    option("25000", OptionRight.CALL, NEXT_WEEK),
    option("25000", OptionRight.CALL, THIS_WEEK, underlying="BANKNIFTY"),
    Instrument(symbol="NIFTY 50", exchange="NSE", kind=InstrumentKind.INDEX),
]


def test_the_first_expiry_on_or_after_the_day_of_that_underlying_only() -> None:
    series = nearest_expiry(INSTRUMENTS, "NIFTY", date(2025, 10, 6))
    assert series is not None and series.expiry == THIS_WEEK
    assert sorted(series.calls) == [Decimal(25000), Decimal(25050)] and sorted(series.puts) == [Decimal(25000), Decimal(25100)]
    assert all(i.underlying == "NIFTY" and i.expiry == THIS_WEEK for i in [*series.calls.values(), *series.puts.values()])


def test_on_expiry_day_that_expiry_is_still_the_nearest_and_after_it_the_next() -> None:
    assert nearest_expiry(INSTRUMENTS, "NIFTY", THIS_WEEK).expiry == THIS_WEEK  # type: ignore[union-attr]
    assert nearest_expiry(INSTRUMENTS, "NIFTY", date(2025, 10, 8)).expiry == NEXT_WEEK  # type: ignore[union-attr]


def test_a_strike_step_keeps_only_strikes_on_its_grid() -> None:
    series = nearest_expiry(INSTRUMENTS, "NIFTY", date(2025, 10, 6), Decimal(100))
    assert series is not None and sorted(series.calls) == [Decimal(25000)] and sorted(series.puts) == [Decimal(25000), Decimal(25100)]


def test_none_when_no_option_of_the_underlying_is_live() -> None:
    assert nearest_expiry(INSTRUMENTS, "NIFTY", date(2025, 10, 15)) is None
    assert nearest_expiry(INSTRUMENTS, "FINNIFTY", date(2025, 10, 6)) is None
