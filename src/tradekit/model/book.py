"""The book: tradekit's projection of the journal, built only by applying events.

The engine keeps one in memory; the store writes the rows an event changed
in the same transaction as the event; ``tradekit doctor`` rebuilds a fresh
book from the whole journal and compares. ``apply`` is deterministic and
does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tradekit.model.events import (
    DayClosed,
    DayOpened,
    Event,
    FillRecorded,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderRejected,
    OrderSubmitted,
    PositionAdjusted,
    ReconcileAudit,
    RiskStateSet,
    SignalBlocked,
    StrategyCheckpoint,
)
from tradekit.model.fills import Fill
from tradekit.model.orders import Order, OrderStatus, OrderType
from tradekit.model.positions import Position
from tradekit.model.trades import OpenTrade, Trade

ZERO = Decimal(0)
COST_QUANTUM = Decimal("0.00000001")  # the store keeps money to 8 places
PositionKey = tuple[str, str]  # (account, instrument_id)


@dataclass
class DayRecord:
    account: str
    day: date
    open_cash: Decimal
    close_cash: Decimal | None = None
    close_equity: Decimal | None = None


@dataclass
class StrategyRecord:
    account: str
    strategy: str
    day: date
    state: dict[str, Any]
    ts: datetime


@dataclass
class RiskRecord:
    """One item of risk/control state; ``value`` None means cleared (the row stays, like the journal)."""

    account: str
    key: str
    day: date
    value: dict[str, Any] | None
    reason: str
    ts: datetime


@dataclass
class Dirty:
    orders: set[str] = field(default_factory=set)
    positions: set[PositionKey] = field(default_factory=set)
    fills: list[Fill] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    days: set[tuple[str, date]] = field(default_factory=set)
    strategies: set[tuple[str, str]] = field(default_factory=set)
    blocks: set[tuple[str, str, date, str]] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)
    risk: set[tuple[str, str]] = field(default_factory=set)

    def __bool__(self) -> bool:
        return any(
            (self.orders, self.positions, self.fills, self.trades, self.days, self.strategies, self.blocks, self.accounts,
             self.risk)
        )


@dataclass
class Book:
    orders: dict[str, Order] = field(default_factory=dict)
    positions: dict[PositionKey, Position] = field(default_factory=dict)
    open_trades: dict[PositionKey, OpenTrade] = field(default_factory=dict)
    cash: dict[str, Decimal] = field(default_factory=dict)
    current_day: dict[str, date] = field(default_factory=dict)
    days: dict[tuple[str, date], DayRecord] = field(default_factory=dict)
    strategies: dict[tuple[str, str], StrategyRecord] = field(default_factory=dict)
    blocks: dict[tuple[str, str, date, str], int] = field(default_factory=dict)
    fill_ids: set[tuple[str, str]] = field(default_factory=set)
    trade_count: dict[str, int] = field(default_factory=dict)
    order_count: dict[str, int] = field(default_factory=dict)
    last_fill_ts: dict[str, datetime] = field(default_factory=dict)
    risk: dict[tuple[str, str], RiskRecord] = field(default_factory=dict)
    dirty: Dirty = field(default_factory=Dirty)
    version: int = field(default=0, repr=False, compare=False)  # events applied: a view built at one version is current until the next
    _open: dict[str, None] = field(default_factory=dict, repr=False, compare=False)  # working orders, in submission order
    _protected: set[PositionKey] = field(default_factory=set, repr=False, compare=False)  # has an order asking for a stop
    _held: set[PositionKey] = field(default_factory=set, repr=False, compare=False)  # positions with a quantity

    # ---- queries -------------------------------------------------------
    def position(self, account: str, instrument_id: str) -> Position:
        return self.positions.get((account, instrument_id)) or Position(account=account, instrument_id=instrument_id)

    def open_positions(self, account: str | None = None) -> list[Position]:
        """Positions with a quantity (an index: every instrument ever traded keeps a flat row)."""
        return [self.positions[key] for key in sorted(self._held) if account is None or key[0] == account]

    def _set_position(self, key: PositionKey, position: Position) -> None:
        self.positions[key] = position
        if position.quantity:
            self._held.add(key)
        else:
            self._held.discard(key)

    def working_orders(self, account: str | None = None) -> list[Order]:
        """Open orders (an index: a long-lived account holds many thousands of finished ones)."""
        orders = self.orders
        return [o for o in (orders[k] for k in self._open) if account is None or o.account == account]

    def reindex(self) -> None:
        """Rebuild the open-order index after ``orders`` was filled directly (a load from the store)."""
        self._open = {k: None for k, o in self.orders.items() if o.is_open}
        self._held = {k for k, p in self.positions.items() if p.quantity}
        self._protected = {(o.account, o.instrument_id) for o in self.orders.values() if o.protective_stop is not None}

    def asked_for_stop(self, account: str, instrument_id: str) -> bool:
        """Whether any order in this instrument ever asked for a protective stop (most never do: a cheap check first)."""
        return (account, instrument_id) in self._protected

    def _index(self, order: Order) -> None:
        if order.is_open:
            self._open[order.client_order_id] = None
        else:
            self._open.pop(order.client_order_id, None)

    def order_by_broker_id(self, broker_order_id: str) -> Order | None:
        for order in self.orders.values():
            if order.broker_order_id == broker_order_id:
                return order
        return None

    def risk_value(self, account: str, key: str, day: date | None = None) -> dict[str, Any] | None:
        """A live risk item: set, not cleared, and (when ``day`` is given) set for that day or for no day."""
        record = self.risk.get((account, key))
        if record is None or record.value is None:
            return None
        if day is not None and record.day not in (day, date.min):
            return None
        return record.value

    def take_dirty(self) -> Dirty:
        dirty, self.dirty = self.dirty, Dirty()
        return dirty

    # ---- applying events ---------------------------------------------
    def apply(self, event: Event) -> None:
        self.version += 1
        cls = type(event)
        handler = _HANDLERS.get(cls)
        if handler is None:
            handler = getattr(Book, f"_on_{cls.__name__}", None)
            if handler is None:
                raise ValueError(f"the book cannot apply {cls.__name__}")
            _HANDLERS[cls] = handler
        handler(self, event)

    def _on_DayOpened(self, event: DayOpened) -> None:
        self.cash[event.account] = event.cash
        self.current_day[event.account] = event.day
        self.days[(event.account, event.day)] = DayRecord(event.account, event.day, event.cash)
        self.dirty.days.add((event.account, event.day))
        self.dirty.accounts.add(event.account)

    def _on_DayClosed(self, event: DayClosed) -> None:
        record = self.days.get((event.account, event.day)) or DayRecord(event.account, event.day, event.cash)
        record.close_cash = event.cash
        record.close_equity = event.equity
        self.days[(event.account, event.day)] = record
        self.dirty.days.add((event.account, event.day))

    def _on_OrderSubmitted(self, event: OrderSubmitted) -> None:
        order = event.order
        self.orders[order.client_order_id] = order
        self._index(order)
        if order.protective_stop is not None:
            self._protected.add((order.account, order.instrument_id))
        self.order_count[order.account] = self.order_count.get(order.account, 0) + 1
        self.dirty.orders.add(order.client_order_id)
        if order.order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
            key = (order.account, order.instrument_id)
            trade = self.open_trades.get(key)
            if trade is not None:  # the position's protective stop
                self.open_trades[key] = replace(trade, stop_order_id=order.client_order_id)
                self.dirty.positions.add(key)

    def _set_order(self, order: Order) -> None:
        self.orders[order.client_order_id] = order
        self._index(order)
        self.dirty.orders.add(order.client_order_id)

    def _on_OrderAccepted(self, event: OrderAccepted) -> None:
        order = self.orders.get(event.client_order_id)
        if order is None:
            return
        if order.status is OrderStatus.SUBMITTED:
            order = order.transition(OrderStatus.ACCEPTED, broker_order_id=event.broker_order_id)
        else:
            order = replace(order, broker_order_id=event.broker_order_id)
        self._set_order(order)

    def _on_OrderRejected(self, event: OrderRejected) -> None:
        order = self.orders.get(event.client_order_id)
        if order is not None and order.is_open:
            self._set_order(order.transition(OrderStatus.REJECTED, status_reason=event.reason))

    def _on_OrderCancelled(self, event: OrderCancelled) -> None:
        order = self.orders.get(event.client_order_id)
        if order is not None and order.is_open:
            self._set_order(order.transition(OrderStatus.CANCELLED, status_reason=event.reason))
        for key, trade in self.open_trades.items():
            if trade.stop_order_id == event.client_order_id:
                self.open_trades[key] = replace(trade, stop_order_id=None)
                self.dirty.positions.add(key)

    def _on_OrderModified(self, event: OrderModified) -> None:
        order = self.orders.get(event.client_order_id)
        if order is None:
            return
        changes: dict[str, Any] = {}
        if event.stop_price is not None:
            changes["stop_price"] = event.stop_price
        if event.quantity is not None:
            changes["quantity"] = event.quantity
        if event.reason:
            changes["reason"] = event.reason
        self._set_order(replace(order, **changes))

    def _on_FillRecorded(self, event: FillRecorded) -> None:
        fill = event.fill
        if (fill.account, fill.fill_id) in self.fill_ids:
            return  # a fill is applied once, however often the broker reports it
        self.fill_ids.add((fill.account, fill.fill_id))
        self.dirty.fills.append(fill)
        previous = self.last_fill_ts.get(fill.account)
        if previous is None or fill.ts > previous:
            self.last_fill_ts[fill.account] = fill.ts
        order = self.orders.get(fill.client_order_id) if fill.client_order_id else None
        if order is not None and order.status not in (OrderStatus.FILLED, OrderStatus.REJECTED):
            quantity = min(fill.quantity, order.remaining)
            if quantity > 0:
                if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
                    order = replace(order, status=OrderStatus.ACCEPTED)
                self._set_order(order.with_fill(quantity, fill.price))
                order = self.orders[order.client_order_id]
        strategy = (order.strategy if order is not None else "") or event.strategy
        reason = order.reason if order is not None else ("EXTERNAL" if event.inferred else "MANUAL")
        signal = order.signal_price if order is not None else None
        self._apply_fill(fill, strategy, reason, signal, external=order is None)

    def _apply_fill(self, fill: Fill, strategy: str, reason: str, signal: Decimal | None, *, external: bool) -> None:
        key = (fill.account, fill.instrument_id)
        position = self.positions.get(key) or Position(
            account=fill.account, instrument_id=fill.instrument_id, strategy=strategy, external=external
        )
        before = position.quantity
        updated, realized = position.apply(fill)
        if before == 0:
            updated = replace(updated, strategy=strategy, external=external)
        self._set_position(key, updated)
        self.dirty.positions.add(key)
        cash = self.cash.get(fill.account, ZERO)
        cash += -fill.notional if fill.side.sign > 0 else fill.notional
        self.cash[fill.account] = cash - fill.costs
        self.dirty.accounts.add(fill.account)

        slippage_per_unit = ZERO if signal is None else (fill.price - signal) * fill.side.sign
        trade = self.open_trades.get(key)
        signed = fill.signed_quantity
        if before == 0 or (before > 0) == (signed > 0):
            if trade is None:
                trade = OpenTrade(
                    account=fill.account,
                    instrument_id=fill.instrument_id,
                    strategy=updated.strategy,
                    direction=1 if signed > 0 else -1,
                    entry_ts=fill.ts,
                    external=updated.external,
                )
            self.open_trades[key] = trade.add_entry(fill, slippage_per_unit * fill.quantity)
            return
        closing = min(abs(signed), abs(before))
        if trade is None:  # a position loaded without accumulators (adjusted): rebuild from the position
            trade = OpenTrade(
                account=fill.account,
                instrument_id=fill.instrument_id,
                strategy=position.strategy,
                direction=1 if before > 0 else -1,
                entry_ts=position.opened_at or fill.ts,
                entry_quantity=abs(before),
                entry_notional=position.average_price * abs(before),
                external=position.external,
            )
        share = (fill.costs * closing / fill.quantity).quantize(COST_QUANTUM)  # exact split: share + rest == costs
        trade = trade.add_exit(fill, realized, slippage_per_unit * closing, closing, share)
        if updated.quantity == 0 or (updated.quantity > 0) != (before > 0):
            number = self.trade_count.get(fill.account, 0) + 1
            self.trade_count[fill.account] = number
            closed = Trade.close(f"T{number}", trade, fill.ts, reason)
            self.dirty.trades.append(closed)
            self.open_trades.pop(key, None)
            remainder = abs(signed) - closing
            if remainder:
                rest = replace(fill, quantity=remainder, costs=fill.costs - share)
                self.open_trades[key] = OpenTrade(
                    account=fill.account,
                    instrument_id=fill.instrument_id,
                    strategy=strategy,
                    direction=1 if signed > 0 else -1,
                    entry_ts=fill.ts,
                    external=external,
                ).add_entry(rest, slippage_per_unit * remainder)
        else:
            self.open_trades[key] = trade

    def _on_StrategyCheckpoint(self, event: StrategyCheckpoint) -> None:
        key = (event.account, event.strategy)
        self.strategies[key] = StrategyRecord(event.account, event.strategy, event.day, event.state, event.ts)
        self.dirty.strategies.add(key)

    def _on_SignalBlocked(self, event: SignalBlocked) -> None:
        key = (event.account, event.strategy, event.day, event.rule)
        self.blocks[key] = self.blocks.get(key, 0) + 1
        self.dirty.blocks.add(key)

    def _on_PositionAdjusted(self, event: PositionAdjusted) -> None:
        key = (event.account, event.instrument_id)
        position = self.positions.get(key) or Position(account=event.account, instrument_id=event.instrument_id)
        delta = event.quantity - position.quantity
        self.cash[event.account] = self.cash.get(event.account, ZERO) - delta * event.average_price
        self._set_position(key, replace(
            position,
            quantity=event.quantity,
            average_price=event.average_price if event.quantity else ZERO,
            strategy=event.strategy or position.strategy,
            external=event.external,
            opened_at=position.opened_at or (event.ts if event.quantity else None),
        ))
        if event.quantity == 0:
            self.open_trades.pop(key, None)
        elif key in self.open_trades and event.strategy:  # adopted: the round trip belongs to the new strategy
            trade = self.open_trades[key]
            self.open_trades[key] = replace(trade, strategy=event.strategy, external=event.external)
        self.dirty.positions.add(key)
        self.dirty.accounts.add(event.account)

    def _on_ReconcileAudit(self, event: ReconcileAudit) -> None:
        """An audit row only: the journal (and the store's ``reconcile_audit`` view) keeps it."""

    def _on_RiskStateSet(self, event: RiskStateSet) -> None:
        key = (event.account, event.key)
        self.risk[key] = RiskRecord(event.account, event.key, event.day, event.value, event.reason, event.ts)
        self.dirty.risk.add(key)


_HANDLERS: dict[type, Any] = {}  # event class -> Book._on_<name>, found once per class
