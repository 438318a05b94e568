"""The one retry and rate-limit mechanism every broker adapter uses.

Only ``TemporaryBrokerError`` is retried (timeouts, 5xx, 429, dropped
connections), with exponential back-off (1, 2, 4 s by default; 3 tries). An
order placement is never blindly re-sent: ``place_order_safely`` first asks
the broker whether an order with our tag arrived.

Sleeping and time are injected so tests run on a simulated clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tradekit.errors import TemporaryBrokerError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    tries: int = 3
    backoff_seconds: tuple[float, ...] = (1.0, 2.0, 4.0)
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0-based)."""
        if not self.backoff_seconds:
            return 0.0
        return self.backoff_seconds[min(attempt, len(self.backoff_seconds) - 1)]

    def call(self, operation: Callable[[], T], *, on_retry: Callable[[int, Exception], None] | None = None) -> T:
        """Run ``operation``, retrying transient failures; the last failure propagates."""
        for attempt in range(self.tries):
            try:
                return operation()
            except TemporaryBrokerError as error:
                if attempt + 1 >= self.tries:
                    raise
                if on_retry is not None:
                    on_retry(attempt + 1, error)
                self.sleep(self.delay(attempt))
        raise AssertionError("unreachable: tries must be >= 1")


def place_order_safely(
    place: Callable[[], str],
    find_by_tag: Callable[[], str | None],
    policy: RetryPolicy,
    *,
    on_retry: Callable[[int, Exception], None] | None = None,
) -> str:
    """Place an order at most once.

    ``place`` sends it and returns the broker order id. ``find_by_tag`` looks
    up today's orders for our client tag and returns the broker order id if
    the order arrived. After a transient failure we look first; only if the
    broker has no order with our tag do we send again.
    """
    last_error: Exception | None = None
    for attempt in range(policy.tries):
        if attempt > 0:
            try:
                existing = find_by_tag()
            except TemporaryBrokerError as error:
                last_error = error
                if attempt + 1 >= policy.tries:
                    break
                policy.sleep(policy.delay(attempt))
                continue
            if existing is not None:
                return existing
        try:
            return place()
        except TemporaryBrokerError as error:
            last_error = error
            if on_retry is not None:
                on_retry(attempt + 1, error)
            if attempt + 1 >= policy.tries:
                break
            policy.sleep(policy.delay(attempt))
    # one last look: the final attempt may have arrived despite the error
    try:
        existing = find_by_tag()
    except TemporaryBrokerError:
        existing = None
    if existing is not None:
        return existing
    assert last_error is not None
    raise last_error


class RateLimiter:
    """Token bucket: at most ``rate`` calls per ``per`` seconds, bursting up to ``burst``.

    ``acquire()`` blocks (through the injected ``sleep``) until a token is free.
    """

    def __init__(
        self,
        rate: float,
        per: float = 1.0,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or per <= 0:
            raise ValueError("rate and per must be positive")
        self._interval = per / rate
        self._burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(self._burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token; return how long we waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._burst, self._tokens + (now - self._updated) / self._interval)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            wait = (1 - self._tokens) * self._interval
            self._sleep(wait)
            self._updated = self._clock()
            self._tokens = 0.0
            return wait
