"""The ``[strategies.ps60]`` section, validated once into a frozen config.

Every number of the strategy lives here so a trader can change it without
touching code; a bad or unknown key fails with a ``ConfigError`` naming
``strategies.ps60.<key>``, before the day starts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any

from tradekit.errors import ConfigError

SECTION = "strategies.ps60"


@dataclass(frozen=True, slots=True)
class Ps60Config:
    sizing: str = "fixed"  # "fixed": ``shares`` per entry; "risk": risk_per_trade / |entry - stop|
    shares: int = 100
    risk_per_trade: Decimal | None = None  # cash risked per entry when sizing = "risk"
    max_shares: int | None = None  # cap for risk-based sizing (a close next to the pivot means huge size)
    warmup_bars: int = 20  # bars in the buffer before the first entry check (20 x 5 s = 100 s)
    max_attempts: int = 2  # entries per pivot per side per day; a stopped-out one counts
    partial_fraction: float = 0.5  # share of the position sold at target 1
    square_off: time = time(15, 55)  # exchange time (New York) when everything is closed
    entry_cutoff: time | None = None  # last bar end (inclusive) at which an entry may start
    bar_seconds: int = 5
    target_trigger: str = "close"  # "close": bar close reaches the target; "extreme": its high/low
    monitor_seconds: int | None = None  # ask the engine for an exit monitor with fresh quotes
    entry_timeout_bars: int = 3  # an entry neither filled nor working after this many bars is dropped
    stop_resync_bars: int = 12  # re-send the stop at most this often when the broker's differs
    early_close_margin_minutes: int = 5  # on an early-close day square off this long before the close
    exchange: str = "SMART"  # exchange part of instrument ids when the context has no instrument


def _whole(key: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{SECTION}.{key}: must be a whole number >= {minimum}, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{SECTION}.{key}: must be >= {minimum}, got {value}")
    return value


def _money(key: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f"{SECTION}.{key}: must be a positive amount, got {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ConfigError(f"{SECTION}.{key}: must be a positive amount, got {value!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise ConfigError(f"{SECTION}.{key}: must be a positive amount, got {value!r}")
    return amount


def _fraction(key: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{SECTION}.{key}: must be a number between 0 and 1, got {value!r}")
    if not 0 < value < 1:
        raise ConfigError(f"{SECTION}.{key}: must be strictly between 0 and 1, got {value}")
    return float(value)


def _clock(key: str, value: object) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"{SECTION}.{key}: must be a time of day like \"15:55\", got {value!r}")


def _choice(key: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{SECTION}.{key}: must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


def _text(key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip() or ":" in value:
        raise ConfigError(f"{SECTION}.{key}: must be an exchange code like \"SMART\", got {value!r}")
    return value.strip().upper()


_PARSERS: dict[str, Callable[[str, object], Any]] = {
    "sizing": lambda k, v: _choice(k, v, ("fixed", "risk")),
    "shares": lambda k, v: _whole(k, v, 1),
    "risk_per_trade": _money,
    "max_shares": lambda k, v: _whole(k, v, 1),
    "warmup_bars": lambda k, v: _whole(k, v, 1),
    "max_attempts": lambda k, v: _whole(k, v, 1),
    "partial_fraction": _fraction,
    "square_off": _clock,
    "entry_cutoff": _clock,
    "bar_seconds": lambda k, v: _whole(k, v, 1),
    "target_trigger": lambda k, v: _choice(k, v, ("close", "extreme")),
    "monitor_seconds": lambda k, v: _whole(k, v, 1),
    "entry_timeout_bars": lambda k, v: _whole(k, v, 1),
    "stop_resync_bars": lambda k, v: _whole(k, v, 1),
    "early_close_margin_minutes": lambda k, v: _whole(k, v, 0),
    "exchange": _text,
}

KEYS = tuple(_PARSERS)


def parse_config(settings: Mapping[str, object] | None) -> Ps60Config:
    """Validate the raw section; raise ``ConfigError`` naming the first bad key."""
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(_PARSERS))
    if unknown:
        raise ConfigError(f"{SECTION}.{unknown[0]}: unknown key (known: {', '.join(KEYS)})")
    values = {key: _PARSERS[key](key, value) for key, value in settings.items() if value is not None}
    config = Ps60Config(**values)
    if config.sizing == "risk" and config.risk_per_trade is None:
        raise ConfigError(f"{SECTION}.risk_per_trade: required when sizing = \"risk\" (cash risked per entry)")
    if config.entry_cutoff is not None and config.entry_cutoff > config.square_off:
        raise ConfigError(
            f"{SECTION}.entry_cutoff: {config.entry_cutoff:%H:%M:%S} is after square_off {config.square_off:%H:%M:%S}"
        )
    return config
