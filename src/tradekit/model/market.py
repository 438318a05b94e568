"""Market data values: quotes and candles.

Prices here are floats straight from the feed (already checked to be finite
and positive by the loader or the broker edge); anything that becomes money
(an order price, a fill) is converted to Decimal and snapped to tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from tradekit.model.instruments import InstrumentId


@dataclass(frozen=True, slots=True)
class Quote:
    instrument_id: InstrumentId
    ts: datetime  # event time of the quote, timezone-aware
    last: float
    volume: int = 0  # cumulative day volume where the source has it
    oi: int = 0
    bid: float | None = None
    ask: float | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.last, (int, float)) and math.isfinite(self.last) and self.last > 0):
            raise ValueError(f"{self.instrument_id}: bad last price {self.last!r}")


@dataclass(frozen=True, slots=True)
class Candle:
    instrument_id: InstrumentId
    ts: datetime  # the candle's own (start) timestamp: decisions compare this, never arrival time
    interval_seconds: int
    open: float
    high: float
    low: float
    close: float
    volume: int = 0  # traded in this candle
    oi: int = 0  # open interest at the candle's close

    @property
    def end(self) -> datetime:
        from datetime import timedelta

        return self.ts + timedelta(seconds=self.interval_seconds)

    def to_dict(self) -> dict[str, object]:
        return {
            "instrument_id": self.instrument_id,
            "ts": self.ts.isoformat(),
            "interval_seconds": self.interval_seconds,
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "close": self.close,
            "volume": self.volume,
            "oi": self.oi,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Candle:
        return cls(
            instrument_id=str(data["instrument_id"]),
            ts=datetime.fromisoformat(str(data["ts"])),
            interval_seconds=int(data["interval_seconds"]),  # type: ignore[arg-type]
            open=float(data["open"]),  # type: ignore[arg-type]
            high=float(data["high"]),  # type: ignore[arg-type]
            low=float(data["low"]),  # type: ignore[arg-type]
            close=float(data["close"]),  # type: ignore[arg-type]
            volume=int(data.get("volume") or 0),  # type: ignore[arg-type]
            oi=int(data.get("oi") or 0),  # type: ignore[arg-type]
        )
