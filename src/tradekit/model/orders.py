"""Orders and their lifecycle.

Two identifiers: the client order id is ours, deterministic, journalled
before the order is sent and written into the broker's tag field; the
broker order id arrives with the acknowledgement. Status changes go through
``TRANSITIONS``; anything else raises ``InvalidTransition``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from tradekit.errors import InvalidTransition
from tradekit.model.instruments import InstrumentId

ClientOrderId = str
BrokerOrderId = str


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"  # becomes a market order when the trigger trades
    STOP_LIMIT = "STOP_LIMIT"  # becomes a limit order when the trigger trades


class OrderStatus(StrEnum):
    SUBMITTED = "SUBMITTED"  # journalled, possibly not yet at the broker
    ACCEPTED = "ACCEPTED"  # the broker acknowledged it and it is working
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REJECTED, S.PARTIALLY_FILLED, S.FILLED, S.CANCELLED, S.PENDING_CANCEL, S.EXPIRED}),
    S.ACCEPTED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.PENDING_CANCEL, S.CANCELLED, S.EXPIRED, S.ACCEPTED}),
    S.PARTIALLY_FILLED: frozenset({S.PARTIALLY_FILLED, S.FILLED, S.PENDING_CANCEL, S.CANCELLED, S.EXPIRED}),
    S.PENDING_CANCEL: frozenset({S.CANCELLED, S.PARTIALLY_FILLED, S.FILLED, S.ACCEPTED}),
    S.FILLED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}
_TRANSITION_FIELDS = frozenset({"broker_order_id", "filled_quantity", "average_fill_price", "status_reason"})
OPEN_STATUSES = frozenset({S.SUBMITTED, S.ACCEPTED, S.PARTIALLY_FILLED, S.PENDING_CANCEL})
del S


@dataclass(frozen=True, slots=True)
class Order:
    client_order_id: ClientOrderId
    account: str
    instrument_id: InstrumentId
    side: Side
    quantity: int
    order_type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    strategy: str = ""
    reason: str = ""  # why: ENTRY, INITIAL_STOP, PARTIAL_50, MANUAL, ...
    created_at: datetime | None = None
    status: OrderStatus = OrderStatus.SUBMITTED
    broker_order_id: BrokerOrderId | None = None
    filled_quantity: int = 0
    average_fill_price: Decimal | None = None
    signal_price: Decimal | None = None  # the price the strategy saw, for slippage
    status_reason: str = ""  # the broker's words on a reject or cancel
    protective_stop: Decimal | None = None  # for entries: place a stop order at this price once filled

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"order {self.client_order_id}: quantity must be positive, got {self.quantity}")
        if self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and self.limit_price is None:
            raise ValueError(f"order {self.client_order_id}: {self.order_type} needs a limit price")
        if self.order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT) and self.stop_price is None:
            raise ValueError(f"order {self.client_order_id}: {self.order_type} needs a stop price")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> int:
        return self.quantity - self.filled_quantity

    def transition(self, status: OrderStatus, **changes: object) -> Order:
        """A copy in the new status; raises ``InvalidTransition`` if the table forbids it."""
        if status not in TRANSITIONS[self.status]:
            raise InvalidTransition(f"order {self.client_order_id}: {self.status} -> {status} is not allowed")
        if changes.keys() - _TRANSITION_FIELDS:
            return replace(self, status=status, **changes)  # type: ignore[arg-type]
        get = changes.get  # the fields a transition changes, named directly: dataclasses.replace walks all 18 by name
        return Order(self.client_order_id, self.account, self.instrument_id, self.side, self.quantity, self.order_type,
                     self.limit_price, self.stop_price, self.strategy, self.reason, self.created_at, status,
                     get("broker_order_id", self.broker_order_id), get("filled_quantity", self.filled_quantity),  # type: ignore[arg-type]
                     get("average_fill_price", self.average_fill_price), self.signal_price,  # type: ignore[arg-type]
                     get("status_reason", self.status_reason), self.protective_stop)  # type: ignore[arg-type]

    def with_fill(self, quantity: int, price: Decimal) -> Order:
        """Apply a fill of ``quantity`` at ``price``: filled quantity, average price and status."""
        if quantity <= 0 or quantity > self.remaining:
            raise InvalidTransition(
                f"order {self.client_order_id}: fill of {quantity} exceeds remaining {self.remaining}"
            )
        filled = self.filled_quantity + quantity
        previous = (self.average_fill_price or Decimal(0)) * self.filled_quantity
        average = (previous + price * quantity) / filled
        status = OrderStatus.FILLED if filled == self.quantity else OrderStatus.PARTIALLY_FILLED
        return self.transition(status, filled_quantity=filled, average_fill_price=average)

    def to_dict(self) -> dict[str, object]:
        return {
            "client_order_id": self.client_order_id,
            "account": self.account,
            "instrument_id": self.instrument_id,
            "side": str(self.side),
            "quantity": self.quantity,
            "order_type": str(self.order_type),
            "limit_price": _s(self.limit_price),
            "stop_price": _s(self.stop_price),
            "strategy": self.strategy,
            "reason": self.reason,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "status": str(self.status),
            "broker_order_id": self.broker_order_id,
            "filled_quantity": self.filled_quantity,
            "average_fill_price": _s(self.average_fill_price),
            "signal_price": _s(self.signal_price),
            "status_reason": self.status_reason,
            "protective_stop": _s(self.protective_stop),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Order:
        return cls(
            client_order_id=str(data["client_order_id"]),
            account=str(data["account"]),
            instrument_id=str(data["instrument_id"]),
            side=Side(str(data["side"])),
            quantity=int(data["quantity"]),  # type: ignore[arg-type]
            order_type=OrderType(str(data.get("order_type") or "MARKET")),
            limit_price=_d(data.get("limit_price")),
            stop_price=_d(data.get("stop_price")),
            strategy=str(data.get("strategy") or ""),
            reason=str(data.get("reason") or ""),
            created_at=datetime.fromisoformat(str(data["created_at"])) if data.get("created_at") else None,
            status=OrderStatus(str(data.get("status") or "SUBMITTED")),
            broker_order_id=str(data["broker_order_id"]) if data.get("broker_order_id") else None,
            filled_quantity=int(data.get("filled_quantity") or 0),  # type: ignore[arg-type]
            average_fill_price=_d(data.get("average_fill_price")),
            signal_price=_d(data.get("signal_price")),
            status_reason=str(data.get("status_reason") or ""),
            protective_stop=_d(data.get("protective_stop")),
        )


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _d(value: object) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))
