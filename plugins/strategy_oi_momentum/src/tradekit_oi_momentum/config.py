"""The ``[strategies.oi-momentum]`` config section, validated once into a frozen value.

Every number of the strategy lives here so a trader can change it without
touching code; a bad value fails at start-up with a message naming the key
(``strategies.oi-momentum.trail_pct``), never in the middle of a session.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import time
from decimal import Decimal, InvalidOperation

from tradekit.errors import ConfigError

SECTION = "strategies.oi-momentum"
VWAP_PRICES = ("typical", "close")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


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

    @property
    def candle_seconds(self) -> int:
        return self.candle_minutes * 60


_KEYS = tuple(f.name for f in fields(OiMomentumConfig))


def _fail(key: str, message: str) -> ConfigError:
    return ConfigError(f"{SECTION}.{key}: {message}")


def _int(key: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(key, f"must be a whole number, got {value!r}")
    if value < minimum:
        raise _fail(key, f"must be >= {minimum}, got {value}")
    return value


def _pct(key: str, value: object, *, allow_zero: bool, below_hundred: bool) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise _fail(key, f"must be a percentage number, got {value!r}")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise _fail(key, f"must be a percentage number, got {value!r}") from None
    if not number.is_finite():
        raise _fail(key, f"must be a finite percentage, got {value!r}")
    if number < 0 or (number == 0 and not allow_zero):
        raise _fail(key, f"must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    if below_hundred and number >= 100:
        raise _fail(key, f"must be below 100, got {value!r}")
    return number


def _time(key: str, value: object) -> time:
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    match = _HHMM.match(value) if isinstance(value, str) else None
    if match is None:
        raise _fail(key, f'must be a time "HH:MM" (exchange time), got {value!r}')
    return time(int(match.group(1)), int(match.group(2)))


def _text(key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(key, f"must be a non-empty string, got {value!r}")
    return value.strip()


def parse_config(settings: Mapping[str, object] | None) -> OiMomentumConfig:
    """Validate the config section; unknown keys are errors (a typo must not silently use a default)."""
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(_KEYS))
    if unknown:
        raise _fail(unknown[0], f"unknown key (known: {', '.join(_KEYS)})")
    default = OiMomentumConfig()
    values: dict[str, object] = {}
    for key in _KEYS:
        if key not in settings:
            values[key] = getattr(default, key)
            continue
        raw = settings[key]
        if key in ("lots", "max_entries_per_day", "candle_minutes", "monitor_seconds"):
            values[key] = _int(key, raw, 1)
        elif key in ("initial_stop_pct", "trail_pct"):
            values[key] = _pct(key, raw, allow_zero=False, below_hundred=True)
        elif key == "vwap_stop_pct":
            values[key] = _pct(key, raw, allow_zero=True, below_hundred=True)
        elif key in ("trail_arm_pct", "oi_stop_pct"):
            values[key] = _pct(key, raw, allow_zero=True, below_hundred=False)
        elif key == "strike_step":
            values[key] = _pct(key, raw, allow_zero=False, below_hundred=False)
        elif key in ("entry_start", "entry_end", "square_off"):
            values[key] = _time(key, raw)
        elif key == "vwap_price":
            text = _text(key, raw).lower()
            if text not in VWAP_PRICES:
                raise _fail(key, f"must be one of {', '.join(VWAP_PRICES)}, got {raw!r}")
            values[key] = text
        elif key == "index_instrument":
            text = _text(key, raw)
            if ":" not in text:
                raise _fail(key, f"must be an instrument id EXCHANGE:SYMBOL, got {raw!r}")
            values[key] = text
        else:
            values[key] = _text(key, raw)
    config = OiMomentumConfig(**values)  # type: ignore[arg-type]
    if config.entry_start > config.entry_end:
        raise _fail("entry_end", f"must not be before entry_start ({config.entry_start:%H:%M}), got {config.entry_end:%H:%M}")
    if config.entry_end >= config.square_off:
        raise _fail("square_off", f"must be after entry_end ({config.entry_end:%H:%M}), got {config.square_off:%H:%M}")
    return config
