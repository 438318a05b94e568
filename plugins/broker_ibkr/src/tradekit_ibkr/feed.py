"""A tradekit ``Feed`` on IB's 5-second real-time bars (ps60's data on ``--broker ibkr``).

The engine asks ``candles(ids, start, seconds)`` when a candle is due. The
feed subscribes to real-time bars for each instrument the first time it is
asked, keeps a rolling buffer of 5-second bars, and builds the candle from
the bars whose start lies in [start, start + seconds). Bars it never saw
(the subscription began later, a reconnect gap) are fetched once with
``reqHistoricalData``; a candle is returned only when every 5-second piece
is there or the gap was filled from history, never half-built.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from tradekit.model import Candle, Instrument, InstrumentId, Quote

from tradekit_ibkr import parsing
from tradekit_ibkr.bars import REALTIME_SECONDS
from tradekit_ibkr.broker import IBKRBroker

BUFFER_BARS = 720 * 7  # a whole US session of 5-second bars and then some
LATE_BAR_SECONDS = 2.0  # the bar that just closed reaches us a moment after its end: wait this long for it


class IBKRFeed:
    """Candles of any multiple of 5 seconds, assembled from the broker's real-time bars.

    It also answers what the paper venue asks of its ``market`` (``quote``,
    ``instrument``, ``first_cross``), so a paper run can execute on the
    gateway's bars: pass it as ``BrokerContext.market`` of the paper broker.
    """

    market = "NYSE"

    def __init__(self, broker: IBKRBroker, on_bar: Callable[[Candle], None] | None = None,
                 late_bar_seconds: float = LATE_BAR_SECONDS) -> None:
        """``on_bar`` sees each 5-second bar after it is buffered (on the client thread);
        ``late_bar_seconds`` is how long (real time) a candle waits for a bar history did not have yet."""
        self.broker = broker
        self.on_bar = on_bar
        self.late_bar_seconds = late_bar_seconds
        self._lock = threading.RLock()  # the arrival condition's predicate reads the buffer under it
        self._arrived = threading.Condition(self._lock)
        self._bars: dict[InstrumentId, dict[datetime, Candle]] = {}
        self._starts: dict[InstrumentId, list[datetime]] = {}  # sorted keys of _bars: lookups by time are bisections

    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        return {instrument.id: instrument for instrument in self.broker.instruments()}

    def instrument(self, instrument_id: InstrumentId) -> Instrument | None:
        """A US stock routed SMART (no request: every symbol IB knows is one)."""
        try:
            return parsing.stock_instrument(parsing.symbol_of(instrument_id))
        except ValueError:
            return None

    def quote(self, instrument_id: InstrumentId, at: datetime) -> Quote | None:
        """The close of the last buffered 5-second bar that ended at or before ``at``."""
        finished = self._between(instrument_id, None, at - timedelta(seconds=REALTIME_SECONDS))
        if not finished:
            return None
        bar = finished[-1]
        return Quote(instrument_id=instrument_id, ts=bar.end, last=bar.close, volume=bar.volume)

    def quotes(self, instrument_ids: Iterable[InstrumentId], at: datetime) -> dict[InstrumentId, Quote]:
        out = {}
        for instrument_id in instrument_ids:
            quote = self.quote(instrument_id, at)
            if quote is not None:
                out[instrument_id] = quote
        return out

    def first_cross(self, instrument_id: InstrumentId, start: datetime, end: datetime, level: float,
                    direction: int) -> tuple[datetime, float] | None:
        """The first bar ending in (start, end] that reaches ``level`` (down when ``direction`` < 0):
        its end time and the fill price (the level, or the open when the bar gapped through it)."""
        step = timedelta(seconds=REALTIME_SECONDS)
        for bar in self._between(instrument_id, start - step, end - step):
            if not start < bar.end <= end:
                continue
            if (direction < 0 and bar.low <= level) or (direction >= 0 and bar.high >= level):
                gapped = bar.open <= level if direction < 0 else bar.open >= level
                return bar.end, bar.open if gapped else level
        return None

    def historical(self, instrument_id: InstrumentId, start: datetime, end: datetime, interval_seconds: int) -> list[Candle]:
        return self.broker.historical(instrument_id, start, end, interval_seconds)

    def watch(self, instrument_ids: Iterable[InstrumentId]) -> None:
        """Subscribe now (before the first candle is due) so no bar is missed."""
        for instrument_id in instrument_ids:
            key = parsing.stock_id(parsing.symbol_of(instrument_id))
            with self._lock:
                if key in self._bars:
                    continue
                self._bars[key] = {}
            self.broker.subscribe_bars(key, self._receive)

    def _receive(self, candle: Candle) -> None:
        with self._lock:
            buffer = self._bars.setdefault(candle.instrument_id, {})
            starts = self._starts.setdefault(candle.instrument_id, [])
            if candle.ts not in buffer:
                bisect.insort(starts, candle.ts)
            buffer[candle.ts] = candle
            if len(starts) > BUFFER_BARS:
                for stale in starts[: len(starts) - BUFFER_BARS]:
                    del buffer[stale]
                del starts[: len(starts) - BUFFER_BARS]
            self._arrived.notify_all()
        if self.on_bar is not None:
            self.on_bar(candle)

    def buffered(self, instrument_id: InstrumentId) -> list[Candle]:
        return self._between(instrument_id, None, None)

    def _between(self, instrument_id: InstrumentId, first: datetime | None, last: datetime | None) -> list[Candle]:
        """Buffered bars starting in [first, last] (open ends when None), oldest first."""
        key = parsing.stock_id(parsing.symbol_of(instrument_id))
        with self._lock:
            buffer, starts = self._bars.get(key, {}), self._starts.get(key, [])
            low = 0 if first is None else bisect.bisect_left(starts, first)
            high = len(starts) if last is None else bisect.bisect_right(starts, last)
            return [buffer[ts] for ts in starts[low:high]]

    def candles(self, instrument_ids: Iterable[InstrumentId], start: datetime, seconds: int) -> dict[InstrumentId, Candle]:
        """Candles of ``seconds`` starting at ``start``; instruments with no data are absent."""
        if seconds % REALTIME_SECONDS:
            raise ValueError(f"ibkr feed: candle length must be a multiple of 5 seconds, got {seconds}")
        ids = list(instrument_ids)
        self.watch(ids)
        out: dict[InstrumentId, Candle] = {}
        for instrument_id in ids:
            key = parsing.stock_id(parsing.symbol_of(instrument_id))
            pieces = self._pieces(key, start, seconds)
            if len(pieces) < seconds // REALTIME_SECONDS:
                for candle in self.broker.historical(key, start, start + timedelta(seconds=seconds), REALTIME_SECONDS):
                    self._receive(candle)
                pieces = self._pieces(key, start, seconds)
            if 0 < len(pieces) < seconds // REALTIME_SECONDS:
                pieces = self._await_pieces(key, start, seconds)
            if pieces:
                out[instrument_id] = Candle(
                    instrument_id=instrument_id, ts=start, interval_seconds=seconds, open=pieces[0].open,
                    high=max(p.high for p in pieces), low=min(p.low for p in pieces), close=pieces[-1].close,
                    volume=sum(p.volume for p in pieces),
                )
        return out

    def _await_pieces(self, key: InstrumentId, start: datetime, seconds: int) -> list[Candle]:
        """History lacked the newest bars: give the real-time ones ``late_bar_seconds`` to arrive, then take what is there."""
        wanted = seconds // REALTIME_SECONDS
        with self._arrived:
            self._arrived.wait_for(lambda: len(self._pieces(key, start, seconds)) >= wanted, timeout=self.late_bar_seconds)
        return self._pieces(key, start, seconds)

    def _pieces(self, key: InstrumentId, start: datetime, seconds: int) -> list[Candle]:
        return self._between(key, start, start + timedelta(seconds=seconds - REALTIME_SECONDS))
