"""Exchange sessions, time zones and holidays, from exchange_calendars.

NSE uses the ``XBOM`` calendar (the Bombay exchange shares NSE's trading
holidays and hours, 09:15-15:30 IST); NYSE uses ``XNYS``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from tradekit.errors import ConfigError
from tradekit.ports.strategy import SessionInfo

MARKETS: dict[str, tuple[str, str]] = {
    "NSE": ("XBOM", "Asia/Kolkata"),
    "NYSE": ("XNYS", "America/New_York"),
}


@lru_cache(maxsize=None)
def _calendar(market: str) -> Any:
    import exchange_calendars

    try:
        code, _ = MARKETS[market]
    except KeyError:
        raise ConfigError(f"unknown market {market!r} (known: {', '.join(MARKETS)})") from None
    return exchange_calendars.get_calendar(code)


def timezone_of(market: str) -> str:
    if market not in MARKETS:
        raise ConfigError(f"unknown market {market!r} (known: {', '.join(MARKETS)})")
    return MARKETS[market][1]


def session(market: str, day: date) -> SessionInfo | None:
    """The session on ``day``, or None on a weekend or holiday."""
    import pandas as pd

    calendar = _calendar(market)
    stamp = pd.Timestamp(day)
    if stamp < calendar.first_session or stamp > calendar.last_session:
        raise ConfigError(
            f"{market} calendar covers {calendar.first_session.date()} to {calendar.last_session.date()}; "
            f"{day} is outside it (upgrade exchange-calendars)"
        )
    if not calendar.is_session(stamp):
        return None
    opened = calendar.session_open(stamp).to_pydatetime()
    closed = calendar.session_close(stamp).to_pydatetime()
    return SessionInfo(market=market, day=day, timezone=timezone_of(market), open=opened, close=closed)


def holiday_name(market: str, day: date) -> str:
    """A human word for why ``day`` has no session."""
    if day.weekday() >= 5:
        return "weekend"
    return "exchange holiday"


def next_session(market: str, after: datetime) -> SessionInfo:
    """The session in progress at ``after`` or the next one to open."""
    from zoneinfo import ZoneInfo

    local = after.astimezone(ZoneInfo(timezone_of(market))).date()
    for offset in range(0, 15):
        candidate = session(market, local + timedelta(days=offset))
        if candidate is not None and candidate.close > after:
            return candidate
    raise ConfigError(f"no {market} session within 15 days of {after}")
