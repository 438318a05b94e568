"""The ``[strategies.ps60]`` section, validated once into a frozen config.

Every number of the strategy lives here so a trader can change it without
touching code; a bad or unknown key fails with a ``ConfigError`` naming
``strategies.ps60.<key>``, before the day starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from decimal import Decimal

from tradekit.errors import ConfigError
from tradekit.settings import Converter, amount, choice, clock_time, number, read_section, whole

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


def _exchange(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or ":" in value:
        raise ValueError(f'must be an exchange code like "SMART", got {value!r}')
    return value.strip().upper()


_PARSERS: dict[str, Converter] = {
    "sizing": choice("fixed", "risk"),
    "shares": whole(1),
    "risk_per_trade": amount(above=0),
    "max_shares": whole(1),
    "warmup_bars": whole(1),
    "max_attempts": whole(1),
    "partial_fraction": number(above=0, below=1),
    "square_off": clock_time,
    "entry_cutoff": clock_time,
    "bar_seconds": whole(1),
    "target_trigger": choice("close", "extreme"),
    "monitor_seconds": whole(1),
    "entry_timeout_bars": whole(1),
    "stop_resync_bars": whole(1),
    "early_close_margin_minutes": whole(0),
    "exchange": _exchange,
}

KEYS = tuple(_PARSERS)


def parse_config(settings: Mapping[str, object] | None) -> Ps60Config:
    """Validate the raw section; raise ``ConfigError`` naming the first bad key."""
    given = {key: value for key, value in (settings or {}).items() if value is not None}  # None: the default
    config = Ps60Config(**read_section(SECTION, given, _PARSERS))
    if config.sizing == "risk" and config.risk_per_trade is None:
        raise ConfigError(f"{SECTION}.risk_per_trade: required when sizing = \"risk\" (cash risked per entry)")
    if config.entry_cutoff is not None and config.entry_cutoff > config.square_off:
        raise ConfigError(
            f"{SECTION}.entry_cutoff: {config.entry_cutoff:%H:%M:%S} is after square_off {config.square_off:%H:%M:%S}"
        )
    return config
