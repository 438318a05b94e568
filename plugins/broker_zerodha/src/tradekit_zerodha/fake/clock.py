"""A wall clock mapped onto the fake's trading day, for ``tradekit zerodha fake-server``."""

from __future__ import annotations

import time
from datetime import datetime, timedelta


class SessionClock:
    """Starts at ``start`` (e.g. 09:15 on the generated day) and runs ``speed`` times as fast as the wall clock."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        if start.tzinfo is None:
            raise ValueError("SessionClock needs a timezone-aware start")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start
        self.speed = speed
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._origin) * self.speed)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.speed)

    def sleep_until(self, moment: datetime) -> None:
        self.sleep((moment - self.now()).total_seconds())

    def monotonic(self) -> float:
        return self.now().timestamp()
