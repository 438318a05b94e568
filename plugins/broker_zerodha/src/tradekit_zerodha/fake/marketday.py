"""Serve a loaded ``tradekit.data`` MarketDay through the fake's ``MarketSource`` interface.

``tradekit.data.load_day(path)`` gives per-instrument columnar series (bar
start in epoch ns, OHLC, volume per bar, OI at the bar's close). The fake
aggregates bars into Kite's candle intervals. A quote at ``ts`` is the close
of the last bar that ended by ``ts``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
from tradekit.model import Instrument, InstrumentKind, OptionRight

from tradekit_zerodha.fake.market import IST, NIFTY_INDEX_TOKEN, CandleRow, FakeInstrument, Snapshot

SEGMENT_CODES = {"NSE": 1, "NFO": 2, "BSE": 4, "BFO": 5}


def _fake_instrument(instrument: Instrument, exchange_token: int) -> FakeInstrument:
    segment_code = SEGMENT_CODES.get(instrument.exchange, 1)
    if instrument.kind is InstrumentKind.INDEX:
        token = NIFTY_INDEX_TOKEN if instrument.symbol == "NIFTY 50" else exchange_token * 256 + 9
        return FakeInstrument(token, token >> 8, instrument.symbol, instrument.symbol, None, 0.0, 0.0, 0, "EQ",
                              "INDICES", instrument.exchange)
    if instrument.kind is InstrumentKind.OPTION:
        code = "CE" if instrument.right is OptionRight.CALL else "PE"
        segment = f"{instrument.exchange}-OPT"
    elif instrument.kind is InstrumentKind.FUTURE:
        code, segment = "FUT", f"{instrument.exchange}-FUT"
    else:
        code, segment = "EQ", instrument.exchange
    return FakeInstrument(
        exchange_token * 256 + segment_code, exchange_token, instrument.symbol, instrument.underlying or instrument.symbol,
        instrument.expiry, float(instrument.strike or 0), float(instrument.tick_size), instrument.lot_size, code,
        segment, instrument.exchange,
    )


class MarketDaySource:
    """A ``MarketSource`` over a loaded MarketDay (generated or recorded)."""

    def __init__(self, market_day: Any) -> None:
        self.market_day = market_day
        self.day: date = market_day.day
        self._bar_ns = int(market_day.bar_seconds) * 1_000_000_000
        self._series = {series.instrument.symbol: series for series in market_day.series.values()}
        self._instruments = [
            _fake_instrument(instrument, 50_000 + number)
            for number, instrument in enumerate(market_day.instruments.values())
        ]

    def instruments(self) -> list[FakeInstrument]:
        return list(self._instruments)

    def snapshot(self, tradingsymbol: str, ts: datetime) -> Snapshot | None:
        """The instrument at ``ts``: the close of the last bar that ENDED by then (the open before the first).

        Answering with a completed bar (never the one still forming) keeps the
        fake honest: a quote never knows the rest of its minute, and candles
        built from polled quotes equal the historical candles of the same bars.
        """
        series = self._series.get(tradingsymbol)
        if series is None or len(series) == 0:
            return None
        moment = int(ts.timestamp() * 1_000_000_000) - self._bar_ns
        done = int(np.searchsorted(series.ts, moment, side="right"))  # bars whose end is at or before ts
        first_open = float(series.open[0])
        if done == 0:
            return Snapshot(ts=ts.astimezone(IST), last=first_open, open=first_open, high=first_open, low=first_open,
                            previous_close=first_open, volume=0, oi=int(series.oi[0]), oi_day_high=int(series.oi[0]),
                            oi_day_low=int(series.oi[0]))
        index = done - 1
        return Snapshot(
            ts=ts.astimezone(IST), last=float(series.close[index]), open=first_open,
            high=float(series.high[:done].max()), low=float(series.low[:done].min()), previous_close=first_open,
            volume=int(series.volume[:done].sum()), oi=int(series.oi[index]), oi_day_high=int(series.oi[:done].max()),
            oi_day_low=int(series.oi[:done].min()),
        )

    def candles(self, tradingsymbol: str, start: datetime, end: datetime, interval_seconds: int) -> list[CandleRow]:
        series = self._series.get(tradingsymbol)
        if series is None or len(series) == 0:
            return []
        origin = int(series.ts[0])
        step = interval_seconds * 1_000_000_000
        buckets = (series.ts - origin) // step
        rows: list[CandleRow] = []
        for bucket in np.unique(buckets):
            mask = buckets == bucket
            begin = datetime.fromtimestamp((origin + int(bucket) * step) / 1e9, IST)
            if begin < start or begin >= end:
                continue
            rows.append((begin, float(series.open[mask][0]), float(series.high[mask].max()),
                         float(series.low[mask].min()), float(series.close[mask][-1]), int(series.volume[mask].sum()),
                         int(series.oi[mask][-1])))
        return rows


def market_day_source(market_day: Any) -> MarketDaySource:
    """Wrap ``tradekit.data.load_day(path)``'s result for ``FakeKite(market=...)``."""
    return MarketDaySource(market_day)


__all__ = ["MarketDaySource", "market_day_source"]
