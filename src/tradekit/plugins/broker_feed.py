"""Built-in feed ``broker``: market data from any broker plugin, for live and real-time paper runs.

Candles are built from quotes polled every ``poll_seconds`` in one batched
request for all subscribed instruments (LTP, cumulative volume, open
interest); a candle the polling did not fully cover (the run started or
restarted inside it, a poll failed) comes from the broker's ``historical``
instead, stamped with its own start time. The paper venue's prices come from
fresh ``quotes``, and whether a working stop or limit was crossed between
two visits is read from the broker's one-minute candles, so a stop fills at
the minute the market went through it even if nobody was looking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from tradekit.errors import BrokerError
from tradekit.model import Candle, Instrument, InstrumentId, Quote
from tradekit.plugins.hookspecs import hookimpl


class BrokerFeed:
    def __init__(self, broker: Any, market: str, *, poll_seconds: int = 5) -> None:
        self.broker = broker
        self.market = market
        self.poll_seconds = poll_seconds
        self._instruments: dict[InstrumentId, Instrument] | None = None
        self._samples: dict[InstrumentId, list[tuple[datetime, float, int, int]]] = {}

    def poll(self, instrument_ids: Iterable[InstrumentId], now: datetime) -> int:
        """Sample quotes of the instruments candles will be built from (one batched request per poll)."""
        wanted = sorted(set(instrument_ids))
        if not wanted:
            return 0
        try:
            quotes = self.broker.quotes(wanted)
        except BrokerError:
            return 0  # a missed sample: candles spanning it fall back to the broker's history
        horizon = now - timedelta(hours=1)
        for instrument_id, quote in quotes.items():
            samples = self._samples.setdefault(instrument_id, [])
            samples.append((now, quote.last, quote.volume, quote.oi))
            if samples[0][0] < horizon:
                del samples[: next(i for i, s in enumerate(samples) if s[0] >= horizon)]
        return len(quotes)

    def _from_samples(self, instrument_id: InstrumentId, start: datetime, seconds: int) -> Candle | None:
        """A candle built from polled quotes, if polling covered the whole candle."""
        samples = self._samples.get(instrument_id)
        if not samples:
            return None
        end = start + timedelta(seconds=seconds)
        before = [s for s in samples if s[0] <= start]
        inside = [s for s in samples if start < s[0] <= end]
        if not before or not inside or before[-1][0] < start - timedelta(seconds=self.poll_seconds) \
                or inside[-1][0] < end - timedelta(seconds=self.poll_seconds):
            return None
        prices = [s[1] for s in inside]
        return Candle(
            instrument_id=instrument_id, ts=start, interval_seconds=seconds, open=before[-1][1],  # the price at the start
            high=max(prices), low=min(prices), close=inside[-1][1],
            volume=max(0, inside[-1][2] - before[-1][2]), oi=inside[-1][3],
        )

    @property
    def can_stream(self) -> bool:
        return callable(getattr(self.broker, "stream", None))

    def stream(self, instrument_ids: Iterable[InstrumentId], on_quote: Any) -> Any:
        """The broker's quote stream (``close()``-able handle), for the engine's exit monitor."""
        return self.broker.stream(list(instrument_ids), on_quote)

    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        if self._instruments is None:
            self._instruments = {instrument.id: instrument for instrument in self.broker.instruments()}
        return self._instruments

    def instrument(self, instrument_id: InstrumentId) -> Instrument | None:
        return self.instruments().get(instrument_id)

    def candles(self, instrument_ids: Iterable[InstrumentId], start: datetime, seconds: int) -> dict[InstrumentId, Candle]:
        result = {}
        end = start + timedelta(seconds=seconds)
        for instrument_id in instrument_ids:
            sampled = self._from_samples(instrument_id, start, seconds)
            if sampled is not None:
                result[instrument_id] = sampled
                continue
            for candle in self.broker.historical(instrument_id, start, end, seconds):
                if candle.ts == start:
                    result[instrument_id] = candle
                    break
        return result

    def quote(self, instrument_id: InstrumentId, at: datetime) -> Quote | None:
        return self.broker.quotes([instrument_id]).get(instrument_id)

    def first_cross(self, instrument_id: InstrumentId, start: datetime, end: datetime, level: float, direction: int
                    ) -> tuple[datetime, float] | None:
        floor = start.replace(second=0, microsecond=0)
        try:
            minutes = self.broker.historical(instrument_id, floor, end, 60)
        except BrokerError:
            minutes = []
        for candle in minutes:
            candle_end = candle.end
            if candle_end <= start or candle_end > end:
                continue
            crossed = candle.low <= level if direction < 0 else candle.high >= level
            if crossed:
                gapped = candle.open <= level if direction < 0 else candle.open >= level
                return candle_end, candle.open if gapped else level
        quote = self.quote(instrument_id, end)
        if quote is not None and ((direction < 0 and quote.last <= level) or (direction > 0 and quote.last >= level)):
            return end, quote.last
        return None

    def historical(self, instrument_id: InstrumentId, start: datetime, end: datetime, interval_seconds: int) -> list[Candle]:
        return list(self.broker.historical(instrument_id, start, end, interval_seconds))


def open_broker_feed(broker: Any, market: str, poll_seconds: int = 5) -> BrokerFeed:
    return BrokerFeed(broker, market, poll_seconds=poll_seconds)


@hookimpl
def register_feeds(register: Any) -> None:
    register("broker", open_broker_feed)
