"""Journal events: every state change in tradekit is one of these, written before it counts.

Each event is a frozen dataclass with a ``TYPE`` name, the event time ``ts``
(the market's time of the thing that happened, never the wall clock when it
was processed) and the ``account`` it belongs to. ``to_payload`` /
``event_from_row`` give the JSON form stored in the journal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from tradekit.model.fills import Fill
from tradekit.model.orders import Order


@dataclass(frozen=True)
class Event:
    TYPE: ClassVar[str] = "Event"
    PLAIN_JSON: ClassVar[tuple[str, ...]] = ()  # fields that are plain JSON data by contract: passed through as they are
    ts: datetime
    account: str

    def to_payload(self) -> dict[str, Any]:
        """The event's fields as JSON-ready data (the store encodes it with one ``json.dumps``).

        Fields named in ``PLAIN_JSON`` are handed over as they are, not copied: they
        are plain JSON data by contract, so walking them in Python first only
        rebuilt the same dicts (a strategy state of 80 contracts per checkpoint
        was a sixth of a backtest's CPU). Treat the payload as read-only.
        """
        cls = type(self)
        names = _PAYLOAD_FIELDS.get(cls)
        if names is None:
            names = _PAYLOAD_FIELDS[cls] = tuple(f.name for f in fields(cls)
                                                 if f.name not in ("ts", "account") and f.metadata.get("journal", True))
        plain = self.PLAIN_JSON
        return {name: getattr(self, name) if name in plain else _encode(getattr(self, name)) for name in names}

    def payload_text(self) -> str:
        """The journal's text of the payload: ``canonical_json(self.to_payload())``."""
        return canonical_json(self.to_payload())


canonical_json = json.JSONEncoder(sort_keys=True).encode  # the journal's JSON: sorted keys, one encoder for every call
_PAYLOAD_FIELDS: dict[type, tuple[str, ...]] = {}  # an event class's payload field names, looked up once
_AS_IS = frozenset({str, int, float, bool, type(None)})


def _encode(value: Any) -> Any:
    if type(value) in _AS_IS:
        return value
    if isinstance(value, (Order, Fill)):
        return value.to_dict()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


@dataclass(frozen=True)
class DayOpened(Event):
    """The account's trading day begins with this cash (carry-over or configured capital)."""

    TYPE: ClassVar[str] = "DayOpened"
    day: date = date.min
    cash: Decimal = Decimal(0)
    source: str = "carry-over"  # carry-over | capital | broker


@dataclass(frozen=True)
class DayClosed(Event):
    TYPE: ClassVar[str] = "DayClosed"
    day: date = date.min
    cash: Decimal = Decimal(0)
    equity: Decimal = Decimal(0)


@dataclass(frozen=True)
class OrderSubmitted(Event):
    """Journalled BEFORE the order is sent; carries the client tag."""

    TYPE: ClassVar[str] = "OrderSubmitted"
    order: Order = None  # type: ignore[assignment]


@dataclass(frozen=True)
class OrderAccepted(Event):
    TYPE: ClassVar[str] = "OrderAccepted"
    client_order_id: str = ""
    broker_order_id: str = ""


@dataclass(frozen=True)
class OrderRejected(Event):
    TYPE: ClassVar[str] = "OrderRejected"
    client_order_id: str = ""
    reason: str = ""


@dataclass(frozen=True)
class OrderCancelled(Event):
    TYPE: ClassVar[str] = "OrderCancelled"
    client_order_id: str = ""
    reason: str = ""


@dataclass(frozen=True)
class OrderModified(Event):
    TYPE: ClassVar[str] = "OrderModified"
    client_order_id: str = ""
    stop_price: Decimal | None = None
    quantity: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class FillRecorded(Event):
    """An execution. ``inferred`` marks fills learnt from the broker after the fact (downtime, reconcile)."""

    TYPE: ClassVar[str] = "FillRecorded"
    fill: Fill = None  # type: ignore[assignment]
    strategy: str = ""
    inferred: bool = False


@dataclass(frozen=True)
class StrategyCheckpoint(Event):
    """The strategy's state after a step and the engine's watermark (the step's event time).

    ``state`` is plain JSON data (the engine checks every decision's state with
    ``json.dumps(..., allow_nan=False)``), journalled as it is; anything else
    makes the store refuse the step with a ``StoreError``.
    """

    TYPE: ClassVar[str] = "StrategyCheckpoint"
    PLAIN_JSON: ClassVar[tuple[str, ...]] = ("state",)
    strategy: str = ""
    day: date = date.min
    state: dict[str, Any] = field(default_factory=dict)
    # ``state`` as canonical JSON when the engine already encoded it (its plain-JSON check): not journalled itself,
    # it saves encoding an 82-contract state a second time
    state_json: str | None = field(default=None, compare=False, repr=False, metadata={"journal": False})

    def payload_text(self) -> str:
        if self.state_json is None:
            return super().payload_text()
        # the canonical encoding of {"day", "state", "strategy"}: keys in sorted order, the state's text spliced in
        return f'{{"day": {canonical_json(self.day.isoformat())}, "state": {self.state_json}, "strategy": {canonical_json(self.strategy)}}}'


@dataclass(frozen=True)
class SignalBlocked(Event):
    TYPE: ClassVar[str] = "SignalBlocked"
    strategy: str = ""
    day: date = date.min
    rule: str = ""
    reason: str = ""
    instrument_id: str | None = None


@dataclass(frozen=True)
class PositionAdjusted(Event):
    """A correction from reconciliation: the broker's quantity/average wins (always ``inferred``)."""

    TYPE: ClassVar[str] = "PositionAdjusted"
    instrument_id: str = ""
    quantity: int = 0
    average_price: Decimal = Decimal(0)
    strategy: str = ""
    external: bool = False
    note: str = ""


@dataclass(frozen=True)
class ReconcileAudit(Event):
    """The audit row of a reconciliation: what differed from the broker, what was changed, and why.

    It changes no state by itself (the corrections are the ``PositionAdjusted``
    / ``FillRecorded(inferred=True)`` / order events journalled with it); the
    ``reconcile_audit`` view of the store lists these rows.
    """

    TYPE: ClassVar[str] = "ReconcileAudit"
    source: str = ""  # sync | reconcile | run | adopt
    broker: str = ""
    kind: str = ""  # external | closed_outside | quantity | average_price | missed_fill | vanished_order | adopted ...
    instrument_id: str = ""
    before: str = ""
    after: str = ""
    reason: str = ""


@dataclass(frozen=True)
class RiskStateSet(Event):
    """Risk and control state that must survive a restart (latches, pauses, day-start equity, entry attempts).

    ``key`` names the item (``latch:KILL``, ``pause:<strategy>``, ...); ``day``
    is the trading day it belongs to (``date.min``: not tied to a day);
    ``value`` None clears the item. Written by the risk layer and the control
    commands, projected into the ``risk_state`` table.
    """

    TYPE: ClassVar[str] = "RiskStateSet"
    key: str = ""
    day: date = date.min
    value: dict[str, Any] | None = None
    reason: str = ""


EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        DayOpened,
        DayClosed,
        OrderSubmitted,
        OrderAccepted,
        OrderRejected,
        OrderCancelled,
        OrderModified,
        FillRecorded,
        StrategyCheckpoint,
        SignalBlocked,
        PositionAdjusted,
        ReconcileAudit,
        RiskStateSet,
    )
}


def event_from_row(type_name: str, ts: datetime, account: str, payload: dict[str, Any]) -> Event:
    """Rebuild a typed event from its journal row."""
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise ValueError(f"unknown event type {type_name!r} in journal")
    kwargs: dict[str, Any] = {"ts": ts, "account": account}
    for item in fields(cls):
        if item.name in ("ts", "account") or item.name not in payload:
            continue
        kwargs[item.name] = _decode(item.name, item.type, payload[item.name])
    return cls(**kwargs)


def _decode(name: str, annotation: Any, value: Any) -> Any:
    text = str(annotation)
    if value is None:
        return None
    if name == "order":
        return Order.from_dict(value)
    if name == "fill":
        return Fill.from_dict(value)
    if text.startswith("Decimal"):
        return Decimal(str(value))
    if text == "date":
        return date.fromisoformat(value)
    if text == "int | None" or text == "int":
        return int(value)
    return value
