"""Prices behind the fake gateway: a narrow interface and two sources.

The gateway only ever asks a ``PriceSource`` for 5-second bars in a time
range, so the market behind it can be a generated US day (deterministic from
a seed, no files needed) or a day loaded with ``tradekit.data.load_day``
(wrapped by ``MarketDaySource``) without the gateway knowing which.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
BAR_SECONDS = 5
DEFAULT_SYMBOLS: Mapping[str, float] = {"TSLA": 445.25, "AAPL": 228.50, "NVDA": 181.40, "AMD": 162.10, "MSFT": 512.30}


@dataclass(frozen=True, slots=True)
class Bar:
    """A 5-second bar; ``ts`` is its start (UTC)."""

    ts: datetime
    open: float
    high: float
    low: float
    close: float
    volume: int

    @property
    def end(self) -> datetime:
        return self.ts + timedelta(seconds=BAR_SECONDS)


class PriceSource(Protocol):
    """What the gateway needs from a market."""

    def symbols(self) -> tuple[str, ...]:
        """Tradable symbols."""

    def bars(self, symbol: str, start: datetime, end: datetime) -> list[Bar]:
        """5-second bars starting in [start, end), oldest first."""

    def session(self) -> tuple[datetime, datetime]:
        """The regular session's open and close (UTC)."""


class _IndexedSource:
    """Shared lookup over per-symbol sorted bar lists."""

    def __init__(self, bars: Mapping[str, Sequence[Bar]], open_: datetime, close: datetime) -> None:
        self._bars = {symbol: list(series) for symbol, series in bars.items()}
        self._starts = {symbol: [bar.ts for bar in series] for symbol, series in self._bars.items()}
        self._open = open_
        self._close = close

    def symbols(self) -> tuple[str, ...]:
        return tuple(sorted(self._bars))

    def bars(self, symbol: str, start: datetime, end: datetime) -> list[Bar]:
        starts = self._starts.get(symbol)
        if starts is None:
            return []
        low = bisect.bisect_left(starts, start)
        high = bisect.bisect_left(starts, end)
        return self._bars[symbol][low:high]

    def session(self) -> tuple[datetime, datetime]:
        return self._open, self._close


def regular_session(day: date) -> tuple[datetime, datetime]:
    """09:30 to 16:00 New York time on ``day``, in UTC."""
    open_ = datetime.combine(day, time(9, 30), NEW_YORK).astimezone(UTC)
    close = datetime.combine(day, time(16, 0), NEW_YORK).astimezone(UTC)
    return open_, close


class GeneratedUSDay(_IndexedSource):
    """A deterministic random-walk US session (09:30-16:00 New York) of 5-second bars.

    Same ``day``, ``seed`` and symbols give the same bars on every machine, so
    tests can compute expected fills from the source itself.
    """

    def __init__(self, day: date, symbols: Mapping[str, float] | None = None, seed: int = 7) -> None:
        open_, close = regular_session(day)
        start_prices = dict(symbols or DEFAULT_SYMBOLS)
        bars: dict[str, list[Bar]] = {}
        count = int((close - open_).total_seconds()) // BAR_SECONDS
        for symbol, first in start_prices.items():
            digest = hashlib.sha256(f"{seed}:{day.isoformat()}:{symbol}".encode()).digest()
            rng = random.Random(int.from_bytes(digest[:8], "big"))
            price = float(first)
            series = []
            step = max(0.01, price * 0.0004)
            for index in range(count):
                ts = open_ + timedelta(seconds=index * BAR_SECONDS)
                open_price = price
                path = [open_price]
                for _ in range(4):
                    path.append(max(0.01, path[-1] + rng.gauss(0.0, step)))
                close_price = round(path[-1], 2)
                high = round(max(path), 2)
                low = round(min(path), 2)
                open_price = round(open_price, 2)
                series.append(Bar(ts, open_price, max(high, open_price, close_price), min(low, open_price, close_price),
                                  close_price, rng.randint(100, 5000)))
                price = close_price
            bars[symbol] = series
        super().__init__(bars, open_, close)


class MarketDaySource(_IndexedSource):
    """Serve a ``tradekit.data.MarketDay`` loaded with ``tradekit.data.load_day``.

    Reads ``day``, ``bar_seconds`` and ``series`` (instrument id -> Series of
    int64-ns bar starts and open/high/low/close/volume arrays); index series
    are left out (nothing to trade). Bars longer than 5 seconds are split
    into 5-second pieces walking from open to close (the first piece touches
    the high, the second the low), so real-time bars still come every 5 s.
    """

    def __init__(self, market_day: Any) -> None:
        interval = max(BAR_SECONDS, int(getattr(market_day, "bar_seconds", BAR_SECONDS) or BAR_SECONDS))
        bars: dict[str, list[Bar]] = {}
        for instrument_id, series in market_day.series.items():
            kind = getattr(getattr(series, "instrument", None), "kind", None)
            if str(kind) == "INDEX":
                continue
            symbol = str(instrument_id).split(":", 1)[-1]
            out: list[Bar] = []
            for i in range(len(series.ts)):
                ts = datetime.fromtimestamp(int(series.ts[i]) / 1e9, UTC)
                out.extend(_split(ts, float(series.open[i]), float(series.high[i]), float(series.low[i]),
                                  float(series.close[i]), int(series.volume[i]), interval))
            bars[symbol] = out
        open_, close = regular_session(market_day.day)
        super().__init__(bars, open_, close)


def _split(ts: datetime, o: float, h: float, lo: float, c: float, volume: int, interval: int) -> list[Bar]:
    pieces = max(1, interval // BAR_SECONDS)
    if pieces == 1:
        return [Bar(ts, o, h, lo, c, volume)]
    out = []
    previous = o
    for k in range(pieces):
        target = round(o + (c - o) * (k + 1) / pieces, 4)
        high = max(previous, target)
        low = min(previous, target)
        if k == 0:
            high = h
        if k == min(1, pieces - 1):
            low = lo
        out.append(Bar(ts + timedelta(seconds=k * BAR_SECONDS), previous, high, low, target, volume // pieces))
        previous = target
    return out
