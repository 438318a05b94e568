"""Positions, built only by applying fills.

A position is signed (long > 0, short < 0). Applying a fill that reduces it
realises P&L against the average price; one that crosses zero closes the old
side and opens the new one at the fill price. Costs are carried separately
so gross and net P&L are both available.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tradekit.model.fills import Fill
from tradekit.model.instruments import InstrumentId

ZERO = Decimal(0)
PRICE_QUANTUM = Decimal("0.00000001")  # averages kept to 8 places so the store holds exactly what memory holds


@dataclass(frozen=True, slots=True)
class Position:
    account: str
    instrument_id: InstrumentId
    quantity: int = 0
    average_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO  # gross, since the position was opened
    costs: Decimal = ZERO
    opened_at: datetime | None = None
    strategy: str = ""
    external: bool = False  # found at the broker, not opened by tradekit

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    @property
    def side_label(self) -> str:
        return "LONG" if self.quantity > 0 else "SHORT" if self.quantity < 0 else "FLAT"

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        return (mark - self.average_price) * self.quantity

    def market_value(self, mark: Decimal) -> Decimal:
        return mark * self.quantity

    def apply(self, fill: Fill) -> tuple[Position, Decimal]:
        """The position after ``fill`` and the gross P&L that fill realised."""
        if fill.instrument_id != self.instrument_id:
            raise ValueError(f"fill for {fill.instrument_id} applied to position in {self.instrument_id}")
        signed = fill.signed_quantity
        quantity = self.quantity
        realized = ZERO
        opened_at = self.opened_at
        if quantity == 0 or (quantity > 0) == (signed > 0):
            # opening or adding: weighted average price
            new_quantity = quantity + signed
            average = ((self.average_price * abs(quantity) + fill.price * abs(signed)) / abs(new_quantity)).quantize(PRICE_QUANTUM)
            if quantity == 0:
                opened_at = fill.ts
        else:
            closing = min(abs(signed), abs(quantity))
            direction = 1 if quantity > 0 else -1
            realized = (fill.price - self.average_price) * closing * direction
            new_quantity = quantity + signed
            if new_quantity == 0:
                average = ZERO
            elif (new_quantity > 0) == (quantity > 0):
                average = self.average_price
            else:  # crossed through zero: the remainder opens at the fill price
                average = fill.price
                opened_at = fill.ts
        updated = Position(self.account, self.instrument_id, new_quantity, average, self.realized_pnl + realized,
                           self.costs + fill.costs, opened_at if new_quantity != 0 else None, self.strategy, self.external)
        return updated, realized

    def to_dict(self) -> dict[str, object]:
        return {
            "account": self.account,
            "instrument_id": self.instrument_id,
            "quantity": self.quantity,
            "average_price": str(self.average_price),
            "realized_pnl": str(self.realized_pnl),
            "costs": str(self.costs),
            "opened_at": self.opened_at.isoformat() if self.opened_at else None,
            "strategy": self.strategy,
            "external": self.external,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Position:
        return cls(
            account=str(data["account"]),
            instrument_id=str(data["instrument_id"]),
            quantity=int(data.get("quantity") or 0),  # type: ignore[arg-type]
            average_price=Decimal(str(data.get("average_price") or "0")),
            realized_pnl=Decimal(str(data.get("realized_pnl") or "0")),
            costs=Decimal(str(data.get("costs") or "0")),
            opened_at=datetime.fromisoformat(str(data["opened_at"])) if data.get("opened_at") else None,
            strategy=str(data.get("strategy") or ""),
            external=bool(data.get("external")),
        )
