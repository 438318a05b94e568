"""Exchange calendars: sessions in the exchange's own time zone, holidays and weekends without a session."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from tradekit.calendars import holiday_name, next_session, session, timezone_of
from tradekit.errors import ConfigError

IST = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")


def test_calendar_nse_regular_day_session_ist() -> None:
    info = session("NSE", date(2025, 12, 9))
    assert info is not None
    assert (info.market, info.day, info.timezone) == ("NSE", date(2025, 12, 9), "Asia/Kolkata")
    assert info.open.astimezone(IST).time() == time(9, 15)
    assert info.close.astimezone(IST).time() == time(15, 30)
    assert info.open.utcoffset() is not None  # aware
    assert info.open == datetime(2025, 12, 9, 9, 15, tzinfo=IST)


@pytest.mark.parametrize(
    "day",
    [date(2025, 10, 21),  # Diwali Laxmi Pujan (only the evening muhurat session trades)
     date(2025, 10, 2),  # Gandhi Jayanti / Dussehra
     date(2025, 10, 22),  # Diwali Balipratipada
     date(2025, 8, 15),  # Independence Day
     date(2025, 12, 25)],  # Christmas
)  # fmt: skip
def test_calendar_nse_holiday_no_session(day: date) -> None:
    assert day.weekday() < 5
    assert session("NSE", day) is None
    assert holiday_name("NSE", day) == "exchange holiday"


@pytest.mark.parametrize("market", ["NSE", "NYSE"])
def test_calendar_weekend_no_session(market: str) -> None:
    saturday = date(2025, 12, 13)
    assert session(market, saturday) is None
    assert holiday_name(market, saturday) == "weekend"


def test_calendar_nyse_regular_day_and_half_day_new_york_time() -> None:
    regular = session("NYSE", date(2025, 12, 9))
    assert regular is not None and regular.timezone == "America/New_York"
    assert (regular.open.astimezone(NEW_YORK).time(), regular.close.astimezone(NEW_YORK).time()) == (time(9, 30), time(16, 0))
    half = session("NYSE", date(2025, 11, 28))  # the day after Thanksgiving closes at 13:00
    assert half is not None and half.close.astimezone(NEW_YORK).time() == time(13, 0)
    assert session("NYSE", date(2025, 7, 4)) is None  # Independence Day


def test_calendar_next_session_from_weekend_is_monday_open() -> None:
    saturday_noon = datetime(2025, 12, 13, 12, 0, tzinfo=IST)
    upcoming = next_session("NSE", saturday_noon)
    assert upcoming.day == date(2025, 12, 15)
    assert upcoming.open == datetime(2025, 12, 15, 9, 15, tzinfo=IST)


def test_calendar_next_session_during_session_is_today() -> None:
    during = datetime(2025, 12, 9, 11, 0, tzinfo=IST)
    assert next_session("NSE", during).day == date(2025, 12, 9)
    after_close = datetime(2025, 12, 9, 15, 31, tzinfo=IST)
    assert next_session("NSE", after_close).day == date(2025, 12, 10)


def test_calendar_unknown_market_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown market 'LSE'"):
        session("LSE", date(2025, 12, 9))
    with pytest.raises(ConfigError, match="unknown market 'LSE'"):
        timezone_of("LSE")


def test_calendar_day_outside_coverage_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="outside it"):
        session("NSE", date(1990, 1, 2))
