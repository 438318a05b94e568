"""Round trips: a trade runs from a position leaving zero to it returning to zero."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tradekit.model.fills import Fill
from tradekit.model.instruments import InstrumentId
from tradekit.model.money import round_money

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class OpenTrade:
    """Accumulators for the round trip in progress on one position."""

    account: str
    instrument_id: InstrumentId
    strategy: str
    direction: int  # +1 long, -1 short
    entry_ts: datetime
    entry_quantity: int = 0
    entry_notional: Decimal = ZERO
    exit_quantity: int = 0
    exit_notional: Decimal = ZERO
    gross_pnl: Decimal = ZERO
    costs: Decimal = ZERO
    slippage: Decimal = ZERO  # money lost to slippage against signal prices (positive = adverse)
    partial_exits: int = 0
    stop_order_id: str | None = None
    external: bool = False

    def add_entry(self, fill: Fill, slippage: Decimal) -> OpenTrade:
        return OpenTrade(self.account, self.instrument_id, self.strategy, self.direction, self.entry_ts,
                         self.entry_quantity + fill.quantity, self.entry_notional + fill.notional, self.exit_quantity,
                         self.exit_notional, self.gross_pnl, self.costs + fill.costs, self.slippage + slippage,
                         self.partial_exits, self.stop_order_id, self.external)

    def add_exit(self, fill: Fill, realized: Decimal, slippage: Decimal, quantity: int, costs: Decimal) -> OpenTrade:
        return OpenTrade(self.account, self.instrument_id, self.strategy, self.direction, self.entry_ts,
                         self.entry_quantity, self.entry_notional, self.exit_quantity + quantity,
                         self.exit_notional + fill.price * quantity, self.gross_pnl + realized, self.costs + costs,
                         self.slippage + slippage, self.partial_exits + 1, self.stop_order_id, self.external)

    def to_dict(self) -> dict[str, object]:
        return {
            "account": self.account,
            "instrument_id": self.instrument_id,
            "strategy": self.strategy,
            "direction": self.direction,
            "entry_ts": self.entry_ts.isoformat(),
            "entry_quantity": self.entry_quantity,
            "entry_notional": str(self.entry_notional),
            "exit_quantity": self.exit_quantity,
            "exit_notional": str(self.exit_notional),
            "gross_pnl": str(self.gross_pnl),
            "costs": str(self.costs),
            "slippage": str(self.slippage),
            "partial_exits": self.partial_exits,
            "stop_order_id": self.stop_order_id,
            "external": self.external,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> OpenTrade:
        return cls(
            account=str(data["account"]),
            instrument_id=str(data["instrument_id"]),
            strategy=str(data.get("strategy") or ""),
            direction=int(data["direction"]),  # type: ignore[arg-type]
            entry_ts=datetime.fromisoformat(str(data["entry_ts"])),
            entry_quantity=int(data.get("entry_quantity") or 0),  # type: ignore[arg-type]
            entry_notional=Decimal(str(data.get("entry_notional") or "0")),
            exit_quantity=int(data.get("exit_quantity") or 0),  # type: ignore[arg-type]
            exit_notional=Decimal(str(data.get("exit_notional") or "0")),
            gross_pnl=Decimal(str(data.get("gross_pnl") or "0")),
            costs=Decimal(str(data.get("costs") or "0")),
            slippage=Decimal(str(data.get("slippage") or "0")),
            partial_exits=int(data.get("partial_exits") or 0),  # type: ignore[arg-type]
            stop_order_id=str(data["stop_order_id"]) if data.get("stop_order_id") else None,
            external=bool(data.get("external")),
        )


@dataclass(frozen=True, slots=True)
class Trade:
    """A closed round trip, as reports and exports show it."""

    trade_id: str
    account: str
    strategy: str
    instrument_id: InstrumentId
    side: str  # LONG / SHORT
    quantity: int
    entry_ts: datetime
    entry_price: Decimal
    exit_ts: datetime
    exit_price: Decimal
    gross_pnl: Decimal
    costs: Decimal
    net_pnl: Decimal
    pnl_pct: Decimal
    exit_reason: str
    slippage: Decimal
    partial_exits: int
    external: bool = False

    @classmethod
    def close(cls, trade_id: str, open_trade: OpenTrade, exit_ts: datetime, exit_reason: str) -> Trade:
        quantum = Decimal("0.00000001")
        entry_price = (open_trade.entry_notional / open_trade.entry_quantity).quantize(quantum)
        exit_price = (open_trade.exit_notional / open_trade.exit_quantity).quantize(quantum)
        net = open_trade.gross_pnl - open_trade.costs
        basis = open_trade.entry_notional
        pct = round_money(open_trade.gross_pnl / basis * 100, Decimal("0.0001")) if basis else ZERO
        return cls(
            trade_id=trade_id,
            account=open_trade.account,
            strategy=open_trade.strategy,
            instrument_id=open_trade.instrument_id,
            side="LONG" if open_trade.direction > 0 else "SHORT",
            quantity=open_trade.entry_quantity,
            entry_ts=open_trade.entry_ts,
            entry_price=entry_price,
            exit_ts=exit_ts,
            exit_price=exit_price,
            gross_pnl=open_trade.gross_pnl,
            costs=open_trade.costs,
            net_pnl=net,
            pnl_pct=pct,
            exit_reason=exit_reason,
            slippage=open_trade.slippage,
            partial_exits=max(0, open_trade.partial_exits - 1),
            external=open_trade.external,
        )
