"""The ``[strategies.oi-momentum]`` config section, validated once into a frozen value.

Every number of the strategy lives here so a trader can change it without
touching code; a bad value fails at start-up with a message naming the key
(``strategies.oi-momentum.trail_pct``), never in the middle of a session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import time
from decimal import Decimal

from tradekit.errors import ConfigError
from tradekit.settings import Converter, amount, choice, clock_time, nonempty, read_section, whole

SECTION = "strategies.oi-momentum"
VWAP_PRICES = ("typical", "close")


@dataclass(frozen=True, slots=True)
class OiMomentumConfig:
    """Validated settings; defaults are the requirements' numbers."""

    lots: int = 1
    max_entries_per_day: int = 2
    entry_start: time = time(9, 30)
    entry_end: time = time(14, 30)
    initial_stop_pct: Decimal = Decimal(25)
    trail_arm_pct: Decimal = Decimal(10)
    trail_pct: Decimal = Decimal(10)
    vwap_stop_pct: Decimal = Decimal(5)
    oi_stop_pct: Decimal = Decimal(10)
    square_off: time = time(15, 15)
    candle_minutes: int = 5
    monitor_seconds: int = 60
    strike_step: Decimal = Decimal(50)
    underlying: str = "NIFTY"
    index_instrument: str = "NSE:NIFTY 50"
    vwap_price: str = "typical"
    broker_stop_pct: Decimal = Decimal(0)  # > 0: a resting stop at the broker this % below the entry signal (0: none)

    @property
    def candle_seconds(self) -> int:
        return self.candle_minutes * 60


def _instrument_id(value: object) -> str:
    text = nonempty(value)
    if ":" not in text:
        raise ValueError(f"must be an instrument id EXCHANGE:SYMBOL, got {value!r}")
    return text


_PERCENT = amount(above=0, below=100)  # a stop distance: some loss, never all of it
CONVERTERS: dict[str, Converter] = {
    "lots": whole(1),
    "max_entries_per_day": whole(1),
    "entry_start": clock_time,
    "entry_end": clock_time,
    "initial_stop_pct": _PERCENT,
    "trail_arm_pct": amount(minimum=0),
    "trail_pct": _PERCENT,
    "vwap_stop_pct": amount(minimum=0, below=100),
    "oi_stop_pct": amount(minimum=0),
    "square_off": clock_time,
    "candle_minutes": whole(1),
    "monitor_seconds": whole(1),
    "strike_step": amount(above=0),
    "underlying": nonempty,
    "index_instrument": _instrument_id,
    "vwap_price": choice(*VWAP_PRICES, case="lower"),
    "broker_stop_pct": amount(minimum=0, below=100),
}
assert set(CONVERTERS) == {f.name for f in fields(OiMomentumConfig)}, "every key needs a converter"


def _fail(key: str, message: str) -> ConfigError:
    return ConfigError(f"{SECTION}.{key}: {message}")


def parse_config(settings: Mapping[str, object] | None) -> OiMomentumConfig:
    """Validate the config section; unknown keys are errors (a typo must not silently use a default)."""
    values = read_section(SECTION, settings or {}, CONVERTERS)
    config = OiMomentumConfig(**values)  # type: ignore[arg-type]
    if config.entry_start > config.entry_end:
        raise _fail("entry_end", f"must not be before entry_start ({config.entry_start:%H:%M}), got {config.entry_end:%H:%M}")
    if 0 < config.broker_stop_pct <= config.initial_stop_pct:
        raise _fail("broker_stop_pct", f"must be wider than initial_stop_pct ({config.initial_stop_pct}) so the "
                                       f"strategy's own exits act first, or 0; got {config.broker_stop_pct}")
    if config.entry_end >= config.square_off:
        raise _fail("square_off", f"must be after entry_end ({config.entry_end:%H:%M}), got {config.square_off:%H:%M}")
    return config
