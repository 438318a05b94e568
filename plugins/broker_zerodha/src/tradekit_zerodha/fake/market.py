"""The fake's market: a deterministic NIFTY day behind a narrow interface.

``MarketSource`` is all the fake server needs: the instrument catalogue, a
snapshot of any instrument at any moment, and candles. ``SyntheticNiftyDay``
generates one from a seed (spot random walk, Black-Scholes option prices,
open interest piled on round strikes). A loaded ``tradekit.data`` MarketDay
can be served through the same interface (see ``market_day_source``).
"""

from __future__ import annotations

import calendar
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")
SESSION_OPEN = time(9, 15)
SESSION_CLOSE = time(15, 30)
MONTH_CODES = {10: "O", 11: "N", 12: "D"}
NIFTY_INDEX_TOKEN = 256265  # Kite's token for NSE:NIFTY 50 (segment 9, indices)
SEGMENT_NFO = 2


@dataclass(frozen=True, slots=True)
class FakeInstrument:
    """One row of Kite's instrument dump."""

    instrument_token: int
    exchange_token: int
    tradingsymbol: str
    name: str
    expiry: date | None
    strike: float
    tick_size: float
    lot_size: int
    instrument_type: str  # CE, PE, FUT, EQ
    segment: str  # NFO-OPT, NFO-FUT, INDICES
    exchange: str  # NFO, NSE

    @property
    def key(self) -> str:
        return f"{self.exchange}:{self.tradingsymbol}"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An instrument at one moment of the day."""

    ts: datetime
    last: float
    open: float
    high: float
    low: float
    previous_close: float
    volume: int
    oi: int
    oi_day_high: int
    oi_day_low: int


CandleRow = tuple[datetime, float, float, float, float, int, int]


class MarketSource(Protocol):
    day: date

    def instruments(self) -> list[FakeInstrument]:
        """The day's instrument dump."""

    def snapshot(self, tradingsymbol: str, ts: datetime) -> Snapshot | None:
        """The instrument as it stood at ``ts`` (None when unknown)."""

    def candles(self, tradingsymbol: str, start: datetime, end: datetime, interval_seconds: int) -> list[CandleRow]:
        """Candles starting in [start, end)."""


def weekly_expiries(day: date, count: int, weekday: int = 1) -> list[date]:
    """The next ``count`` weekly expiries on or after ``day`` (NIFTY: Tuesdays)."""
    first = day + timedelta(days=(weekday - day.weekday()) % 7)
    return [first + timedelta(weeks=i) for i in range(count)]


def is_monthly_expiry(expiry: date) -> bool:
    """The last weekly expiry of its month takes the monthly symbol form."""
    return (expiry + timedelta(weeks=1)).month != expiry.month


def option_symbol(underlying: str, expiry: date, strike: int, right: str) -> str:
    """Kite's trading symbol: weekly ``NIFTY25O0725150CE`` or monthly ``NIFTY25OCT25150CE``."""
    yy = expiry.year % 100
    if is_monthly_expiry(expiry):
        return f"{underlying}{yy:02d}{calendar.month_abbr[expiry.month].upper()}{strike}{right}"
    month = MONTH_CODES.get(expiry.month, str(expiry.month))
    return f"{underlying}{yy:02d}{month}{expiry.day:02d}{strike}{right}"


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def black_scholes(spot: float, strike: float, years: float, vol: float, right: str) -> float:
    years = max(years, 1e-6)
    d1 = (math.log(spot / strike) + 0.5 * vol * vol * years) / (vol * math.sqrt(years))
    d2 = d1 - vol * math.sqrt(years)
    if right == "CE":
        return spot * _normal_cdf(d1) - strike * _normal_cdf(d2)
    return strike * _normal_cdf(-d2) - spot * _normal_cdf(-d1)


def _snap(price: float, tick: float = 0.05) -> float:
    return max(tick, round(round(price / tick) * tick, 2))


class SyntheticNiftyDay:
    """A reproducible NIFTY session: same ``day`` and ``seed``, same prices."""

    def __init__(
        self,
        day: date,
        *,
        seed: int = 7,
        open_spot: float = 25000.0,
        strikes_each_side: int = 40,
        expiries: int = 3,
        lot_size: int = 75,
        volatility: float = 0.12,
    ) -> None:
        self.day = day
        self.seed = seed
        self.lot_size = lot_size
        self.volatility = volatility
        rng = random.Random(f"spot:{day.isoformat()}:{seed}")
        self._minutes = int((datetime.combine(day, SESSION_CLOSE) - datetime.combine(day, SESSION_OPEN)).total_seconds() // 60)
        path = [open_spot]
        drift = rng.choice((-1, 1)) * 0.00004
        for _ in range(self._minutes):
            path.append(path[-1] * (1 + drift + rng.gauss(0, 0.0006)))
        self._spot_path = path
        self.previous_close = round(open_spot * (1 - rng.gauss(0, 0.004)), 2)
        self._open_dt = datetime.combine(day, SESSION_OPEN, tzinfo=IST)
        atm = int(round(open_spot / 50) * 50)
        self.strikes = [atm + 50 * i for i in range(-strikes_each_side, strikes_each_side + 1)]
        self.call_wall = int(math.ceil(open_spot / 500) * 500) + 500 * rng.randint(0, 1)
        self.put_wall = int(math.floor(open_spot / 500) * 500) - 500 * rng.randint(0, 1)
        self._instruments: dict[str, FakeInstrument] = {}
        self._options: dict[str, tuple[date, int, str]] = {}
        self._price_cache: dict[tuple[str, int], float] = {}
        self._oi_cache: dict[tuple[str, int], int] = {}
        self._extremes: dict[str, list[tuple[float, float]]] = {}  # running (high, low) over the 5-minute grid
        self._oi_extremes: dict[str, list[tuple[int, int]]] = {}  # running (high, low) over the 15-minute grid
        self._build_catalogue(expiries)
        self._nearest_expiry = min((e for e, _, _ in self._options.values()), default=None)
        # per-instrument constants, drawn once (seeding a Random per call dominated quote time)
        self._oi_noise = {s: random.Random(f"oi:{s}:{seed}").uniform(0.7, 1.3) for s in self._options}
        self._volume_rate = {s: random.Random(f"vol:{s}:{seed}").uniform(20, 400) * lot_size for s in self._instruments}

    # -- catalogue -----------------------------------------------------------------
    def _build_catalogue(self, expiries: int) -> None:
        index = FakeInstrument(NIFTY_INDEX_TOKEN, NIFTY_INDEX_TOKEN >> 8, "NIFTY 50", "NIFTY 50", None, 0.0, 0.0, 0,
                               "EQ", "INDICES", "NSE")
        self._instruments[index.tradingsymbol] = index
        exchange_token = 35000
        for expiry in weekly_expiries(self.day, expiries):
            for strike in self.strikes:
                for right in ("CE", "PE"):
                    symbol = option_symbol("NIFTY", expiry, strike, right)
                    self._instruments[symbol] = FakeInstrument(
                        exchange_token * 256 + SEGMENT_NFO, exchange_token, symbol, "NIFTY", expiry, float(strike),
                        0.05, self.lot_size, right, "NFO-OPT", "NFO",
                    )
                    self._options[symbol] = (expiry, strike, right)
                    exchange_token += 1
        monthly = next(d for d in weekly_expiries(self.day, 6) if is_monthly_expiry(d))
        future = f"NIFTY{monthly.year % 100:02d}{calendar.month_abbr[monthly.month].upper()}FUT"
        self._future = (future, monthly)
        self._instruments[future] = FakeInstrument(
            exchange_token * 256 + SEGMENT_NFO, exchange_token, future, "NIFTY", monthly, 0.0, 0.1, self.lot_size,
            "FUT", "NFO-FUT", "NFO",
        )

    def instruments(self) -> list[FakeInstrument]:
        return list(self._instruments.values())

    def instrument(self, tradingsymbol: str) -> FakeInstrument | None:
        return self._instruments.get(tradingsymbol)

    # -- prices --------------------------------------------------------------------
    def _minute_of(self, ts: datetime) -> float:
        minutes = (ts.astimezone(IST) - self._open_dt).total_seconds() / 60.0
        return min(max(minutes, 0.0), float(self._minutes))

    def spot(self, ts: datetime) -> float:
        position = self._minute_of(ts)
        low = int(position)
        high = min(low + 1, self._minutes)
        weight = position - low
        return self._spot_path[low] * (1 - weight) + self._spot_path[high] * weight

    def _price(self, tradingsymbol: str, minute: float) -> float:
        moment = self._open_dt + timedelta(minutes=minute)
        spot = self.spot(moment)
        if tradingsymbol == "NIFTY 50":
            return round(spot, 2)
        if tradingsymbol == self._future[0]:
            return _snap(spot * 1.004, 0.1)
        expiry, strike, right = self._options[tradingsymbol]
        expiry_close = datetime.combine(expiry, SESSION_CLOSE, tzinfo=IST)
        years = max((expiry_close - moment).total_seconds(), 60.0) / (365.0 * 86400)
        return _snap(black_scholes(spot, float(strike), years, self.volatility, right))

    def _grid_price(self, tradingsymbol: str, minute: int) -> float:
        key = (tradingsymbol, minute)
        price = self._price_cache.get(key)
        if price is None:
            price = self._price_cache[key] = self._price(tradingsymbol, float(minute))
        return price

    def _oi(self, tradingsymbol: str, minute: float) -> int:
        option = self._options.get(tradingsymbol)
        if option is None:
            return 0 if tradingsymbol == "NIFTY 50" else 12_000_000
        expiry, strike, right = option
        wall = self.call_wall if right == "CE" else self.put_wall
        noise = self._oi_noise[tradingsymbol]
        near = 1.0 if expiry == self._nearest_expiry else 0.4
        base = 9_000_000 * near * (0.15 + math.exp(-(((strike - wall) / 400.0) ** 2))) * noise
        if right == "CE":  # calls pile up slightly more over the day than puts
            base *= 1.0 + 0.25 * minute / self._minutes
        else:
            base *= 1.0 + 0.10 * minute / self._minutes
        return max(self.lot_size, int(base // self.lot_size) * self.lot_size)

    def _grid_oi(self, tradingsymbol: str, minute: int) -> int:
        key = (tradingsymbol, minute)
        oi = self._oi_cache.get(key)
        if oi is None:
            oi = self._oi_cache[key] = self._oi(tradingsymbol, float(minute))
        return oi

    def _running(self, cache: dict[str, list[tuple[Any, Any]]], tradingsymbol: str, points: int, step: int,
                 value: Callable[[str, int], Any]) -> tuple[Any, Any]:
        """(max, min) of ``value`` over the first ``points`` grid minutes (0, step, 2*step, ...), memoised."""
        running = cache.setdefault(tradingsymbol, [])
        while len(running) < points:
            current = value(tradingsymbol, len(running) * step)
            if running:
                high, low = running[-1]
                running.append((max(high, current), min(low, current)))
            else:
                running.append((current, current))
        return running[points - 1]

    def _volume(self, tradingsymbol: str, minute: float) -> int:
        rate = self._volume_rate[tradingsymbol]
        return int(rate * minute) // self.lot_size * self.lot_size

    def snapshot(self, tradingsymbol: str, ts: datetime) -> Snapshot | None:
        if tradingsymbol not in self._instruments:
            return None
        minute = self._minute_of(ts)
        last = self._price(tradingsymbol, minute)
        high, low = self._running(self._extremes, tradingsymbol, int(minute) // 5 + 1, 5, self._grid_price)
        oi = self._oi(tradingsymbol, minute)
        oi_high, oi_low = self._running(self._oi_extremes, tradingsymbol, int(minute) // 15 + 1, 15, self._grid_oi)
        previous = self.previous_close if tradingsymbol == "NIFTY 50" else self._grid_price(tradingsymbol, 0) * 1.02
        return Snapshot(
            ts=ts.astimezone(IST), last=last, open=self._grid_price(tradingsymbol, 0), high=max(high, last),
            low=min(low, last), previous_close=round(previous, 2), volume=self._volume(tradingsymbol, minute),
            oi=oi, oi_day_high=max(oi_high, oi), oi_day_low=min(oi_low, oi),
        )

    def candles(self, tradingsymbol: str, start: datetime, end: datetime, interval_seconds: int) -> list[CandleRow]:
        if tradingsymbol not in self._instruments:
            return []
        step = max(interval_seconds // 60, 1)
        rows: list[CandleRow] = []
        for first in range(0, self._minutes, step):
            begin = self._open_dt + timedelta(minutes=first)
            if begin < start or begin >= end:
                continue
            last_minute = min(first + step, self._minutes)
            prices = [self._grid_price(tradingsymbol, m) for m in range(first, last_minute + 1)]
            volume = self._volume(tradingsymbol, last_minute) - self._volume(tradingsymbol, first)
            rows.append((begin, prices[0], max(prices), min(prices), prices[-1], volume,
                         self._oi(tradingsymbol, float(last_minute))))
        return rows


def session_start(day: date) -> datetime:
    return datetime.combine(day, SESSION_OPEN, tzinfo=IST)
