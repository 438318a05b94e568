"""Clocks. Decisions use event time; the clock only says when timers fire.

``SimClock`` jumps from timer to timer (replay, backtests, tests: no sleeps);
``LiveClock`` reads the wall clock and really waits; ``FileClock`` is a
simulated clock shared between processes through a file, so a broker fake
and a ``tradekit run`` (killed and restarted at will) live in the same
simulated day: ``TRADEKIT_SIM_CLOCK=FILE`` selects it (:func:`session_clock`).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from tradekit.errors import ConfigError

SIM_CLOCK_ENV = "TRADEKIT_SIM_CLOCK"


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


class FileClock:
    """A simulated clock whose time lives in a file: one ISO-8601 timestamp with its offset.

    Every process that opens the same file sees the same time; sleeping moves
    it forward for everyone (never back), like :class:`SimClock`. Used to
    rehearse a trading day against a broker fake at full speed, and by the
    kill-and-restart tests, where the fake keeps running while tradekit is
    killed and the harness moves time on in between.
    """

    def __init__(self, path: Path | str, start: datetime | None = None) -> None:
        self.path = Path(path)
        if start is not None:
            if start.tzinfo is None:
                raise ValueError("FileClock needs a timezone-aware start")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(start.isoformat() + "\n")
        elif not self.path.is_file():
            raise ConfigError(f"{SIM_CLOCK_ENV}: clock file {self.path} does not exist "
                              "(write a start time into it, e.g. 2025-10-06T09:00:00+05:30)")
        self.now()  # a malformed file fails here, naming itself

    def _parse(self, text: str) -> datetime:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise ConfigError(f"clock file {self.path}: {text.strip()[:40]!r} is not an ISO time with an offset")
        return moment

    def now(self) -> datetime:
        with open(self.path) as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            return self._parse(handle.read())

    def set(self, moment: datetime) -> None:
        """Move to ``moment``; moving back is an error (as for SimClock)."""
        if self._move(moment) > moment:
            raise ValueError(f"FileClock {self.path} cannot go back to {moment}")

    def advance(self, seconds: float) -> datetime:
        with open(self.path, "r+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            moment = self._parse(handle.read()) + timedelta(seconds=seconds)
            self._write(handle, moment)
            return moment

    def _move(self, moment: datetime) -> datetime:
        with open(self.path, "r+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            current = self._parse(handle.read())
            if moment > current:
                self._write(handle, moment)
                return moment
            return current

    @staticmethod
    def _write(handle: object, moment: datetime) -> None:
        handle.seek(0)  # type: ignore[attr-defined]
        handle.truncate()  # type: ignore[attr-defined]
        handle.write(moment.isoformat() + "\n")  # type: ignore[attr-defined]
        handle.flush()  # type: ignore[attr-defined]

    def sleep_until(self, moment: datetime) -> None:
        self._move(moment)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def monotonic(self) -> float:
        return self.now().timestamp()


def session_clock(env: Mapping[str, str] | None = None) -> Clock:
    """The clock a live session runs on: the wall clock, or the shared file clock ``TRADEKIT_SIM_CLOCK`` names."""
    path = (os.environ if env is None else env).get(SIM_CLOCK_ENV)
    return FileClock(path) if path else LiveClock()
