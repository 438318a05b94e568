"""Built-in replay market: a recorded (or generated) day served as a feed and as the paper venue's prices.

Columnar all the way: a step asks for candles of the instruments it needs
over a window, or for the quote at an instant, and gets them by binary
search over each instrument's arrays. Nothing pushes every tick of every
instrument through Python objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from tradekit.model import Candle, Instrument, InstrumentId, Quote
from tradekit.plugins.hookspecs import hookimpl

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ns(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1) * 1000


def from_ns(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(value) // 1000)


SMALL_SLICE = 32  # bars in a searched candle up to which Python's max/min/sum beat numpy's


class ReplayMarket:
    """Quotes, candles and price-path crossings from a ``tradekit.data.MarketDay``."""

    def __init__(self, day: Any) -> None:
        self.day = day
        self._bar_ns = int(day.bar_seconds) * 1_000_000_000
        self._ends: dict[str, np.ndarray] = {}
        self._cumulative: dict[str, np.ndarray] = {}
        self._buckets: dict[tuple[str, int, int], _Buckets | None] = {}
        self._phases: dict[tuple[str, int], set[int]] = {}

    @property
    def market(self) -> str:
        return str(self.day.market)

    def instruments(self) -> dict[InstrumentId, Instrument]:
        return dict(self.day.instruments)

    def instrument(self, instrument_id: InstrumentId) -> Instrument | None:
        series = self.day.series.get(instrument_id)
        return None if series is None else series.instrument

    def _end_times(self, instrument_id: str) -> np.ndarray | None:
        ends = self._ends.get(instrument_id)
        if ends is None:
            series = self.day.series.get(instrument_id)
            if series is None:
                return None
            ends = series.ts + self._bar_ns
            self._ends[instrument_id] = ends
        return ends

    def quote(self, instrument_id: InstrumentId, at: datetime) -> Quote | None:
        """The last price known at ``at``: the close of the latest bar that had ended by then."""
        ends = self._end_times(instrument_id)
        if ends is None or len(ends) == 0:
            return None
        index = int(np.searchsorted(ends, to_ns(at), side="right")) - 1
        if index < 0:
            return None
        series = self.day.series[instrument_id]
        volumes = self._cumulative.get(instrument_id)
        if volumes is None:
            volumes = np.cumsum(series.volume)
            self._cumulative[instrument_id] = volumes
        return Quote(
            instrument_id=instrument_id,
            ts=from_ns(int(ends[index])),
            last=float(series.close[index]),
            volume=int(volumes[index]),
            oi=int(series.oi[index]),
        )

    def quotes(self, instrument_ids: Iterable[InstrumentId], at: datetime) -> dict[InstrumentId, Quote]:
        result = {}
        for iid in instrument_ids:
            quote = self.quote(iid, at)
            if quote is not None:
                result[iid] = quote
        return result

    def candle(self, instrument_id: InstrumentId, start: datetime, seconds: int) -> Candle | None:
        return self._candle(instrument_id, start, to_ns(start), seconds)

    def _candle(self, instrument_id: InstrumentId, start: datetime, start_ns: int, seconds: int) -> Candle | None:
        """Bars with start time in [start, start + seconds), from the day's pre-aggregated grid."""
        width = seconds * 1_000_000_000
        key = (instrument_id, seconds, start_ns % width)
        buckets = self._buckets.get(key, _MISSING)
        if buckets is _MISSING:
            series = self.day.series.get(instrument_id)
            phases = self._phases.setdefault((instrument_id, seconds), set())
            if len(phases) >= 4 and series is not None:  # candles at arbitrary offsets: search instead of a grid each
                return _search_candle(instrument_id, series, start, start_ns, seconds)
            phases.add(start_ns % width)
            buckets = self._buckets[key] = None if series is None or len(series) == 0 else _Buckets(series, width, start_ns % width)
        if buckets is None:
            return None
        row = buckets.row(start_ns)
        if row < 0:
            return None
        return Candle(
            instrument_id=instrument_id,
            ts=start,
            interval_seconds=seconds,
            open=buckets.open[row],
            high=buckets.high[row],
            low=buckets.low[row],
            close=buckets.close[row],
            volume=buckets.volume[row],
            oi=buckets.oi[row],
        )

    def candles(self, instrument_ids: Iterable[InstrumentId], start: datetime, seconds: int) -> dict[InstrumentId, Candle]:
        """Candles of ``seconds`` starting at ``start`` (bars with start time in [start, start + seconds)).

        The hot path of a replay (83 instruments every 5 minutes): the grid of each instrument
        already cut for this width and phase is an index and a positional ``Candle``; the first
        request of each (and anything unusual) goes through ``_candle``.
        """
        start_ns = to_ns(start)
        width = seconds * 1_000_000_000
        phase = start_ns % width
        result = {}
        grids = self._buckets
        for iid in instrument_ids:
            buckets = grids.get((iid, seconds, phase))
            if buckets is None:  # not cut yet, or an instrument without bars: the general path decides
                candle = self._candle(iid, start, start_ns, seconds)
                if candle is not None:
                    result[iid] = candle
                continue
            index = (start_ns - buckets.first) // width
            row = buckets.rows[index] if 0 <= index < len(buckets.rows) else -1
            if row >= 0:
                result[iid] = Candle(iid, start, seconds, buckets.open[row], buckets.high[row], buckets.low[row],
                                     buckets.close[row], buckets.volume[row], buckets.oi[row])
        return result

    def historical(self, instrument_id: InstrumentId, start: datetime, end: datetime, interval_seconds: int) -> list[Candle]:
        out = []
        moment = start
        while moment < end:
            candle = self.candle(instrument_id, moment, interval_seconds)
            if candle is not None:
                out.append(candle)
            moment += timedelta(seconds=interval_seconds)
        return out

    def first_cross(
        self, instrument_id: InstrumentId, start: datetime, end: datetime, level: float, direction: int
    ) -> tuple[datetime, float] | None:
        ends = self._end_times(instrument_id)
        if ends is None:
            return None
        series = self.day.series[instrument_id]
        first = int(np.searchsorted(ends, to_ns(start), side="right"))
        last = int(np.searchsorted(ends, to_ns(end), side="right"))
        if last <= first:
            return None
        if direction < 0:
            hits = np.flatnonzero(series.low[first:last] <= level)
        else:
            hits = np.flatnonzero(series.high[first:last] >= level)
        if len(hits) == 0:
            return None
        index = first + int(hits[0])
        opened = float(series.open[index])
        gapped = opened <= level if direction < 0 else opened >= level
        return from_ns(int(ends[index])), opened if gapped else level


_MISSING: Any = object()


def _search_candle(instrument_id: InstrumentId, series: Any, start: datetime, start_ns: int, seconds: int) -> Candle | None:
    first = int(np.searchsorted(series.ts, start_ns, side="left"))
    last = int(np.searchsorted(series.ts, start_ns + seconds * 1_000_000_000, side="left"))
    if last <= first:
        return None
    if last - first <= SMALL_SLICE:  # numpy's reductions cost microseconds each on a handful of values
        high, low, volume = max(series.high[first:last].tolist()), min(series.low[first:last].tolist()), sum(series.volume[first:last].tolist())
    else:
        high, low, volume = series.high[first:last].max(), series.low[first:last].min(), series.volume[first:last].sum()
    return Candle(
        instrument_id=instrument_id,
        ts=start,
        interval_seconds=seconds,
        open=float(series.open[first]),
        high=float(high),
        low=float(low),
        close=float(series.close[last - 1]),
        volume=int(volume),
        oi=int(series.oi[last - 1]),
    )


class _Buckets:
    """One instrument's day cut into candles of one width and phase, all at once (numpy reduceat):
    a candle request is then an index, not a search and four reductions."""

    def __init__(self, series: Any, width: int, phase: int) -> None:
        ts = series.ts
        self.first = (int(ts[0]) - phase) // width * width + phase  # start of the bucket holding the first bar
        bucket = (ts - self.first) // width
        count = int(bucket[-1]) + 1
        starts = np.searchsorted(bucket, np.arange(count), side="left")
        ends = np.searchsorted(bucket, np.arange(count), side="right")
        filled = ends > starts
        rows = np.full(count, -1, dtype=np.int64)
        rows[filled] = np.arange(int(filled.sum()))
        self.rows: list[int] = rows.tolist()  # python ints: a lookup per candle, no numpy scalar on the way
        first, last = starts[filled], ends[filled] - 1
        self.width = width
        self.open = series.open[first].tolist()  # python floats and ints, as Candle holds them
        self.high = np.maximum.reduceat(series.high, first).tolist()
        self.low = np.minimum.reduceat(series.low, first).tolist()
        self.close = series.close[last].tolist()
        self.volume = np.add.reduceat(series.volume, first).tolist()
        self.oi = series.oi[last].tolist()

    def row(self, start_ns: int) -> int:
        offset = start_ns - self.first
        if offset < 0:
            return -1
        index = offset // self.width
        return self.rows[index] if index < len(self.rows) else -1


def open_replay(path: Any) -> ReplayMarket:
    from tradekit.data import load_day

    return ReplayMarket(load_day(path))


@hookimpl
def register_feeds(register: Any) -> None:
    register("replay", open_replay)


