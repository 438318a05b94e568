"""Reconciliation: tradekit's book against what the broker reports, as one pure function.

The broker is the source of truth for what is held. ``reconcile`` takes the
book, the broker's reports (positions, orders, fills) and the moment of the
comparison, and returns every difference classified, with the corrective
events that would make the book agree (each marked inferred) and one
``ReconcileAudit`` row per correction saying what changed and why. Nothing
here does I/O or mutates the book: ``tradekit reconcile`` prints the result,
``sync`` / ``reconcile --apply`` / the engine journal its events.

Fills are explained before positions are compared: a fill tradekit never saw
(a stop that filled while it was down, a trade typed into the broker's app)
is journalled as the fill itself, so trades and P&L come out right; only
what fills cannot explain becomes a ``PositionAdjusted``. Fills stamped
after ``now`` (a replay restarted behind its venue) are *pending*: the engine
applies them at their time, and the comparison already counts them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from tradekit.errors import ConfigError
from tradekit.model.book import Book
from tradekit.model.events import (
    Event,
    FillRecorded,
    OrderAccepted,
    OrderCancelled,
    OrderRejected,
    PositionAdjusted,
    ReconcileAudit,
)
from tradekit.model.fills import Fill
from tradekit.model.orders import OrderStatus
from tradekit.model.positions import Position
from tradekit.model.reports import OrderReport, PositionReport

EXTERNAL_STRATEGY = "external"
DEFAULT_UNDERLYINGS = ("NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY")
INDIAN_EXCHANGES = ("NFO", "BFO", "NSE", "BSE")
_OPTION = re.compile(r"^([A-Z&-]+?)(\d{2})([1-9OND]\d{2}|[A-Z]{3})(\d+(?:\.\d+)?)(CE|PE)$")
_FUTURE = re.compile(r"^([A-Z&-]+?)(\d{2})([A-Z]{3})FUT$")
_OPEN_AT_BROKER = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.SUBMITTED)
_DEAD_AT_BROKER = (OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED)


class Kind(StrEnum):
    MATCHED = "matched"
    EXTERNAL = "external"  # held at the broker, unknown to tradekit: added
    CLOSED_OUTSIDE = "closed_outside"  # held in tradekit, gone at the broker: removed
    QUANTITY = "quantity"  # both hold it, quantities differ: updated
    AVERAGE_PRICE = "average_price"  # same quantity, different average: updated
    MISSED_FILL = "missed_fill"  # a fill tradekit never saw: recorded
    VANISHED_ORDER = "vanished_order"  # working in tradekit, gone or dead at the broker: closed
    FOUND_ORDER = "found_order"  # journalled but unacknowledged, found at the broker by its tag: accepted
    UNSENT_ORDER = "unsent_order"  # journalled, never reached the broker (the next run sends it): notice
    UNKNOWN_ORDER = "unknown_order"  # working at the broker, placed outside tradekit: notice


CORRECTED = frozenset({Kind.EXTERNAL, Kind.CLOSED_OUTSIDE, Kind.QUANTITY, Kind.AVERAGE_PRICE, Kind.MISSED_FILL,
                       Kind.VANISHED_ORDER, Kind.FOUND_ORDER})
"""Kinds that mean "not in sync" (exit code 1) and carry corrective events."""


# ---- symbols at the broker edge ------------------------------------------------
def normalise_instrument(raw: str, default_exchange: str | None = None) -> tuple[str, str]:
    """``NFO:NIFTY25O0725150CE`` -> (``NFO``, ``NIFTY25O0725150CE``): the prefix becomes the exchange.

    A bare derivative symbol gets ``default_exchange`` (or ``NFO`` when it
    looks like an Indian option or future); anything else without an
    exchange is refused, naming the symbol.
    """
    text = raw.strip()
    exchange, sep, symbol = text.partition(":")
    if sep:
        if not exchange.strip() or not symbol.strip():
            raise ConfigError(f"instrument {raw!r}: expected EXCHANGE:SYMBOL")
        return exchange.strip().upper(), symbol.strip().upper()
    symbol = text.upper()
    if default_exchange:
        return default_exchange.upper(), symbol
    if classify_symbol(symbol)[0] in ("OPTION", "FUTURE"):
        return "NFO", symbol
    raise ConfigError(f"instrument {raw!r}: no exchange; write it as EXCHANGE:SYMBOL (e.g. NFO:{symbol})")


def classify_symbol(symbol: str) -> tuple[str, str]:
    """(kind, underlying) of a trading symbol: options and futures by Kite's naming, anything else EQUITY."""
    option = _OPTION.match(symbol)
    if option:
        return "OPTION", option.group(1)
    future = _FUTURE.match(symbol)
    if future:
        return "FUTURE", future.group(1)
    return "EQUITY", symbol


def _items(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip().upper() for part in value.split(",") if part.strip())
    return tuple(str(part).strip().upper() for part in value or ())


@dataclass(frozen=True)
class SegmentFilter:
    """Which broker positions the user trades through tradekit (``[sync]`` in the config).

    On the ``exchanges`` it covers, a position is kept when its kind is one of
    ``kinds`` and its underlying one of ``underlyings`` (empty: any);
    positions on other exchanges are always kept. A position tradekit's book
    holds is compared whatever the filter says.
    """

    underlyings: tuple[str, ...] = DEFAULT_UNDERLYINGS
    kinds: tuple[str, ...] = ("OPTION", "FUTURE")
    exchanges: tuple[str, ...] = INDIAN_EXCHANGES

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> SegmentFilter:
        kinds = _items(section.get("kinds", cls.kinds))
        unknown = [k for k in kinds if k not in ("OPTION", "FUTURE", "EQUITY")]
        if unknown:
            raise ConfigError(f"sync.kinds: unknown kind {unknown[0]!r} (known: OPTION, FUTURE, EQUITY)")
        return cls(
            underlyings=_items(section.get("underlyings", cls.underlyings)),
            kinds=kinds,
            exchanges=_items(section.get("filtered_exchanges", cls.exchanges)),
        )

    def keeps(self, instrument_id: str) -> bool:
        exchange, symbol = normalise_instrument(instrument_id)
        if exchange not in self.exchanges:
            return True
        kind, underlying = classify_symbol(symbol)
        if kind not in self.kinds:
            return False
        return not self.underlyings or underlying in self.underlyings


# ---- what the broker says, and what differs ---------------------------------------
@dataclass(frozen=True)
class BrokerView:
    """The broker's reports at one moment (already parsed by its adapter)."""

    positions: Sequence[PositionReport]
    orders: Sequence[OrderReport] = ()
    fills: Sequence[Fill] = ()


@dataclass(frozen=True)
class Difference:
    kind: Kind
    instrument_id: str
    book_quantity: int = 0
    broker_quantity: int = 0
    book_average: Decimal | None = None
    broker_average: Decimal | None = None
    detail: str = ""
    order_id: str | None = None
    fill_id: str | None = None
    change: str = ""  # positions: added | removed | updated | unchanged, the book before against the broker

    def to_dict(self) -> dict[str, Any]:
        exchange, _, symbol = self.instrument_id.partition(":")
        return {
            "kind": self.kind.value,
            "instrument_id": self.instrument_id,
            "exchange": exchange if symbol else "",
            "symbol": symbol or exchange,
            "book_quantity": self.book_quantity,
            "broker_quantity": self.broker_quantity,
            "book_average": None if self.book_average is None else str(self.book_average),
            "broker_average": None if self.broker_average is None else str(self.broker_average),
            "order_id": self.order_id,
            "fill_id": self.fill_id,
            "change": self.change,
            "detail": self.detail,
        }


@dataclass
class Reconciliation:
    account: str
    broker: str
    now: datetime
    differences: list[Difference] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    pending_fills: list[Fill] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # broker positions outside the segment filter

    @property
    def in_sync(self) -> bool:
        return not any(d.kind in CORRECTED for d in self.differences)

    def of(self, *kinds: Kind) -> list[Difference]:
        return [d for d in self.differences if d.kind in kinds]

    def summary(self) -> dict[str, list[str]]:
        """{added, removed, updated, unchanged} by instrument id: the book before against the broker, as ``sync`` prints it.

        A position the book learns through a missed fill (a manual trade) is
        "added" just as one learnt through a ``PositionAdjusted``.
        """
        out: dict[str, list[str]] = {"added": [], "removed": [], "updated": [], "unchanged": []}
        for difference in self.differences:
            if difference.change:
                out[difference.change].append(difference.instrument_id)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "broker": self.broker,
            "at": self.now.isoformat(),
            "in_sync": self.in_sync,
            **self.summary(),
            "differences": [d.to_dict() for d in self.differences],
            "pending_fills": [f.fill_id for f in self.pending_fills],
            "ignored": self.ignored,
        }


def _label(quantity: int, average: Decimal | None) -> str:
    if quantity == 0:
        return "flat"
    return f"{quantity} @ {average.normalize():f}" if average is not None else str(quantity)


def _normalised(instrument_id: str) -> str:
    exchange, symbol = normalise_instrument(instrument_id)
    return f"{exchange}:{symbol}"


def reconcile(
    book: Book,
    account: str,
    view: BrokerView,
    *,
    now: datetime,
    broker: str = "",
    source: str = "reconcile",
    segments: SegmentFilter | None = None,
    price_tolerance: Decimal = Decimal("0.01"),
) -> Reconciliation:
    """Compare ``book`` (for ``account``) with the broker's ``view`` at ``now``; pure."""
    segments = segments or SegmentFilter()
    result = Reconciliation(account=account, broker=broker, now=now)
    audits: list[Event] = []

    def audit(kind: Kind, instrument_id: str, before: str, after: str, reason: str) -> None:
        audits.append(ReconcileAudit(ts=now, account=account, source=source, broker=broker, kind=kind.value,
                                     instrument_id=instrument_id, before=before, after=after, reason=reason))

    orders_by_broker_id = {o.broker_order_id: o for o in book.orders.values() if o.account == account and o.broker_order_id}
    own_orders = {o.client_order_id: o for o in book.orders.values() if o.account == account}

    # 1. fills tradekit never saw: due ones are recorded (inferred), later ones are pending
    unseen = sorted(
        (replace(f, account=account, instrument_id=_normalised(f.instrument_id)) for f in view.fills
         if (account, f.fill_id) not in book.fill_ids),
        key=lambda f: (f.ts, f.fill_id),
    )
    seen_ids: set[str] = set()
    current: dict[str, Position] = {}  # book position after the due fills
    expected: dict[str, Position] = {}  # ... and after the pending ones: what the broker should hold
    pending_quantity: dict[str, int] = {}

    def position(store: dict[str, Position], instrument_id: str) -> Position:
        if instrument_id not in store:
            store[instrument_id] = book.position(account, instrument_id)
        return store[instrument_id]

    for fill in unseen:
        if fill.fill_id in seen_ids:
            continue  # a broker repeating a fill in one report
        seen_ids.add(fill.fill_id)
        order = own_orders.get(fill.client_order_id or "") or orders_by_broker_id.get(fill.broker_order_id or "")
        if order is not None:
            fill = replace(fill, client_order_id=order.client_order_id)
        iid = fill.instrument_id
        position(current, iid)
        expected[iid] = position(expected, iid).apply(fill)[0]
        if fill.ts > now:
            result.pending_fills.append(fill)
            pending_quantity[iid] = pending_quantity.get(iid, 0) + fill.signed_quantity
            continue
        before = current[iid]
        current[iid] = before.apply(fill)[0]
        origin = f"order {order.client_order_id} ({order.reason})" if order is not None else "outside tradekit"
        result.differences.append(Difference(
            Kind.MISSED_FILL, iid, before.quantity, current[iid].quantity, detail=f"{fill.side} {fill.quantity} @ "
            f"{fill.price.normalize():f} at {fill.ts.isoformat()}, {origin}", fill_id=fill.fill_id,
            order_id=order.client_order_id if order is not None else fill.broker_order_id,
        ))  # fmt: skip
        result.events.append(FillRecorded(ts=fill.ts, account=account, fill=fill,
                                          strategy=order.strategy if order is not None else EXTERNAL_STRATEGY, inferred=True))
        audit(Kind.MISSED_FILL, iid, _label(before.quantity, before.average_price),
              _label(current[iid].quantity, current[iid].average_price),
              f"fill {fill.fill_id} reported by the broker, never seen by tradekit ({origin})")

    # 2. positions: what fills cannot explain
    reported: dict[str, PositionReport] = {}
    for report in view.positions:
        iid = _normalised(report.instrument_id)
        if iid in reported:  # the same instrument in two rows (products): one net position
            other = reported[iid]
            quantity = other.quantity + report.quantity
            notional = other.average_price * other.quantity + report.average_price * report.quantity
            average = (notional / quantity).quantize(Decimal("0.00000001")) if quantity else Decimal(0)
            report = PositionReport(iid, quantity, average, report.last_price or other.last_price)
        reported[iid] = replace(report, instrument_id=iid)
    held = {p.instrument_id for p in book.open_positions(account)} | set(expected)
    universe: set[str] = set(held)
    for iid, report in reported.items():
        if report.quantity == 0:
            continue
        if segments.keeps(iid) or iid in held:
            universe.add(iid)
        else:
            result.ignored.append(iid)
    for iid in sorted(universe):
        now_position = position(current, iid)
        want = position(expected, iid)
        original = book.position(account, iid)
        report = reported.get(iid)
        broker_quantity = report.quantity if report is not None else 0
        broker_average = report.average_price if report is not None and broker_quantity else None
        pending = pending_quantity.get(iid, 0)
        book_average = original.average_price if original.quantity else None
        if original.quantity == 0 and broker_quantity == 0:
            change = ""  # opened and closed by fills tradekit had not seen: nothing held either side
        elif original.quantity == 0:
            change = "added"
        elif broker_quantity == 0:
            change = "removed"
        elif original.quantity != broker_quantity or abs(original.average_price - (broker_average or 0)) > price_tolerance:
            change = "updated"
        else:
            change = "unchanged"
        if want.quantity == broker_quantity:
            if broker_quantity == 0 and not change:
                continue
            averages_differ = (pending == 0 and broker_average is not None
                               and abs(want.average_price - broker_average) > price_tolerance)
            if not averages_differ:
                why = "" if change == "unchanged" else "explained by the broker's fills"
                result.differences.append(Difference(Kind.MATCHED, iid, original.quantity, broker_quantity, book_average,
                                                     broker_average, detail=why, change=change))
                continue
            kind, why = Kind.AVERAGE_PRICE, "average price differs from the broker's; the broker's wins"
        elif want.quantity == 0:
            kind, why = Kind.EXTERNAL, "held at the broker, unknown to tradekit (traded outside tradekit)"
        elif broker_quantity == 0:
            kind, why = Kind.CLOSED_OUTSIDE, "no longer held at the broker (closed outside tradekit)"
        else:
            kind, why = Kind.QUANTITY, "quantity differs from the broker's; the broker's wins"
        target = broker_quantity - pending  # what the book must hold now so that the pending fills end at the broker's
        if kind is Kind.CLOSED_OUTSIDE:
            average = now_position.average_price  # the exit price is unknown: valued at the average, no P&L invented
            why += f"; valued at the average {average.normalize():f}, the exit price is unknown"
        else:
            average = broker_average if broker_average is not None else now_position.average_price
        external = now_position.external if now_position.quantity else True
        strategy = now_position.strategy if now_position.quantity else EXTERNAL_STRATEGY
        result.differences.append(Difference(kind, iid, original.quantity, broker_quantity, book_average, broker_average,
                                             detail=why, change=change or "updated"))
        result.events.append(PositionAdjusted(ts=now, account=account, instrument_id=iid, quantity=target,
                                              average_price=average, strategy=strategy, external=external,
                                              note=f"{kind.value}: {why}"))
        audit(kind, iid, _label(want.quantity, want.average_price), _label(broker_quantity, broker_average), why)

    # 3. orders
    reports_by_id = {r.broker_order_id: r for r in view.orders}
    reports_by_tag = {r.client_order_id: r for r in view.orders if r.client_order_id}
    filled_orders = {f.broker_order_id for f in view.fills if f.broker_order_id} | {f.client_order_id for f in view.fills if f.client_order_id}
    for order in sorted(book.working_orders(account), key=lambda o: o.client_order_id):
        report = reports_by_tag.get(order.client_order_id) or reports_by_id.get(order.broker_order_id or "")
        if order.status is OrderStatus.SUBMITTED and order.broker_order_id is None:
            if report is None:
                result.differences.append(Difference(Kind.UNSENT_ORDER, order.instrument_id, order_id=order.client_order_id,
                                                     detail="journalled but not at the broker; the next run sends it"))
                continue
            result.differences.append(Difference(Kind.FOUND_ORDER, order.instrument_id, order_id=order.client_order_id,
                                                 detail=f"found at the broker by its tag as {report.broker_order_id}"))
            result.events.append(OrderAccepted(ts=now, account=account, client_order_id=order.client_order_id,
                                               broker_order_id=report.broker_order_id))
            audit(Kind.FOUND_ORDER, order.instrument_id, "SUBMITTED", f"ACCEPTED as {report.broker_order_id}",
                  "journalled before a crash; the broker has it under its tag, so it is never re-sent")
            if report.status not in _DEAD_AT_BROKER:
                continue
        if report is not None and report.status not in _DEAD_AT_BROKER:
            continue  # working, or filled (its fills were handled above, or are pending)
        if report is None and (order.client_order_id in filled_orders or (order.broker_order_id or "") in filled_orders):
            continue
        status = report.status.value if report is not None else "missing"
        reason = report.status_reason if report is not None and report.status_reason else f"{status.lower()} at the broker"
        result.differences.append(Difference(Kind.VANISHED_ORDER, order.instrument_id, order_id=order.client_order_id,
                                             detail=f"working in tradekit, {status} at the broker"))
        if report is not None and report.status is OrderStatus.REJECTED:
            result.events.append(OrderRejected(ts=now, account=account, client_order_id=order.client_order_id, reason=reason))
        else:
            result.events.append(OrderCancelled(ts=now, account=account, client_order_id=order.client_order_id, reason=reason))
        audit(Kind.VANISHED_ORDER, order.instrument_id, order.status.value, status,
              f"order {order.client_order_id} is {status} at the broker")
    known_broker_ids = {o.broker_order_id for o in book.orders.values() if o.broker_order_id}
    for report in sorted(view.orders, key=lambda r: r.broker_order_id):
        if report.status not in _OPEN_AT_BROKER:
            continue
        if report.broker_order_id in known_broker_ids or (report.client_order_id and report.client_order_id in own_orders):
            continue
        result.differences.append(Difference(
            Kind.UNKNOWN_ORDER, _normalised(report.instrument_id), order_id=report.broker_order_id,
            detail=f"{report.side} {report.quantity} {report.order_type.value} working at the broker, placed outside tradekit",
        ))  # fmt: skip
    result.events.extend(audits)
    return result


def adopt_events(book: Book, account: str, instrument_id: str, strategy: str, now: datetime) -> list[Event]:
    """Hand an open position (usually an external one) to ``strategy``, whose exit rules then manage it."""
    held = book.position(account, instrument_id)
    if held.quantity == 0:
        raise ConfigError(f"no open position in {instrument_id} on {account} to adopt (try `tradekit sync` first)")
    if held.strategy == strategy:
        raise ConfigError(f"{instrument_id} already belongs to strategy {strategy!r}")
    before = f"{held.strategy or 'none'}{' (external)' if held.external else ''}"
    return [
        PositionAdjusted(ts=now, account=account, instrument_id=instrument_id, quantity=held.quantity,
                         average_price=held.average_price, strategy=strategy, external=held.external,
                         note=f"adopted by {strategy}"),
        ReconcileAudit(ts=now, account=account, source="adopt", kind="adopted", instrument_id=instrument_id,
                       before=before, after=strategy, reason=f"handed to strategy {strategy} by the user"),
    ]


def resolve_instrument(book: Book, account: str, raw: str) -> str:
    """The book's instrument id for what the user typed (``NFO:X``, ``nfo:x`` or a bare ``X`` it holds)."""
    if ":" in raw:
        return _normalised(raw)
    symbol = raw.strip().upper()
    matches = [p.instrument_id for p in book.open_positions(account) if p.instrument_id.partition(":")[2] == symbol]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ConfigError(f"{raw!r} is held on several exchanges ({', '.join(matches)}); write EXCHANGE:SYMBOL")
    exchange, symbol = normalise_instrument(raw)
    return f"{exchange}:{symbol}"

