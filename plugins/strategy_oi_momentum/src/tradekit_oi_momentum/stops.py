"""The exit rules as one pure check, and the line a trader reads for every check.

Stop levels are computed in ``Decimal`` from the prices as quoted, so a price
that sits exactly on a level (LTP 22.50 against entry 30.00 and a 25% stop)
triggers the way the rule reads, not the way float rounding happens to fall.
The order of the rules is the order in the requirements: first hit wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from decimal import ROUND_HALF_UP, Decimal

from tradekit.model.money import to_decimal
from tradekit_oi_momentum.chain import format_oi
from tradekit_oi_momentum.config import OiMomentumConfig

INITIAL_STOP = "INITIAL_STOP"
TRAILING_STOP = "TRAILING_STOP"
VWAP_STOP = "VWAP_STOP"
OI_STOP = "OI_STOP"
END_OF_DAY = "END_OF_DAY"
EXIT_REASONS = (INITIAL_STOP, TRAILING_STOP, VWAP_STOP, OI_STOP, END_OF_DAY)

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def pct(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def price(value: Decimal | float) -> str:
    """Two decimals, the way option premiums are quoted."""
    return f"{to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):.2f}"


def signed_pct(value: Decimal) -> str:
    return f"{pct(value):+.2f}%"


@dataclass(frozen=True, slots=True)
class CheckInput:
    """What one exit check looks at; ``ltp`` None means no fresh price (only the clock rule can fire)."""

    label: str
    ltp: Decimal | None
    entry: Decimal
    peak: Decimal  # highest LTP since entry, this check's LTP included
    vwap: Decimal | None
    oi: int | None  # None or 0: the source had no OI
    oi_at_entry: int | None
    now: datetime  # exchange-local event time of the check


@dataclass(frozen=True, slots=True)
class CheckResult:
    reason: str | None  # the first rule hit, or None
    line: str
    pnl_pct: Decimal | None


def _away(ltp: Decimal, level: Decimal) -> str:
    """Distance of the price above a stop level, relative to the level (48.89% for 33.50 vs 22.50)."""
    if ltp <= level:
        return "hit"
    return f"{pct((ltp - level) / level * HUNDRED):.2f}% away"


def square_off_due(config: OiMomentumConfig, now: datetime) -> bool:
    return now.time() >= config.square_off


def check_exits(config: OiMomentumConfig, data: CheckInput) -> CheckResult:
    """Evaluate every exit rule in order; the first that holds is the reason."""
    hits: list[str] = []
    parts: list[str] = []
    ltp = data.ltp
    entry = data.entry
    pnl: Decimal | None = None
    if ltp is None:
        parts.append(f"{data.label}: no fresh quote, entry {price(entry)}")
    else:
        pnl = (ltp - entry) / entry * HUNDRED
        parts.append(f"{data.label}: LTP {price(ltp)} entry {price(entry)} P&L {signed_pct(pnl)}")
        in_loss = ltp < entry

        initial = entry * (1 - config.initial_stop_pct / HUNDRED)
        parts.append(f"initial stop {price(initial)} ({_away(ltp, initial)})")
        if ltp <= initial:
            hits.append(INITIAL_STOP)

        arm = entry * (1 + config.trail_arm_pct / HUNDRED)
        if data.peak >= arm:
            trail = data.peak * (1 - config.trail_pct / HUNDRED)
            parts.append(f"trailing armed peak {price(data.peak)} stop {price(trail)} ({_away(ltp, trail)})")
            if ltp <= trail:
                hits.append(TRAILING_STOP)
        else:
            parts.append(f"trailing arms at {price(arm)} (peak {price(data.peak)})")

        if data.vwap is None:
            parts.append("VWAP stop n/a (no VWAP yet)")
        elif in_loss:
            level = data.vwap * (1 - config.vwap_stop_pct / HUNDRED)
            distance = "hit" if ltp < level else f"{pct((ltp - level) / level * HUNDRED):.2f}% away"
            parts.append(f"VWAP stop {price(level)} (VWAP {price(data.vwap)}, {distance})")
            if ltp < level:
                hits.append(VWAP_STOP)
        else:
            parts.append(f"VWAP stop off in profit (VWAP {price(data.vwap)})")

        if not data.oi or not data.oi_at_entry:
            parts.append("OI stop n/a (no OI)")
        elif in_loss:
            oi_level = Decimal(data.oi_at_entry) * (1 + config.oi_stop_pct / HUNDRED)
            oi = Decimal(data.oi)
            distance = "hit" if oi >= oi_level else f"{pct((oi_level - oi) / oi * HUNDRED):.2f}% away"
            parts.append(f"OI stop {format_oi(int(oi_level.to_integral_value(ROUND_HALF_UP)))} (OI {format_oi(data.oi)}, {distance})")
            if oi >= oi_level:
                hits.append(OI_STOP)
        else:
            parts.append(f"OI stop off in profit (OI {format_oi(data.oi)})")

    if square_off_due(config, data.now):
        parts.append(f"square-off {config.square_off:%H:%M} (due)")
        hits.append(END_OF_DAY)
    else:
        left = _minutes_until(data.now, config.square_off)
        parts.append(f"square-off {config.square_off:%H:%M} (in {left} min)")
    reason = hits[0] if hits else None
    line = " | ".join(parts)
    if reason is not None:
        line += f" -> EXIT {reason}"
    return CheckResult(reason=reason, line=line, pnl_pct=pnl)


def _minutes_until(now: datetime, moment: time) -> int:
    target = now.replace(hour=moment.hour, minute=moment.minute, second=0, microsecond=0)
    seconds = (target - now).total_seconds()
    return max(0, int(-(-seconds // 60)))
