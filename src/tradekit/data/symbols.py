"""NIFTY expiries and Kite trading symbols, and exchange trading days.

NSE moved NIFTY weekly expiries from Thursday to Tuesday from September 2025;
an expiry on a holiday moves to the previous trading day. The monthly expiry
is the last weekly expiry of its month. Kite names weeklies
``NIFTY<YY><M><DD><strike><CE|PE>`` (month code 1-9, O, N, D) and monthlies
``NIFTY<YY><MON><strike><CE|PE>``. BSE's calendar (XBOM) carries the same
equity-derivative holidays as NSE, so it stands in for NSE here.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from tradekit.errors import DataError
from tradekit.model import OptionRight

TUESDAY_FROM = date(2025, 9, 1)
_MONTH_CODES = "123456789OND"
_CALENDARS = {"NSE": "XBOM", "NYSE": "XNYS"}


@lru_cache(maxsize=4)
def _calendar(market: str):  # type: ignore[no-untyped-def]
    import exchange_calendars

    return exchange_calendars.get_calendar(_CALENDARS[market], start="2020-01-01")


def is_trading_day(market: str, day: date) -> bool:
    """True when ``market`` (NSE or NYSE) trades on ``day``."""
    try:
        return bool(_calendar(market).is_session(day.isoformat()))
    except Exception:  # a date outside the calendar's range
        return day.weekday() < 5


def weekly_expiry(day: date) -> date:
    """The nearest NIFTY weekly expiry on or after ``day`` (holiday-adjusted)."""
    weekday = 1 if day >= TUESDAY_FROM else 3
    candidate = day + timedelta(days=(weekday - day.weekday()) % 7)
    while True:
        adjusted = candidate
        while not is_trading_day("NSE", adjusted):
            adjusted -= timedelta(days=1)
        if adjusted >= day:
            return adjusted
        candidate += timedelta(days=7)


def is_monthly_expiry(expiry: date) -> bool:
    """The monthly expiry is the last weekly expiry of its month."""
    return weekly_expiry(expiry + timedelta(days=1)).month != expiry.month


def nifty_option_symbol(expiry: date, strike: Decimal | int, right: OptionRight) -> str:
    """Kite's trading symbol: NIFTY25D0925900PE (weekly) or NIFTY25DEC25900PE (monthly)."""
    code = "CE" if right is OptionRight.CALL else "PE"
    strike_text = format(Decimal(strike).normalize(), "f")
    year = f"{expiry.year % 100:02d}"
    if is_monthly_expiry(expiry):
        return f"NIFTY{year}{expiry.strftime('%b').upper()}{strike_text}{code}"
    return f"NIFTY{year}{_MONTH_CODES[expiry.month - 1]}{expiry.day:02d}{strike_text}{code}"


def require_trading_day(market: str, day: date) -> None:
    """Refuse to generate a day the exchange was closed (nothing trades on a holiday)."""
    if not is_trading_day(market, day):
        raise DataError(f"{day.isoformat()} is not a {market} trading day (weekend or holiday)")
