"""The engine's side of the broker conversation: what the broker says, applied to the book.

Orders journalled but never acknowledged are looked up by tag before anything
is sent again; fills are applied at the first step at or after their time,
each once; reconcile corrects the book where the broker's fills cannot
explain a difference; a filled entry gets its protective stop and every stop
is kept equal to its position. A mixin of ``tradekit.engine.loop.Engine``:
it uses the engine's book, broker, journal (``_record``/``_commit``) and log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tradekit.engine.orders import pending_orders, working_stop
from tradekit.engine.reconcile import EXTERNAL_STRATEGY, BrokerView, SegmentFilter, reconcile
from tradekit.engine.safe import call_strategy
from tradekit.errors import BrokerError, TemporaryBrokerError
from tradekit.model.events import (
    FillRecorded,
    OrderAccepted,
    OrderCancelled,
    OrderRejected as OrderRejectedEvent,
    OrderSubmitted,
)
from tradekit.model.fills import Fill
from tradekit.model.orders import Order, OrderStatus, OrderType, Side


class BrokerSync:
    """Mixin: settle, sync, reconcile and protect (see the module docstring)."""

    book: Any
    broker: Any
    account: str
    settings: Any
    strategy: Any
    result: Any
    risk: Any
    clock: Any

    def _recover_orders(self) -> None:
        """Settle orders journalled but never acknowledged: look each tag up before sending anything."""
        pending = pending_orders(self.book, self.account)
        if not pending:
            self._sync_broker(self.clock.now())
            return
        now = self.clock.now()
        self._settle_unacknowledged(pending, now, at_start=True)
        self._sync_broker(now)

    def _settle_unacknowledged(self, pending: list[Order], now: datetime, *, at_start: bool = False) -> None:
        """Orders whose sending ended without an answer (a crash, or retries spent on timeouts and 5xx):
        found at the broker by tag -> acknowledged; not there -> sent now (or dropped if its signal expired)."""
        try:
            reports = {r.client_order_id: r for r in self.broker.order_reports() if r.client_order_id}
        except TemporaryBrokerError as error:
            self.log(f"{len(pending)} order(s) with an unknown outcome: broker unreachable, looking again next step ({error})", now)
            return
        self._unknown.clear()
        for order in pending:
            report = reports.get(order.client_order_id)
            if report is not None:
                self.log(f"order {order.client_order_id} found at the broker as {report.broker_order_id}; not re-sent", now)
                self._record(OrderAccepted(ts=now, account=self.account, client_order_id=order.client_order_id,
                                           broker_order_id=report.broker_order_id), durable=True)
            elif self.risk is not None and (stale := self.risk.expired_entry(self, order, now)):
                self.log(f"order {order.client_order_id} never reached the broker and its signal expired ({stale}); not sent", now)
                self._record(OrderCancelled(ts=now, account=self.account, client_order_id=order.client_order_id,
                                            reason=f"SIGNAL_EXPIRED: {stale}"), durable=True)
            else:
                self.log(f"order {order.client_order_id} never reached the broker; sending it now", now)
                self._send(order, (order.created_at or now) if at_start else now)
        self._commit(force_durable=True)

    def _sync_broker(self, now: datetime) -> None:
        """Apply fills (event time <= now) and status changes the broker reports."""
        try:
            fills = self._fetch_fills()
        except TemporaryBrokerError as error:
            self.log(f"broker unreachable, carrying on with the last known book ({error})", now)
            return
        if not fills:  # nothing new (most steps): only the working orders' statuses
            self._later_fills = []
            self._sync_statuses(now)
            return
        known = self.book.fill_ids
        account = self.account
        new = [f for f in fills if f.ts <= now and (account, f.fill_id) not in known]
        self._later_fills = [f for f in fills if f.ts > now and (account, f.fill_id) not in known]  # the venue is ahead of this step (a resumed replay)
        new.sort(key=lambda f: (f.ts, f.fill_id))
        trades_before = self.book.trade_count.get(account, 0)
        orders = self.book.orders
        untagged = any(f.client_order_id not in orders for f in new)  # a fill without a known tag: by broker id
        by_broker_id = {o.broker_order_id: o for o in orders.values() if o.broker_order_id} if untagged else {}
        dispatched: list[tuple[Fill, Order]] = []
        logging = self.logging
        for fill in new:
            order = orders.get(fill.client_order_id or "") or by_broker_id.get(fill.broker_order_id or "")
            if order is not None and fill.client_order_id != order.client_order_id:
                fill = replace(fill, client_order_id=order.client_order_id)
            if fill.account != account:
                fill = replace(fill, account=account)
            self._record(FillRecorded(ts=fill.ts, account=account, fill=fill, strategy=order.strategy if order else EXTERNAL_STRATEGY,
                                      inferred=order is None), durable=True)
            self.result.fills += 1
            if logging:
                reason = order.reason if order is not None else "outside tradekit"
                self.log(f"fill {fill.side} {fill.quantity} {self._label(fill.instrument_id)} @ {fill.price} ({reason}); "
                         f"cash {self.book.cash[account]:,.2f}", fill.ts)
            if order is not None and order.strategy == self.strategy.name:
                dispatched.append((fill, orders[order.client_order_id]))
        closed = self.book.trade_count.get(account, 0) - trades_before
        self.result.trades_closed += closed
        if logging:
            for trade in (self.book.dirty.trades[-closed:] if closed else []):
                self.log(f"trade closed {trade.side} {trade.quantity} {self._label(trade.instrument_id)}: "
                         f"{trade.entry_price.normalize():f} -> {trade.exit_price.normalize():f}, P&L {trade.net_pnl:,.2f} net ({trade.exit_reason})", trade.exit_ts)
        self._sync_statuses(now)
        for fill, order in dispatched:
            decision = call_strategy(self.strategy.name, "on_fill", self.strategy.on_fill, self._context(now), fill, order, self._state,
                                      previous=self._state)
            self._apply(decision, now)
        if new:
            self._protect_and_resize(now)
            self._commit(force_durable=True)

    def _fetch_fills(self) -> list[Fill]:
        """The broker's fills this step must consider: only the new ones where the venue keeps a cursor."""
        fills_after = getattr(self.broker, "fills_after", None)
        if fills_after is None:
            return self.broker.fill_reports(None)
        fresh, self._fill_cursor = fills_after(self._fill_cursor)
        return self._later_fills + fresh if self._later_fills else fresh

    def _reconcile(self, now: datetime, why: str) -> None:
        """The broker is the source of truth: correct the book where its fills cannot explain the difference.

        An unreachable broker is not fatal: trading carries on with the last
        known book and the next period retries.
        """
        minutes = float(self.settings.sync_minutes or 0)
        self._next_reconcile = now + timedelta(minutes=minutes) if minutes > 0 else None
        try:
            view = BrokerView(self.broker.position_reports(), self.broker.order_reports(), self.broker.fill_reports(None))
        except BrokerError as error:
            retry = f"; retrying in {minutes:g} min" if minutes > 0 else ""
            self.log(f"reconcile {why}: broker unreachable, carrying on with the last known book ({error}){retry}", now)
            return
        sync = self.settings.sync
        result = reconcile(self.book, self.account, view, now=now, broker=self.broker.name, source="run",
                           segments=SegmentFilter.from_config(sync),
                           price_tolerance=Decimal(str(sync.get("price_tolerance", "0.01"))))
        self._held_outside = set(result.ignored)
        pending = f", {len(result.pending_fills)} broker fill(s) pending" if result.pending_fills else ""
        if result.in_sync:
            if why == "at start":
                self.log(f"reconcile {why} with {self.broker.name}: in sync, {sum(1 for d in result.differences if d.kind.value == 'matched')} position(s) matched{pending}", now)
            return
        for event in result.events:
            self._record(event, durable=True)
        self._commit(force_durable=True)
        summary = result.summary()
        self.log(f"reconcile {why} with {self.broker.name}: corrected (added {len(summary['added'])}, removed {len(summary['removed'])}, "
                 f"updated {len(summary['updated'])}, unchanged {len(summary['unchanged'])}){pending}", now)
        for difference in result.differences:
            if difference.kind.value != "matched":
                self.log(f"reconcile: {difference.kind.value} {difference.instrument_id}: tradekit {difference.book_quantity}, "
                         f"broker {difference.broker_quantity} ({difference.detail})", now)

    def _sync_statuses(self, now: datetime) -> None:
        open_orders = [o for o in self.book.working_orders(self.account) if o.broker_order_id and o.status is not OrderStatus.SUBMITTED]
        if not open_orders:
            return
        try:
            reports = {r.broker_order_id: r for r in self.broker.order_reports()}
        except TemporaryBrokerError:
            return
        for order in open_orders:
            report = reports.get(order.broker_order_id or "")
            if report is None:
                continue
            if report.status is OrderStatus.CANCELLED and order.is_open:
                self._record(OrderCancelled(ts=now, account=self.account, client_order_id=order.client_order_id, reason="cancelled at the broker"), durable=True)
            elif report.status is OrderStatus.REJECTED and order.is_open:
                self._record(OrderRejectedEvent(ts=now, account=self.account, client_order_id=order.client_order_id, reason=report.status_reason), durable=True)

    def _protect_and_resize(self, now: datetime) -> None:
        """After fills: place a filled entry's protective stop, keep stop quantity equal to the position."""
        actions: list[Callable[[], None]] = []
        for position in self._my_positions():
            stop = working_stop(self.book, self.account, position.instrument_id)
            held = abs(position.quantity)
            if stop is not None:
                if stop.remaining != held:
                    actions.append(lambda s=stop, q=held: self._modify(s, now, quantity=q))
                continue
            entry = self._entry_order(position.instrument_id, position.opened_at)
            if entry is None or entry.protective_stop is None:
                continue
            side = Side.SELL if position.quantity > 0 else Side.BUY
            order = self._orders.stop(self.book, position.instrument_id, side, held, entry.protective_stop, "STOP", now,
                                      self._instrument(position.instrument_id))
            self._record(OrderSubmitted(ts=now, account=self.account, order=order), durable=True)
            actions.append(lambda o=order: self._send(o, now))
        for stop in [o for o in self.book.working_orders(self.account) if o.order_type is OrderType.STOP_MARKET]:
            if self.book.position(self.account, stop.instrument_id).quantity == 0:
                actions.append(lambda s=stop: self._cancel(s, "position closed", now))
        if actions:
            self._commit(force_durable=True)
            for action in actions:
                action()

    def _entry_order(self, instrument_id: str, opened_at: datetime | None) -> Order | None:
        """The entry order of the current position, if it asked for a protective stop and none was placed since."""
        if not self.book.asked_for_stop(self.account, instrument_id):
            return None
        candidates = [o for o in self.book.orders.values() if o.account == self.account and o.instrument_id == instrument_id]
        candidates.sort(key=lambda o: o.client_order_id)
        entry = None
        for order in candidates:
            if order.protective_stop is not None and order.filled_quantity > 0:
                entry = order
            elif entry is not None and order.order_type is OrderType.STOP_MARKET:
                entry = None  # a stop was already placed (and maybe cancelled on purpose) for that entry
        return entry
