"""A plain reading of the two strategies' rules (docs/requirements.md), used only to check
that the bundled sample days exercise what their day.toml claims. It is deliberately
independent of the strategy plugins; the lead cross-checks against those.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from tradekit.data import MarketDay
from tradekit.model import OptionRight

MINUTE = 60_000_000_000


def _local_ns(day: MarketDay, hh: int, mm: int) -> int:
    return pd.Timestamp(day.day, tz=ZoneInfo(day.timezone)).replace(hour=hh, minute=mm).value


def _at(series, boundaries: np.ndarray, column: str) -> np.ndarray:
    """Value of ``column`` of the last bar that started before each boundary."""
    index = np.searchsorted(series.ts, boundaries, side="left") - 1
    return getattr(series, column)[np.clip(index, 0, None)]


def oi_momentum(day: MarketDay) -> list[str]:
    """Events: direction_put/call, entry@HH:MM, and exits by rule name."""
    open_ns = _local_ns(day, 9, 15)
    candle_ends = open_ns + np.arange(1, 76) * 5 * MINUTE
    minutes = open_ns + np.arange(1, 376) * MINUTE
    options = [s for s in day.series.values() if s.instrument.right is not None]
    first_end = np.array([open_ns + 5 * MINUTE])
    calls = {float(s.instrument.strike): _at(s, first_end, "oi")[0] for s in options if s.instrument.right is OptionRight.CALL}
    puts = {float(s.instrument.strike): _at(s, first_end, "oi")[0] for s in options if s.instrument.right is OptionRight.PUT}
    direction = OptionRight.PUT if max(calls.values()) > max(puts.values()) else OptionRight.CALL
    events = [f"direction_{direction.value.lower()}"]
    chain = {float(s.instrument.strike): s for s in options if s.instrument.right is direction}
    strikes = sorted(chain)
    spot = day.series["NSE:NIFTY 50"]

    def vwap_until(series, end_ns: int) -> float:
        mask = series.ts < end_ns
        volume = series.volume[mask].sum()
        return float((series.close[mask] * series.volume[mask]).sum() / volume) if volume else float("nan")

    entries, k = 0, 1
    window = (_local_ns(day, 9, 30), _local_ns(day, 14, 30))
    while k < 75:
        start = candle_ends[k] - 5 * MINUTE
        price = _at(spot, candle_ends[k : k + 1], "close")[0]
        strike = min((s for s in strikes if s >= price), default=None) if direction is OptionRight.CALL else max((s for s in strikes if s < price), default=None)
        if strike is None or entries >= 2 or not window[0] <= start <= window[1]:
            k += 1
            continue
        contract = chain[strike]
        close, oi, oi_before = _at(contract, candle_ends[k : k + 1], "close")[0], _at(contract, candle_ends[k : k + 1], "oi")[0], _at(contract, candle_ends[k - 1 : k], "oi")[0]
        if not (close > vwap_until(contract, candle_ends[k]) and oi < oi_before):
            k += 1
            continue
        entries += 1
        entry, entry_oi, peak, armed = close, oi, close, False
        events.append(f"entry@{pd.Timestamp(candle_ends[k], tz='UTC').tz_convert(day.timezone):%H:%M}")
        exit_at = None
        for m in np.nonzero(minutes > candle_ends[k])[0]:
            boundary = minutes[m]
            ltp = _at(contract, minutes[m : m + 1], "close")[0]
            lot_oi = _at(contract, minutes[m : m + 1], "oi")[0]
            peak = max(peak, ltp)
            armed = armed or ltp >= entry * 1.10
            loss = ltp < entry
            if ltp <= entry * 0.75:
                reason = "initial_stop"
            elif armed and ltp <= peak * 0.90:
                reason = "trailing_stop"
            elif loss and ltp < vwap_until(contract, boundary) * 0.95:
                reason = "vwap_stop"
            elif loss and lot_oi >= entry_oi * 1.10:
                reason = "oi_stop"
            elif boundary >= _local_ns(day, 15, 15):
                reason = "end_of_day"
            else:
                continue
            events.append(reason)
            exit_at = boundary
            break
        if exit_at is None:
            break
        k = int(np.searchsorted(candle_ends, exit_at, side="left")) + 1
    return events


def ps60(day: MarketDay, setups) -> list[str]:  # type: ignore[no-untyped-def]
    """Events per symbol: SYMBOL:long/short entry, partial, exits by rule name, attempt_limit_reached."""
    events: list[str] = []
    eod = _local_ns(day, 15, 55)
    for setup in setups:
        series = day.series[f"SMART:{setup.symbol}"]
        attempts = {"long": 0, "short": 0}
        blocked = {"long": False, "short": False}
        position = None
        for i in range(series.ts.size):
            close = series.close[i]
            end = series.ts[i] + 5_000_000_000
            if position is not None:
                side, entry, stop, partial = position
                sign = 1 if side == "long" else -1
                t1 = setup.long_target_1 if side == "long" else setup.short_target_1
                t2 = setup.long_target_2 if side == "long" else setup.short_target_2
                if end >= eod:
                    events.append(f"{setup.symbol}:end_of_day")
                    position = None
                    break
                if not partial and sign * (close - t1) >= 0:
                    events.append(f"{setup.symbol}:partial")
                    position = (side, entry, entry, True)
                    continue
                if partial and sign * (close - t2) >= 0:
                    events.append(f"{setup.symbol}:target_2")
                    position = None
                elif sign * (close - stop) <= 0:
                    events.append(f"{setup.symbol}:{'stop_break_even' if partial else 'stop_pivot'}")
                    position = None
                continue
            if i < 19 or end >= eod:
                continue
            for side, broke in (("long", close > setup.resistance), ("short", close < setup.support)):
                if not broke:
                    continue
                if attempts[side] >= 2:
                    if not blocked[side]:
                        events.append(f"{setup.symbol}:attempt_limit_reached")
                        blocked[side] = True
                    continue
                attempts[side] += 1
                pivot = setup.resistance if side == "long" else setup.support
                position = (side, close, pivot, False)
                events.append(f"{setup.symbol}:{side}")
                break
    return events
