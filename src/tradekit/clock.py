"""Clocks. Decisions use event time; the clock only says when timers fire.

``SimClock`` jumps from timer to timer (replay, backtests, tests: no sleeps);
``LiveClock`` reads the wall clock and really waits.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware current time."""

    def sleep_until(self, moment: datetime) -> None:
        """Return at (or after) ``moment``."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (used by retry back-off and rate limits)."""

    def monotonic(self) -> float:
        """Seconds on a monotonic scale (rate limiters)."""


class SimClock:
    """A clock that moves only when told to (or when something sleeps on it)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SimClock needs a timezone-aware start")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment < self._now:
            raise ValueError(f"SimClock cannot go back from {self._now} to {moment}")
        self._now = moment

    def advance(self, seconds: float) -> datetime:
        self._now = self._now + timedelta(seconds=seconds)
        return self._now

    def sleep_until(self, moment: datetime) -> None:
        if moment > self._now:
            self._now = moment

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def monotonic(self) -> float:
        return self._now.timestamp()


class LiveClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep_until(self, moment: datetime) -> None:
        while True:
            remaining = (moment - self.now()).total_seconds()
            if remaining <= 0:
                return
            time.sleep(min(remaining, 1.0))

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def monotonic(self) -> float:
        return time.monotonic()
