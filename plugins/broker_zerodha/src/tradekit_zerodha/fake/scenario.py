"""A hand-made NIFTY day whose trades are known in advance, for rehearsing a live session on the fake.

``write_rehearsal_day(root)`` writes it in tradekit's market-day format
(docs/data-format.md); ``FakeKite(market=market_day_source(load_day(path)))``
serves it. The generated ``SyntheticNiftyDay`` is realistic but gives no
guaranteed oi-momentum entry; this one does, by construction (one-minute
bars, Kite symbols, weekly expiry the next Tuesday):

- Every bar: NIFTY 50 at 25046.95; the 25100 CALL holds the most OI
  (35,123,625) against the 25100 PUT (17,592,275): direction PUT on the
  09:15 candle, trading strike 25000 PUT.
- 25000 PUT: 28.00 (OI 2,000,000) until 09:29; 30.00 with OI 1,980,000 in
  09:30-09:34 (close above VWAP, OI falling): entry at 09:35 at 30.00;
  33.50 from 09:35, 35.00 from 09:40 (the peak), 31.40 from 09:45: the
  09:46 exit check sees 31.40 <= 31.50, the trailing stop: exit at 31.40.
- 32.00 with OI 1,950,000 from 11:00: entry 2 at 11:05 at 32.00; 31.80 from
  11:05, 33.00 from 11:10 to the close: held to the 15:15 square-off
  (END_OF_DAY at 33.00).
- The month's NIFTY future (for a strategy with a protective stop, e.g.
  ``example``): 25100.0 until 09:59, rising 20 points a minute to 25200.0
  in 10:00-10:04, 25200.0 until 10:17, then 24900.0 to the close (a stop
  between them is crossed at 10:18).

Quotes answer the close of the last completed bar (see ``marketday``), so
market orders fill at the prices above, at the minute they are sent.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from pathlib import Path

from tradekit_zerodha.fake.market import IST, is_monthly_expiry, option_symbol, weekly_expiries

REHEARSAL_DAY = date(2025, 10, 6)  # a Monday; NIFTY weekly expiry Tuesday 2025-10-07
SPOT = 25046.95
STRIKES = range(24900, 25250, 50)
TRADED_STRIKE = 25000
WALL_STRIKE = 25100
OPTION_PATH = [  # (bar start HH:MM, price, OI) of the traded 25000 PUT
    ("09:15", 28.0, 2_000_000), ("09:30", 30.0, 1_980_000), ("09:35", 33.5, 1_980_000),
    ("09:40", 35.0, 1_980_000), ("09:45", 31.4, 1_980_000), ("11:00", 32.0, 1_950_000),
    ("11:05", 31.8, 1_950_000), ("11:10", 33.0, 1_950_000),
]
FUTURE_PATH = [("09:15", 25100.0)] + [(f"10:0{i}", 25120.0 + 20 * i) for i in range(5)] + [("10:18", 24900.0)]


def _at(day: date, hhmm: str) -> datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=IST)


def _step(path: list[tuple[str, float]] | list[tuple[str, float, int]], day: date, minute: datetime) -> tuple[float, ...]:
    value = path[0][1:]
    for start, *rest in path:
        if minute >= _at(day, start):
            value = tuple(rest)
    return value


def rehearsal_symbols(day: date = REHEARSAL_DAY) -> dict[str, str]:
    """Kite trading symbols of the day: ``traded_put``, ``wall_call``, ``wall_put``, ``future``."""
    expiry = weekly_expiries(day, 1)[0]
    monthly = next(d for d in weekly_expiries(day, 6) if is_monthly_expiry(d))
    return {
        "traded_put": option_symbol("NIFTY", expiry, TRADED_STRIKE, "PE"),
        "wall_call": option_symbol("NIFTY", expiry, WALL_STRIKE, "CE"),
        "wall_put": option_symbol("NIFTY", expiry, WALL_STRIKE, "PE"),
        "future": f"NIFTY{monthly.year % 100:02d}{calendar.month_abbr[monthly.month].upper()}FUT",
    }


def write_rehearsal_day(root: Path, day: date = REHEARSAL_DAY) -> Path:
    """Write the day under ``root/NSE/<day>`` and return that directory."""
    expiry = weekly_expiries(day, 1)[0]
    monthly = next(d for d in weekly_expiries(day, 6) if is_monthly_expiry(d))
    names = rehearsal_symbols(day)
    directory = root / "NSE" / day.isoformat()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "day.toml").write_text(
        f'market = "NSE"\ndate = "{day.isoformat()}"\ntimezone = "Asia/Kolkata"\nbar_seconds = 60\n'
        'regime = "hand-written"\ndescription = "fake Kite rehearsal: two oi-momentum trades, a future crossing a stop"\n'
        'exercises = ["oi-momentum:trailing_stop", "oi-momentum:end_of_day", "engine:protective_stop"]\n'
    )
    rows = ["symbol,exchange,kind,currency,lot_size,tick_size,underlying,expiry,strike,right,sector",
            "NIFTY 50,NSE,INDEX,INR,1,0.05,,,,,",
            f"{names['future']},NFO,FUTURE,INR,75,0.1,NIFTY,{monthly.isoformat()},,,"]
    options: dict[tuple[int, str], str] = {}
    for strike in STRIKES:
        for right, code in (("CALL", "CE"), ("PUT", "PE")):
            symbol = option_symbol("NIFTY", expiry, strike, code)
            options[(strike, right)] = symbol
            rows.append(f"{symbol},NFO,OPTION,INR,75,0.05,NIFTY,{expiry.isoformat()},{strike},{right},")
    (directory / "instruments.csv").write_text("\n".join(rows) + "\n")
    walls = {(WALL_STRIKE, "CALL"): 35_123_625, (WALL_STRIKE, "PUT"): 17_592_275}
    bars = ["ts,symbol,open,high,low,close,volume,oi"]
    minute, close = _at(day, "09:15"), _at(day, "15:30")
    previous_future = FUTURE_PATH[0][1]
    while minute < close:
        ts = minute.isoformat()
        bars.append(f"{ts},NIFTY 50,{SPOT},{SPOT},{SPOT},{SPOT},0,0")
        (future,) = _step(FUTURE_PATH, day, minute)
        low, high = min(previous_future, future), max(previous_future, future)
        bars.append(f"{ts},{names['future']},{previous_future},{high},{low},{future},500,12000000")
        previous_future = future
        for (strike, right), symbol in options.items():
            if (strike, right) == (TRADED_STRIKE, "PUT"):
                price, oi = _step(OPTION_PATH, day, minute)
                volume = 100
            else:
                price, volume, oi = 50.0, 0, walls.get((strike, right), 1_000_000)
            bars.append(f"{ts},{symbol},{price},{price},{price},{price},{volume},{int(oi)}")
        minute += timedelta(minutes=1)
    (directory / "bars.csv").write_text("\n".join(bars) + "\n")
    return directory


__all__ = ["REHEARSAL_DAY", "rehearsal_symbols", "write_rehearsal_day"]
