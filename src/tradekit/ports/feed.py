"""The market-data port the engine reads candles from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from tradekit.model import Candle, Instrument, InstrumentId


class Feed(Protocol):
    def instruments(self) -> Mapping[InstrumentId, Instrument]:
        """Today's instruments."""

    def candles(self, instrument_ids: Iterable[InstrumentId], start: datetime, seconds: int) -> Mapping[InstrumentId, Candle]:
        """Candles of ``seconds`` starting at ``start`` for the given instruments (missing ones absent)."""
