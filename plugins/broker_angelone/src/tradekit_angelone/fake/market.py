"""Market data behind the fake SmartAPI: a narrow interface and two sources.

The fake only needs ``listings()`` (what the scrip master lists) and
``series(token)`` (one-minute bars of the day with open interest).
``SyntheticNiftyDay`` generates a deterministic NIFTY day (index plus two
weekly expiries of options); ``MarketDaySource`` serves a day loaded with
``tradekit.data.load_day`` (``MarketDay.series``: instrument id -> Series with
``instrument``, ``ts`` int64 ns, ``open/high/low/close`` float64, ``volume``,
``oi``) once that module exists.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")
SESSION_OPEN = time(9, 15)
SESSION_CLOSE = time(15, 30)
NIFTY_LOT = 75
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


@dataclass(frozen=True)
class Listing:
    """One scrip master row, in tradekit-neutral terms (the server renders Angel's strings)."""

    token: str
    symbol: str  # Angel trading symbol: NIFTY25NOV2624000CE, "Nifty 50"
    name: str  # underlying: NIFTY
    exchange: str  # NSE or NFO
    instrumenttype: str  # AMXIDX, OPTIDX, FUTIDX
    lot_size: int = 1
    tick_size: float = 0.05  # rupees (the scrip master stores paise)
    expiry: date | None = None
    strike: float | None = None  # rupees (the scrip master stores paise)
    right: str | None = None  # CE or PE


@dataclass(frozen=True)
class MinuteSeries:
    """One trading day of one-minute bars; ``starts[i]`` is bar i's start, timezone-aware."""

    starts: Sequence[datetime]
    open: Sequence[float]
    high: Sequence[float]
    low: Sequence[float]
    close: Sequence[float]
    volume: Sequence[int]  # traded in the bar
    oi: Sequence[int]  # open interest at the bar's close
    previous_close: float

    def index_at(self, moment: datetime) -> int:
        """The last bar that has started at ``moment`` (the first before the open)."""
        return max(0, bisect.bisect_right(self.starts, moment) - 1)


class PriceSource(Protocol):
    day: date

    def listings(self) -> list[Listing]:
        """Everything the scrip master should list."""

    def series(self, token: str) -> MinuteSeries | None:
        """The day's one-minute bars for ``token``; None when it has none."""


def angel_expiry(day: date) -> str:
    """``2026-11-24`` -> ``24NOV2026`` (the scrip master's expiry format)."""
    return f"{day.day:02d}{MONTHS[day.month - 1]}{day.year}"


def option_symbol(name: str, expiry: date, strike: float, right: str) -> str:
    """Angel's option trading symbol: ``NIFTY24NOV2624000CE``."""
    return f"{name}{expiry.day:02d}{MONTHS[expiry.month - 1]}{expiry.year % 100:02d}{strike:g}{right}"


def weekly_expiries(day: date, count: int = 2, weekday: int = 1) -> list[date]:
    """The next ``count`` NIFTY weekly expiries (Tuesdays) on or after ``day``."""
    first = day + timedelta(days=(weekday - day.weekday()) % 7)
    return [first + timedelta(weeks=i) for i in range(count)]


def minute_starts(day: date) -> list[datetime]:
    start = datetime.combine(day, SESSION_OPEN, tzinfo=IST)
    end = datetime.combine(day, SESSION_CLOSE, tzinfo=IST)
    count = int((end - start).total_seconds() // 60)
    return [start + timedelta(minutes=i) for i in range(count)]


def _tick(value: float, tick: float = 0.05) -> float:
    return max(tick, round(round(value / tick) * tick, 2))


class SyntheticNiftyDay:
    """A deterministic NIFTY day: the index, and ``strikes_each_side`` strikes around the open on two expiries."""

    def __init__(self, day: date, *, seed: int = 7, spot: float = 24000.0, strikes_each_side: int = 10, step: int = 50) -> None:
        self.day = day
        self._rng = random.Random(seed)
        self._starts = minute_starts(day)
        self._listings: list[Listing] = [
            Listing(token="99926000", symbol="Nifty 50", name="NIFTY", exchange="NSE", instrumenttype="AMXIDX", tick_size=0.05)
        ]
        self._series: dict[str, MinuteSeries] = {}
        closes = [spot]
        for _ in self._starts:
            closes.append(closes[-1] * math.exp(self._rng.gauss(0.0, 0.0008)))
        self._spot = closes[1:]
        self._series["99926000"] = self._bars(closes, volume=False, oi=None)
        atm = round(spot / step) * step
        token = 40000
        for expiry in weekly_expiries(day):
            days_left = max((expiry - day).days, 0) + 0.3
            for k in range(-strikes_each_side, strikes_each_side + 1):
                strike = float(atm + k * step)
                for right in ("CE", "PE"):
                    token += 1
                    symbol = option_symbol("NIFTY", expiry, strike, right)
                    self._listings.append(
                        Listing(str(token), symbol, "NIFTY", "NFO", "OPTIDX", NIFTY_LOT, 0.05, expiry, strike, right)
                    )
                    prices = [self._premium(s, strike, right, days_left) for s in [spot, *self._spot]]
                    base_oi = int(2_000_000 * math.exp(-abs(strike - atm) / (6 * step))) // NIFTY_LOT * NIFTY_LOT
                    self._series[str(token)] = self._bars(prices, volume=True, oi=max(base_oi, NIFTY_LOT * 10))

    @staticmethod
    def _premium(spot: float, strike: float, right: str, days_left: float) -> float:
        intrinsic = max(0.0, spot - strike) if right == "CE" else max(0.0, strike - spot)
        time_value = spot * 0.0035 * math.sqrt(days_left) * math.exp(-abs(spot - strike) / (spot * 0.012))
        return _tick(intrinsic + time_value)

    def _bars(self, closes: list[float], *, volume: bool, oi: int | None) -> MinuteSeries:
        opens, highs, lows, lasts, volumes, ois = [], [], [], [], [], []
        current_oi = oi or 0
        for previous, close in zip(closes, closes[1:], strict=False):
            wiggle = abs(close - previous) * 0.5 + close * 0.0002
            opens.append(_tick(previous))
            highs.append(_tick(max(previous, close) + wiggle * self._rng.random()))
            lows.append(_tick(max(0.05, min(previous, close) - wiggle * self._rng.random())))
            lasts.append(_tick(close))
            volumes.append(self._rng.randint(1, 40) * NIFTY_LOT if volume else 0)
            if oi is not None:
                current_oi = max(NIFTY_LOT, current_oi + self._rng.randint(-6, 8) * NIFTY_LOT)
            ois.append(current_oi)
        return MinuteSeries(self._starts, opens, highs, lows, lasts, volumes, ois, previous_close=_tick(closes[0]))

    def listings(self) -> list[Listing]:
        return list(self._listings)

    def series(self, token: str) -> MinuteSeries | None:
        return self._series.get(token)


class MarketDaySource:
    """Serves a ``tradekit.data`` MarketDay: its options become NFO listings, its index ``NSE:Nifty 50``.

    Duck-typed on ``market_day.series`` (see the module docstring) so this
    file does not import ``tradekit.data``.
    """

    def __init__(self, market_day: Any, *, day: date | None = None) -> None:
        self._listings: list[Listing] = []
        self._series: dict[str, MinuteSeries] = {}
        token = 50000
        first_day = None
        series_map: Mapping[str, Any] = market_day.series
        for _instrument_id, series in sorted(series_map.items()):
            instrument = series.instrument
            starts = [datetime.fromtimestamp(int(ns) / 1e9, tz=IST) for ns in series.ts]
            if not starts:
                continue
            first_day = first_day or starts[0].date()
            kind = str(getattr(instrument, "kind", ""))
            if kind.endswith("INDEX"):
                listing = Listing("99926000", "Nifty 50", str(instrument.underlying or "NIFTY"), "NSE", "AMXIDX")
            elif kind.endswith("OPTION"):
                token += 1
                right = "CE" if str(instrument.right).endswith("CALL") else "PE"
                strike = float(instrument.strike)
                symbol = option_symbol(str(instrument.underlying), instrument.expiry, strike, right)
                listing = Listing(
                    str(token), symbol, str(instrument.underlying), "NFO", "OPTIDX",
                    int(instrument.lot_size), float(instrument.tick_size), instrument.expiry, strike, right,
                )
            else:
                continue
            closes = [float(value) for value in series.close]
            self._listings.append(listing)
            self._series[listing.token] = MinuteSeries(
                starts,
                [float(v) for v in series.open],
                [float(v) for v in series.high],
                [float(v) for v in series.low],
                closes,
                [int(v) for v in series.volume],
                [int(v) for v in series.oi],
                previous_close=float(series.open[0]),
            )
        self.day = day or getattr(market_day, "day", None) or first_day or date.today()

    def listings(self) -> list[Listing]:
        return list(self._listings)

    def series(self, token: str) -> MinuteSeries | None:
        return self._series.get(token)
