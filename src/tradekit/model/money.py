"""Exact money and price arithmetic.

Money is ``Decimal`` everywhere in the domain; floats appear only at the
edges (market data arrays, broker payloads) and are converted by
``to_decimal`` which refuses NaN and infinities.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal("0")
CENT = Decimal("0.01")


def to_decimal(value: object) -> Decimal:
    """Convert a number from the edge (float, numpy scalar, str, int) to Decimal.

    Floats go through ``repr`` so 0.1 stays 0.1. NaN and infinity raise
    ``ValueError``: a price that is not a number must never enter the book.
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value}")
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar -> Python scalar
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value}")
        return Decimal(repr(value))
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation as error:
        raise ValueError(f"not a number: {value!r}") from error
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def round_money(value: Decimal, quantum: Decimal = CENT) -> Decimal:
    """Round a money amount half-up to the quantum (paise or cents by default)."""
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def snap_to_tick(price: Decimal, tick: Decimal) -> Decimal:
    """Snap a price to the nearest multiple of the tick (ties to even ticks)."""
    if tick <= 0:
        return price
    ticks = (price / tick).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return (ticks * tick).quantize(tick)


def is_on_tick(price: Decimal, tick: Decimal) -> bool:
    """True when the price is an exact multiple of the tick."""
    return tick <= 0 or (price % tick) == 0
