"""Fills: an execution reported by the broker (or the paper venue)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tradekit.model.instruments import InstrumentId
from tradekit.model.orders import ClientOrderId, Side


@dataclass(frozen=True, slots=True)
class Fill:
    fill_id: str  # the broker's trade/execution id; unique per account
    account: str
    instrument_id: InstrumentId
    side: Side
    quantity: int
    price: Decimal
    ts: datetime
    client_order_id: ClientOrderId | None = None  # None for a trade made outside tradekit
    broker_order_id: str | None = None
    costs: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise ValueError(f"fill {self.fill_id}: quantity must be positive, got {self.quantity}")
        if self.price <= 0:
            raise ValueError(f"fill {self.fill_id}: price must be positive, got {self.price}")

    @property
    def signed_quantity(self) -> int:
        return self.side.sign * self.quantity

    @property
    def notional(self) -> Decimal:
        return self.price * self.quantity

    def to_dict(self) -> dict[str, object]:
        return {
            "fill_id": self.fill_id,
            "account": self.account,
            "instrument_id": self.instrument_id,
            "side": str(self.side),
            "quantity": self.quantity,
            "price": str(self.price),
            "ts": self.ts.isoformat(),
            "client_order_id": self.client_order_id,
            "broker_order_id": self.broker_order_id,
            "costs": str(self.costs),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Fill:
        return cls(
            fill_id=str(data["fill_id"]),
            account=str(data["account"]),
            instrument_id=str(data["instrument_id"]),
            side=Side(str(data["side"])),
            quantity=int(data["quantity"]),  # type: ignore[arg-type]
            price=Decimal(str(data["price"])),
            ts=datetime.fromisoformat(str(data["ts"])),
            client_order_id=str(data["client_order_id"]) if data.get("client_order_id") else None,
            broker_order_id=str(data["broker_order_id"]) if data.get("broker_order_id") else None,
            costs=Decimal(str(data.get("costs") or "0")),
        )
