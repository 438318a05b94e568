"""Quotes streamed by the broker wake the exit monitor on the tick that crosses a stop.

Polling the monitor every ``monitor_seconds`` lets a stop wait up to a
minute. When the feed can stream (a broker with ``stream(instrument_ids,
on_quote)``, e.g. Kite's ticker), the engine subscribes the instruments
the exit monitor watches (held positions plus the strategy's monitor list)
and every tick goes to ``on_quotes`` as it arrives, on the engine's thread.

The stream's thread only stores the newest quote per instrument and, when
nothing was waiting, asks the engine's waiting loop to wake up (through the
control channel's queue, which the engine already blocks on between timers);
a burst of ticks becomes one decision with the latest price of each, so a
slow step never builds a backlog of stale prices.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tradekit.model import InstrumentId, Quote


class QuoteStream:
    """The engine's side of a broker stream: the subscribed set, the newest quote of each, and the wake-up."""

    def __init__(self, open_stream: Callable[..., Any], wake: Callable[[], None],
                 log: Callable[[str], None] = lambda line: None) -> None:
        self._open_stream = open_stream
        self._wake = wake
        self._log = log
        self._lock = threading.Lock()
        self._latest: dict[InstrumentId, Quote] = {}
        self._subscribed: frozenset[InstrumentId] = frozenset()
        self._handle: Any = None
        self.received = 0

    def watch(self, instrument_ids: frozenset[InstrumentId]) -> None:
        """Subscribe exactly these (a new connection when the set changes; none when it is empty)."""
        if instrument_ids == self._subscribed:
            return
        self.close()
        self._subscribed = instrument_ids
        if instrument_ids:
            self._handle = self._open_stream(sorted(instrument_ids), self._on_quote)
            self._log(f"streaming quotes of {len(instrument_ids)} instrument(s) to the exit monitor")

    def _on_quote(self, quote: Quote) -> None:
        """Stream thread: keep the newest quote; wake the engine if it was not already woken."""
        if quote.instrument_id not in self._subscribed:
            return
        with self._lock:
            was_empty = not self._latest
            self._latest[quote.instrument_id] = quote
            self.received += 1
        if was_empty:
            self._wake()

    def take(self) -> dict[InstrumentId, Quote]:
        """Engine thread: the newest quote of every instrument that ticked since the last take."""
        with self._lock:
            latest, self._latest = self._latest, {}
        return {iid: quote for iid, quote in latest.items() if iid in self._subscribed}

    def close(self) -> None:
        handle, self._handle = self._handle, None
        self._subscribed = frozenset()
        if handle is not None:
            handle.close()
        with self._lock:
            self._latest.clear()
