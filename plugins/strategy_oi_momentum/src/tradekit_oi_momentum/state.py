"""The strategy's saved state: plain JSON data, so a kill -9 loses nothing.

The engine persists this dict after every step that changed it. Everything a
decision depends on lives here (direction, reference strikes and their OI,
trading strike, per-contract VWAP sums and last OI, the position's entry,
peak and OI at entry, entries today); a fresh strategy instance given the
same state and the same inputs makes the same decisions.

Layout (version 1)::

    {"version": 1, "day": "2025-12-09",
     "direction": "PUT" | "CALL" | None,
     "reference": {"call_strike": "26000", "call_oi": 35123625,
                   "put_strike": "26000", "put_oi": 17592275, "candle": "09:15"} | None,
     "strike": "25900" | None,                 # trading strike (nearest OTM)
     "contracts": {instrument_id: [pv_sum, volume_sum, last_oi, last_candle_epoch]},
     "entries_today": 0,
     "position": None | {
         "instrument_id", "label", "order_quantity", "signal_price", "signal_time",
         "oi_at_entry", "buys": {fill_id: [qty, "price"]}, "sells": {...},
         "adopted": None | [qty, "price"], "entry_time", "peak": "33.5",
         "exit": None | {"reason", "time", "signal_price"}}}
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradekit.ports.strategy import State

STATE_VERSION = 1


def new_state(day: str) -> State:
    return {
        "version": STATE_VERSION,
        "day": day,
        "direction": None,
        "reference": None,
        "strike": None,
        "contracts": {},
        "entries_today": 0,
        "position": None,
    }


def filled_quantity(position: dict[str, Any]) -> int:
    """Units held by the strategy: bought minus sold (an adopted position counts until its buys arrive)."""
    bought = sum(int(qty) for qty, _ in position["buys"].values())
    if not position["buys"] and position.get("adopted"):
        bought = int(position["adopted"][0])
    sold = sum(int(qty) for qty, _ in position["sells"].values())
    return bought - sold


def entry_price(position: dict[str, Any]) -> Decimal | None:
    """Average buy fill price (the real fill, never the signal)."""
    buys = position["buys"].values()
    quantity = sum(int(qty) for qty, _ in buys)
    if quantity:
        return sum((Decimal(price) * int(qty) for qty, price in buys), Decimal(0)) / quantity
    if position.get("adopted"):
        return Decimal(position["adopted"][1])
    return None


def vwap(record: list[Any] | None) -> Decimal | None:
    """Running VWAP from the day's open of one contract, None before any volume traded."""
    if not record or not record[1]:
        return None
    return Decimal(repr(record[0] / record[1]))
