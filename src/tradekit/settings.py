"""Reading a plugin's config section: one converter per key, one error line naming ``section.key``.

The core merges defaults < ``tradekit.toml`` < ``TRADEKIT__<SECTION>__<KEY>``
environment variables into the mapping a plugin receives. Values from the
environment arrive as text, so every converter here also takes the text form
(``"30"``, ``"true"``, ``"NIFTY, BANKNIFTY"``, ``"[1, 2, 4]"``). A converter
returns the typed value or raises ``ValueError`` saying what the value must
be; ``read_section`` turns that into a ``ConfigError`` that names the key
(``brokers.zerodha.timeout_seconds: must be more than 0, got '0'``), and
refuses unknown keys: a typo must not be ignored.

Each broker plugin once carried its own copy of these (three spellings of
"true", two of them accepting ``""``); they live here once, for every plugin.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlparse

from tradekit.errors import ConfigError

Converter = Callable[[Any], Any]

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def read_section(section: str, settings: Mapping[str, Any], converters: Mapping[str, Converter], *,
                 defaults: Mapping[str, Any] | None = None, source: str = "") -> dict[str, Any]:
    """``settings`` converted key by key (keys are case-insensitive); with ``defaults``, every key of them
    is present in the result, converted too. Raises ``ConfigError`` naming ``section.key`` (and ``source``,
    e.g. the file, when given) for an unknown key or a bad value."""
    where = f" (in {source})" if source else ""
    merged: dict[str, Any] = dict(defaults or {})
    for raw_key, value in settings.items():
        key = str(raw_key).lower()
        if key not in converters:
            raise ConfigError(f"{section}.{raw_key}: unknown key{where}; known keys: {', '.join(converters)}")
        merged[key] = value
    out: dict[str, Any] = {}
    for key, value in merged.items():
        try:
            out[key] = converters[key](value)
        except ValueError as error:
            raise ConfigError(f"{section}.{key}: {error}{where}") from None
    return out


# ---- text ------------------------------------------------------------------------


def text(value: Any) -> str:
    """Text, stripped; a number is taken as its text (an account id), nothing as ``""``."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"must be text, got {value!r}")
    return str(value).strip()


def nonempty(value: Any) -> str:
    result = text(value)
    if not result:
        raise ValueError("must not be empty")
    return result


def env_name(value: Any) -> str:
    """The *name* of an environment variable holding a secret (never the secret itself)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"must name an environment variable, got {value!r}")
    name = value.strip()
    if not name.replace("_", "").isalnum() or name[0].isdigit():
        raise ValueError(f"{name!r} is not an environment variable name (put the secret in that variable, not here)")
    return name


def url(value: Any) -> str:
    """An http(s) URL, without a trailing ``/``."""
    parsed = urlparse(str(value).strip())
    if parsed.scheme not in ("http", "https", "ws", "wss") or not parsed.netloc:
        raise ValueError(f"must be an http(s) or ws(s) URL, got {value!r}")
    return str(value).strip().rstrip("/")


def optional_url(value: Any) -> str:
    """A URL, or ``""`` for "not set"."""
    return "" if value is None or str(value).strip() == "" else url(value)


def timezone(value: Any) -> str:
    """An IANA time zone name (``Asia/Kolkata``)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return name


def choice(*allowed: str, case: str | None = None) -> Converter:
    """One of ``allowed``; ``case="upper"`` or ``"lower"`` normalises the value before comparing."""

    def convert(value: Any) -> str:
        result = text(value)
        result = result.upper() if case == "upper" else result.lower() if case == "lower" else result
        if result not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}, got {value!r}")
        return result

    return convert


# ---- numbers and switches ----------------------------------------------------------


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"must be a number, got {value!r}")
    try:
        result = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number, got {value!r}") from None
    if not math.isfinite(result):
        raise ValueError(f"must be a finite number, got {value!r}")
    return result


def number(*, above: float | None = None, minimum: float | None = None, below: float | None = None) -> Converter:
    """A finite number, more than ``above`` / at least ``minimum`` / below ``below`` when given."""

    def convert(value: Any) -> float:
        return _bounded(_number(value), value, above, minimum, below)

    return convert


def _bounded(result: Any, value: Any, above: Any, minimum: Any, below: Any) -> Any:
    if above is not None and not result > above:
        raise ValueError(f"must be more than {above}, got {value!r}")
    if minimum is not None and result < minimum:
        raise ValueError(f"must be at least {minimum}, got {value!r}")
    if below is not None and not result < below:
        raise ValueError(f"must be below {below}, got {value!r}")
    return result


positive = number(above=0)
non_negative = number(minimum=0)


def whole(low: int | None = None, high: int | None = None) -> Converter:
    """A whole number (``"7"``, ``7``, ``7.0``), within ``low``..``high`` when given."""

    def convert(value: Any) -> int:
        result = _number(value)
        if not result.is_integer():
            raise ValueError(f"must be a whole number, got {value!r}")
        integer = int(result)
        if (low is not None and integer < low) or (high is not None and integer > high):
            span = f"from {low} to {high}" if low is not None and high is not None else \
                f"at least {low}" if low is not None else f"at most {high}"
            raise ValueError(f"must be {span}, got {value!r}")
        return integer

    return convert


def flag(value: Any) -> bool:
    """true/false, also as 1/0, yes/no, on/off."""
    if isinstance(value, bool):
        return value
    spelled = str(value).strip().lower()
    if spelled in _TRUE:
        return True
    if spelled in _FALSE:
        return False
    raise ValueError(f"must be true or false, got {value!r}")


# ---- lists -------------------------------------------------------------------------


def _items(value: Any) -> list[Any]:
    if isinstance(value, str):  # from the environment: "1,2,4", "[1, 2, 4]" or "NIFTY, BANKNIFTY"
        return [part.strip().strip("\"'") for part in value.strip().strip("[]").split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return list(value)
    raise ValueError(f"must be a list, got {value!r}")


def names(*, upper: bool = False, allow_empty: bool = False) -> Converter:
    """A list of names (symbols, exchanges, segments) as a tuple, upper-cased with ``upper``."""

    def convert(value: Any) -> tuple[str, ...]:
        items = _items(value)
        if not items and not allow_empty:
            raise ValueError(f"must be a non-empty list, got {value!r}")
        out = []
        for item in items:
            if not isinstance(item, str) or not item.strip():
                raise ValueError(f"must be a list of names, got {value!r}")
            out.append(item.strip().upper() if upper else item.strip())
        return tuple(out)

    return convert


def seconds_list(value: Any) -> tuple[float, ...]:
    """Waits in seconds (a retry's backoff), at least one, none negative."""
    items = _items(value)
    if not items:
        raise ValueError(f"must be a non-empty list of seconds, got {value!r}")
    try:
        return tuple(non_negative(item) for item in items)
    except ValueError:
        raise ValueError(f"must be a list of seconds, none negative, got {value!r}") from None


# ---- strategy values: exact amounts, times of day ------------------------------------


def amount(*, above: int | Decimal | None = None, minimum: int | Decimal | None = None,
           below: int | Decimal | None = None) -> Converter:
    """An exact decimal (cash, a percentage, a strike step); a float is read by its shortest form (12.5, not
    12.4999...)."""

    def convert(value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
            raise ValueError(f"must be a number, got {value!r}")
        try:
            result = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"must be a number, got {value!r}") from None
        if not result.is_finite():
            raise ValueError(f"must be a finite number, got {value!r}")
        return _bounded(result, value, above, minimum, below)

    return convert


def clock_time(value: Any) -> time:
    """A time of day in the exchange's time: "HH:MM" or "HH:MM:SS", or a TOML time."""
    if isinstance(value, time):
        return value
    match = _HHMM.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f'must be a time of day "HH:MM" (exchange time), got {value!r}')
    return time(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
