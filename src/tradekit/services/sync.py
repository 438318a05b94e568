"""``sync``, ``reconcile`` and ``adopt``: the broker is the source of truth for what is held.

Any broker works: ``paper`` is the paper venue at its own market time, every
other name is built through the plugin manager (``[brokers.<name>]``
settings, secrets from the environment) exactly as ``run`` would build it.
The comparison itself is ``tradekit.engine.reconcile.reconcile`` (pure); this
module fetches the reports, journals the corrections in one transaction and,
when configured, places protective stops on positions found at the broker.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tradekit.clock import session_clock
from tradekit.engine.orders import OrderFactory
from tradekit.engine.reconcile import (
    EXTERNAL_STRATEGY,
    BrokerView,
    Reconciliation,
    SegmentFilter,
    adopt_events,
    reconcile,
    resolve_instrument,
)
from tradekit.errors import BrokerError, ConfigError, OrderRejected
from tradekit.model.book import Book
from tradekit.model.events import DayOpened, Event, FillRecorded, OrderAccepted, OrderRejected as OrderRejectedEvent
from tradekit.model.events import OrderSubmitted, PositionAdjusted, ReconcileAudit
from tradekit.model.orders import Side
from tradekit.ports.broker import Broker
from tradekit.ports.context import BrokerContext
from tradekit.services.setup import Workspace

INDIAN = ("NFO", "BFO", "NSE", "BSE", "MCX", "CDS")


@dataclass
class SyncOutcome:
    result: Reconciliation
    applied: bool
    stops: list[str] = field(default_factory=list)  # protective stops placed on external positions
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**self.result.to_dict(), "applied": self.applied, "stops": self.stops, "warnings": self.warnings}


@dataclass(frozen=True)
class SyncSettings:
    segments: SegmentFilter
    price_tolerance: Decimal
    external_stop_pct: Decimal

    @classmethod
    def from_workspace(cls, ws: Workspace) -> SyncSettings:
        section = ws.config.section("sync")
        stop = Decimal(str(section.get("external_stop_pct", 0)))
        if stop < 0 or stop >= 100:
            raise ConfigError(f"sync.external_stop_pct: must be in [0, 100), got {stop}")
        return cls(SegmentFilter.from_config(section), Decimal(str(section.get("price_tolerance", "0.01"))), stop)


def open_broker(ws: Workspace, name: str, log: Callable[[str], None] = lambda line: None, *,
                trading: bool = False) -> tuple[Broker, Any]:
    """The named broker, connected, and its clock (the paper venue's market time; the wall clock otherwise).

    ``trading``: this command will place real orders (``sync`` with ``[sync] external_stop_pct > 0``),
    so the broker is opened as a live run opens it; plugins that refuse orders outside ``--live``
    (Angel One, IBKR) would otherwise refuse the configured protective stops."""
    if name == "paper":
        from tradekit.services.paper import open_venue

        venue = open_venue(ws)
        return venue, venue._clock  # noqa: SLF001 - the venue's clock is its market time
    registration = ws.plugins.broker(name)
    clock = session_clock()
    context = BrokerContext(name=name, settings=ws.config.section("brokers", name), home=ws.home, clock=clock,
                            env=dict(os.environ), live=trading, log=log)
    broker = registration.factory(context)
    broker.connect()
    return broker, clock


def fetch_view(broker: Broker, book: Book) -> BrokerView:
    """Positions, orders and the fills since the stored watermark (the last fill tradekit recorded)."""
    since = book.last_fill_ts.get(broker.account)
    return BrokerView(positions=broker.position_reports(), orders=broker.order_reports(), fills=broker.fill_reports(since))


def _timezone(result: Reconciliation) -> ZoneInfo:
    exchanges = {d.instrument_id.partition(":")[0] for d in result.differences}
    return ZoneInfo("Asia/Kolkata") if exchanges & set(INDIAN) or result.account.startswith(("zerodha", "angelone", "paper")) \
        else ZoneInfo("America/New_York")


def _opening(book: Book, broker: Broker, result: Reconciliation) -> list[Event]:
    """An account tradekit never traded on opens at the broker's cash, before the corrections that follow."""
    account = result.account
    if account in book.cash:
        return []
    cash = broker.account_report().cash
    positions: dict[str, int] = {}
    for event in result.events:  # undo what the corrections will take, so the book ends at the broker's cash
        if isinstance(event, FillRecorded):
            fill = event.fill
            cash += fill.side.sign * fill.notional + fill.costs
            positions[fill.instrument_id] = positions.get(fill.instrument_id, 0) + fill.signed_quantity
        elif isinstance(event, PositionAdjusted):
            cash += (event.quantity - positions.get(event.instrument_id, 0)) * event.average_price
            positions[event.instrument_id] = event.quantity
    day = result.now.astimezone(_timezone(result)).date()
    return [DayOpened(ts=result.now, account=account, day=day, cash=cash, source="broker")]


def run_reconcile(ws: Workspace, broker_name: str, *, apply: bool, source: str = "reconcile",
                  log: Callable[[str], None] = lambda line: None,
                  confirm_stops: Callable[[list[str]], bool] = lambda instruments: True) -> SyncOutcome:
    """Compare the store's book with the broker; with ``apply`` journal the corrections (one transaction).

    ``confirm_stops(instruments)``: asked before protective stops (``[sync] external_stop_pct``) are
    placed on the external positions just found; False leaves them unprotected, with a warning. The
    CLI asks the trader for a real broker's (real orders), as ``run --live`` does."""
    settings = SyncSettings.from_workspace(ws)
    broker, clock = open_broker(ws, broker_name, log, trading=apply and settings.external_stop_pct > 0)
    try:
        if not apply and not ws.store_path.exists():
            store, book = None, Book()  # nothing recorded yet: everything at the broker is external
        else:
            store = ws.open_store(readonly=not apply)
            book = store.load_book()
        try:
            view = fetch_view(broker, book)
            result = reconcile(book, broker.account, view, now=clock.now(), broker=broker_name, source=source,
                               segments=settings.segments, price_tolerance=settings.price_tolerance)
            outcome = SyncOutcome(result=result, applied=False)
            if apply and store is not None and result.events:
                events = _opening(book, broker, result) + result.events
                for event in events:
                    book.apply(event)
                store.commit(events, book, durable=True)
                outcome.applied = True
                if settings.external_stop_pct > 0:
                    found = [d.instrument_id for d in result.differences if d.change == "added"]
                    if found and not confirm_stops(found):
                        outcome.warnings.append(f"no protective stop placed on {', '.join(found)}: not confirmed")
                    elif found:
                        _protect_external(store, book, broker, result, found, settings.external_stop_pct, outcome)
            return outcome
        finally:
            if store is not None:
                store.close()
    finally:
        broker.close()


def _protect_external(store: Any, book: Book, broker: Broker, result: Reconciliation, instruments: list[str],
                      percent: Decimal, outcome: SyncOutcome) -> None:
    """Place the configured protective stop on each position just found at the broker (journalled first)."""
    factory = OrderFactory(result.account, EXTERNAL_STRATEGY, store.store_id)
    now = result.now
    for instrument_id in instruments:
        position = book.position(result.account, instrument_id)
        if position.quantity == 0 or not position.external or position.strategy != EXTERNAL_STRATEGY:
            continue
        instrument = _instrument(broker, instrument_id)
        direction = -1 if position.quantity > 0 else 1
        stop_price = position.average_price * (1 + direction * percent / 100)
        side = Side.SELL if position.quantity > 0 else Side.BUY
        order = factory.stop(book, instrument_id, side, abs(position.quantity), stop_price,
                             "EXTERNAL_STOP", now, instrument)
        submitted = OrderSubmitted(ts=now, account=result.account, order=order)
        book.apply(submitted)
        store.commit([submitted], book, durable=True)  # journal first ...
        try:
            broker_id = broker.submit_order(order)  # ... then act
        except OrderRejected as error:
            event: Event = OrderRejectedEvent(ts=now, account=result.account, client_order_id=order.client_order_id,
                                              reason=str(error))
            outcome.warnings.append(f"protective stop on {instrument_id} refused: {error}")
        except BrokerError as error:  # outcome unknown: the tag is looked up by the next run before re-sending
            outcome.warnings.append(f"protective stop on {instrument_id}: outcome unknown ({error})")
            continue
        else:
            event = OrderAccepted(ts=now, account=result.account, client_order_id=order.client_order_id,
                                  broker_order_id=broker_id)
            outcome.stops.append(f"{order.client_order_id} {side} {order.quantity} {instrument_id} stop {order.stop_price}")
        book.apply(event)
        store.commit([event], book, durable=True)


def _instrument(broker: Broker, instrument_id: str) -> Any:
    quotes = getattr(broker, "_quotes", None)  # the paper venue knows its instruments without a download
    if quotes is not None and hasattr(quotes, "instrument"):
        return quotes.instrument(instrument_id)
    try:
        return next((i for i in broker.instruments() if i.id == instrument_id), None)
    except BrokerError:
        return None


def adopt(ws: Workspace, instrument: str, strategy: str, *, broker_name: str = "paper", now: datetime | None = None) -> dict[str, Any]:
    """Hand one open position to ``strategy``; its exit rules manage it from the next run."""
    ws.plugins.strategy(strategy)  # an unknown strategy is a PluginError naming it
    store = ws.open_store()
    try:
        book = store.load_book()
        account = _account_for(ws, book, broker_name)
        instrument_id = resolve_instrument(book, account, instrument)
        moment = now or max([book.last_fill_ts.get(account) or datetime.now().astimezone(),
                             *[r.ts for r in book.strategies.values() if r.account == account]])
        events = adopt_events(book, account, instrument_id, strategy, moment)
        for event in events:
            book.apply(event)
        store.commit(events, book, durable=True)
        position = book.position(account, instrument_id)
        return {"account": account, "instrument_id": instrument_id, "quantity": position.quantity,
                "average_price": str(position.average_price), "strategy": position.strategy,
                "external": position.external, "audit": events[-1].to_payload() if isinstance(events[-1], ReconcileAudit) else {}}
    finally:
        store.close()


def _account_for(ws: Workspace, book: Book, broker_name: str) -> str:
    if broker_name == "paper":
        from tradekit.plugins.paper import paper_settings

        return f"paper:{paper_settings(ws.config.section('paper')).account}"
    accounts = sorted({a for a, _ in book.positions if a.startswith(f"{broker_name}:")})
    if len(accounts) != 1:
        raise ConfigError(f"no single {broker_name} account in the store (found: {', '.join(accounts) or 'none'}); "
                          f"run `tradekit sync --broker {broker_name}` first")
    return accounts[0]
