"""What a broker says: order, position and account reports.

Broker adapters parse their wire payloads into these at the edge; nothing
broker-specific (field names, CE/PE, exchange prefixes, lowercase statuses,
numpy or string numbers) passes inward. Fills are reported as ``Fill``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tradekit.model.instruments import InstrumentId
from tradekit.model.orders import OrderStatus, OrderType, Side


@dataclass(frozen=True, slots=True)
class OrderReport:
    broker_order_id: str
    client_order_id: str | None  # the tag we sent; None for orders placed outside tradekit
    instrument_id: InstrumentId
    side: Side
    quantity: int
    status: OrderStatus
    order_type: OrderType = OrderType.MARKET
    filled_quantity: int = 0
    average_price: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    ts: datetime | None = None
    status_reason: str = ""


@dataclass(frozen=True, slots=True)
class PositionReport:
    """Net position (day plus overnight) as the broker holds it."""

    instrument_id: InstrumentId
    quantity: int  # signed
    average_price: Decimal
    last_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class AccountReport:
    account: str
    currency: str
    cash: Decimal
    equity: Decimal  # cash plus marked value of positions (net liquidation)
    ts: datetime | None = None
