"""5-second real-time bars -> tradekit ``Candle`` callbacks, surviving reconnects.

IB only streams 5-second bars (``reqRealTimeBars``); ps60 consumes exactly
those. A subscription is remembered here, not in the IB object, so after a
gateway restart the broker's new session subscribes again and callers keep
their callback. Callbacks run on the client's loop thread: keep them short
(append to a queue) or use ``BarQueue``.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tradekit.model import Candle

from tradekit_ibkr import parsing

log = logging.getLogger("tradekit_ibkr")
REALTIME_SECONDS = 5

CandleCallback = Callable[[Candle], None]


@dataclass
class Subscription:
    instrument_id: str
    callback: CandleCallback
    handle: Any = None  # the library's RealTimeBarList of the current session
    last_ts: datetime | None = None  # newest bar delivered: a resubscribe never repeats one
    delivered: int = 0


@dataclass
class RealtimeBars:
    """The broker's real-time bar subscriptions."""

    what_to_show: str = "TRADES"
    subscriptions: dict[str, Subscription] = field(default_factory=dict)

    def add(self, instrument_id: str, callback: CandleCallback) -> Subscription:
        if instrument_id in self.subscriptions:
            raise ValueError(f"ibkr: already subscribed to bars of {instrument_id}")
        subscription = Subscription(instrument_id, callback)
        self.subscriptions[instrument_id] = subscription
        return subscription

    def start(self, ib: Any, lib: Any, subscription: Subscription) -> None:
        """Subscribe on the live session (called on the loop thread)."""
        contract = parsing.stock_contract(lib, subscription.instrument_id)
        bars = ib.reqRealTimeBars(contract, REALTIME_SECONDS, self.what_to_show, False)

        def on_update(bar_list: Any, has_new_bar: bool) -> None:
            if not has_new_bar or not bar_list:
                return
            self._deliver(subscription, bar_list[-1])

        bars.updateEvent += on_update
        subscription.handle = bars

    def stop(self, ib: Any, subscription: Subscription) -> None:
        if subscription.handle is not None and ib is not None and ib.isConnected():
            ib.cancelRealTimeBars(subscription.handle)
        subscription.handle = None

    def _deliver(self, subscription: Subscription, bar: Any) -> None:
        candle = parsing.candle(subscription.instrument_id, bar, REALTIME_SECONDS)
        if candle is None:
            log.warning("ibkr: skipped a bad real-time bar for %s: %s", subscription.instrument_id, bar)
            return
        if subscription.last_ts is not None and candle.ts <= subscription.last_ts:
            return
        subscription.last_ts = candle.ts
        subscription.delivered += 1
        try:
            subscription.callback(candle)
        except Exception:  # a consumer's bug must not kill the client's loop
            log.exception("ibkr: bar callback for %s failed", subscription.instrument_id)


class BarQueue:
    """A thread-safe hand-over from the loop thread: pass ``put`` as the callback, ``get`` elsewhere."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Candle] = queue.Queue()

    def put(self, candle: Candle) -> None:
        self._queue.put(candle)

    def get(self, timeout: float | None = None) -> Candle:
        """The next candle; raises ``queue.Empty`` after ``timeout`` seconds."""
        return self._queue.get(timeout=timeout)

    def drain(self) -> list[Candle]:
        out = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out
