"""The fake gateway's account: orders, executions, positions and cash.

Pure state with no sockets, so the matching rules (when a market, limit or
stop order fills and at what price) can be read in one place. The gateway
holds the lock; nothing here is thread-safe on its own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

WORKING = frozenset({"PendingSubmit", "PreSubmitted", "Submitted"})
COMMISSION_PER_SHARE = 0.005
MIN_COMMISSION = 1.0


def con_id(symbol: str) -> int:
    """A stable contract id per symbol (real ids for a few well-known ones)."""
    known = {"TSLA": 76792991, "AAPL": 265598, "NVDA": 4815747, "AMD": 4391, "MSFT": 272093}
    if symbol in known:
        return known[symbol]
    return 10_000_000 + int(hashlib.sha256(symbol.encode()).hexdigest()[:6], 16)


@dataclass
class FakeOrder:
    order_id: int
    client_id: int
    perm_id: int
    symbol: str
    action: str  # BUY / SELL
    quantity: float
    order_type: str  # MKT, LMT, STP, STP LMT
    limit_price: float | None
    stop_price: float | None
    tif: str
    account: str
    order_ref: str
    placed_at: datetime
    status: str = "Submitted"
    filled: float = 0.0
    avg_price: float = 0.0
    last_fill_price: float = 0.0
    completed_at: datetime | None = None
    completed_status: str = ""
    fill_not_before: datetime | None = None  # delayed-fill fault: market orders wait until then

    @property
    def remaining(self) -> float:
        return self.quantity - self.filled

    @property
    def working(self) -> bool:
        return self.status in WORKING


@dataclass(frozen=True)
class FakeExecution:
    exec_id: str
    perm_id: int
    order_id: int
    client_id: int
    symbol: str
    side: str  # BOT / SLD
    shares: float
    price: float
    time: datetime
    cum_qty: float
    avg_price: float
    order_ref: str
    account: str
    commission: float
    realized_pnl: float


@dataclass
class Book:
    account: str
    cash: float
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)  # symbol -> (qty, avg cost)
    orders: dict[int, FakeOrder] = field(default_factory=dict)  # perm id -> order
    executions: list[FakeExecution] = field(default_factory=list)
    realized: float = 0.0
    _next_perm: int = 1_000_001
    _next_exec: int = 1

    def new_perm_id(self) -> int:
        self._next_perm += 1
        return self._next_perm

    def execute(self, order: FakeOrder, shares: float, price: float, when: datetime) -> FakeExecution:
        """Fill ``shares`` of ``order`` at ``price``: order, position and cash all move together."""
        price = round(price, 2)
        total = order.avg_price * order.filled + price * shares
        order.filled += shares
        order.avg_price = round(total / order.filled, 6)
        order.last_fill_price = price
        if order.remaining <= 0:
            order.status = "Filled"
            order.completed_at = when
            order.completed_status = "Filled"
        signed = shares if order.action == "BUY" else -shares
        realized = self._apply_position(order.symbol, signed, price)
        commission = round(max(MIN_COMMISSION, COMMISSION_PER_SHARE * shares), 2)
        self.cash -= signed * price + commission
        self.realized += realized
        execution = FakeExecution(
            exec_id=f"0000e0d5.{self._next_exec:08x}.01.01",
            perm_id=order.perm_id,
            order_id=order.order_id,
            client_id=order.client_id,
            symbol=order.symbol,
            side="BOT" if order.action == "BUY" else "SLD",
            shares=shares,
            price=price,
            time=when,
            cum_qty=order.filled,
            avg_price=order.avg_price,
            order_ref=order.order_ref,
            account=self.account,
            commission=commission,
            realized_pnl=round(realized, 2),
        )
        self._next_exec += 1
        self.executions.append(execution)
        return execution

    def _apply_position(self, symbol: str, signed: float, price: float) -> float:
        quantity, average = self.positions.get(symbol, (0.0, 0.0))
        realized = 0.0
        if quantity == 0 or (quantity > 0) == (signed > 0):
            new_quantity = quantity + signed
            average = (average * abs(quantity) + price * abs(signed)) / abs(new_quantity)
        else:
            closing = min(abs(signed), abs(quantity))
            realized = (price - average) * closing * (1 if quantity > 0 else -1)
            new_quantity = quantity + signed
            if new_quantity == 0:
                average = 0.0
            elif (new_quantity > 0) != (quantity > 0):
                average = price
        if new_quantity == 0:
            self.positions.pop(symbol, None)
        else:
            self.positions[symbol] = (new_quantity, average)
        return realized

    def trigger_price(self, order: FakeOrder, bar_open: float, bar_high: float, bar_low: float) -> float | None:
        """The fill price if ``order`` executes inside a bar with this range, else None."""
        buy = order.action == "BUY"
        if order.order_type == "MKT":
            return bar_open
        if order.order_type == "LMT" and order.limit_price is not None:
            limit = order.limit_price
            if buy and bar_low <= limit:
                return min(bar_open, limit)
            if not buy and bar_high >= limit:
                return max(bar_open, limit)
            return None
        if order.order_type in ("STP", "STP LMT") and order.stop_price is not None:
            stop = order.stop_price
            if buy and bar_high >= stop:
                price = max(bar_open, stop)
            elif not buy and bar_low <= stop:
                price = min(bar_open, stop)
            else:
                return None
            if order.order_type == "STP LMT" and order.limit_price is not None:
                if (buy and price > order.limit_price) or (not buy and price < order.limit_price):
                    return None
            return price
        return None
