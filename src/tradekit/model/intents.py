"""What a strategy asks for. The engine turns intents into orders after risk checks.

Reasons are short upper-case codes that end up on orders and trades
(``ENTRY``, ``INITIAL_STOP``, ``TRAILING_STOP``, ``VWAP_STOP``, ``OI_STOP``,
``END_OF_DAY``, ``PARTIAL_50``, ``TARGET_2``, ``BREAK_EVEN_STOP``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradekit.model.instruments import InstrumentId
from tradekit.model.orders import Side


@dataclass(frozen=True, slots=True)
class Enter:
    """Open a position with a market order (``limit_price`` makes it a limit order)."""

    instrument_id: InstrumentId
    side: Side
    quantity: int  # units (shares, or lots x lot size)
    reason: str = "ENTRY"
    signal_price: float | None = None  # the price the decision saw; slippage is measured against it
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None  # place a protective stop order at the broker after the fill


@dataclass(frozen=True, slots=True)
class Exit:
    """Close ``quantity`` units of the strategy's position (all of it when None) at market."""

    instrument_id: InstrumentId
    reason: str
    quantity: int | None = None
    signal_price: float | None = None


@dataclass(frozen=True, slots=True)
class MoveStop:
    """Place or move the protective stop order for the position to ``stop_price``."""

    instrument_id: InstrumentId
    stop_price: Decimal
    reason: str = "STOP_MOVED"


@dataclass(frozen=True, slots=True)
class CancelStop:
    """Cancel the protective stop order of the position, if any."""

    instrument_id: InstrumentId
    reason: str = "STOP_CANCELLED"


Intent = Enter | Exit | MoveStop | CancelStop


@dataclass(frozen=True, slots=True)
class Block:
    """A signal the strategy (or the risk layer) did not act on, and why: kept for reports."""

    rule: str  # e.g. WARMUP, ATTEMPT_LIMIT, OUTSIDE_WINDOW, MAX_ENTRIES, DAILY_LOSS_LIMIT
    reason: str
    instrument_id: InstrumentId | None = None
