"""Kite payloads -> tradekit's model, and back. Nothing Kite-shaped passes inward.

Mapping tables for statuses, order types and option rights live here, with
one ``parse_*`` function per Kite object. Kite sends numbers as ints, floats,
strings or (after pandas) numpy scalars; they become ``Decimal``/``int``
here. Kite's timestamps are naive Indian time; they become timezone-aware.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tradekit.model import (
    Fill,
    Instrument,
    InstrumentId,
    InstrumentKind,
    OptionRight,
    OrderReport,
    OrderStatus,
    OrderType,
    PositionReport,
    Quote,
    Side,
    to_decimal,
)
from tradekit.model.instruments import split_instrument_id

IST = ZoneInfo("Asia/Kolkata")

RIGHTS: dict[str, OptionRight] = {"CE": OptionRight.CALL, "PE": OptionRight.PUT}
RIGHT_CODES: dict[OptionRight, str] = {right: code for code, right in RIGHTS.items()}

ORDER_TYPES: dict[str, OrderType] = {
    "MARKET": OrderType.MARKET,
    "LIMIT": OrderType.LIMIT,
    "SL": OrderType.STOP_LIMIT,
    "SL-M": OrderType.STOP_MARKET,
}
ORDER_TYPE_CODES: dict[OrderType, str] = {kind: code for code, kind in ORDER_TYPES.items()}

# Kite's status strings (final: COMPLETE, CANCELLED, REJECTED; the rest interim).
STATUSES: dict[str, OrderStatus] = {
    "COMPLETE": OrderStatus.FILLED,
    "CANCELLED": OrderStatus.CANCELLED,
    "REJECTED": OrderStatus.REJECTED,
    "OPEN": OrderStatus.ACCEPTED,
    "TRIGGER PENDING": OrderStatus.ACCEPTED,
    "MODIFIED": OrderStatus.ACCEPTED,
    "MODIFY PENDING": OrderStatus.ACCEPTED,
    "MODIFY VALIDATION PENDING": OrderStatus.ACCEPTED,
    "AMO REQ RECEIVED": OrderStatus.ACCEPTED,
    "CANCEL PENDING": OrderStatus.PENDING_CANCEL,
    "PUT ORDER REQ RECEIVED": OrderStatus.SUBMITTED,
    "VALIDATION PENDING": OrderStatus.SUBMITTED,
    "OPEN PENDING": OrderStatus.SUBMITTED,
    "LAPSED": OrderStatus.EXPIRED,
}

KITE_INTERVALS: dict[int, str] = {
    60: "minute",
    180: "3minute",
    300: "5minute",
    600: "10minute",
    900: "15minute",
    1800: "30minute",
    3600: "60minute",
    86400: "day",
}

MONTH_CODES = {str(m): m for m in range(1, 10)} | {"O": 10, "N": 11, "D": 12}
MONTH_NAMES = {name: index for index, name in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)}
_WEEKLY = re.compile(r"^(?P<u>[A-Z&-]+?)(?P<yy>\d{2})(?P<m>[1-9OND])(?P<dd>\d{2})(?P<strike>\d+(?:\.\d+)?)(?P<r>CE|PE)$")
_MONTHLY = re.compile(r"^(?P<u>[A-Z&-]+?)(?P<yy>\d{2})(?P<mon>[A-Z]{3})(?P<strike>\d+(?:\.\d+)?)(?P<r>CE|PE)$")


@dataclass(frozen=True, slots=True)
class OptionSymbol:
    """What a Kite option trading symbol says by itself (the monthly form has no day)."""

    underlying: str
    year: int
    month: int
    day: int | None
    strike: Decimal
    right: OptionRight


def parse_option_symbol(symbol: str) -> OptionSymbol | None:
    """``NIFTY25O0725150CE`` -> NIFTY 2025-10-07 25150 CALL; ``NIFTY25OCT25150CE`` -> day None.

    Build symbols from the instrument dump, never with this; it is for
    labelling positions whose instrument is not in today's dump.
    """
    match = _WEEKLY.match(symbol)
    if match:
        return OptionSymbol(
            match["u"], 2000 + int(match["yy"]), MONTH_CODES[match["m"]], int(match["dd"]),
            Decimal(match["strike"]), RIGHTS[match["r"]],
        )
    match = _MONTHLY.match(symbol)
    if match and match["mon"] in MONTH_NAMES:
        return OptionSymbol(
            match["u"], 2000 + int(match["yy"]), MONTH_NAMES[match["mon"]], None,
            Decimal(match["strike"]), RIGHTS[match["r"]],
        )
    return None


def kite_instrument(instrument_id: InstrumentId) -> tuple[str, str]:
    """``NFO:NIFTY25O0725150CE`` -> (``NFO``, ``NIFTY25O0725150CE``)."""
    return split_instrument_id(instrument_id)


def parse_instrument_id(exchange: Any, tradingsymbol: Any) -> InstrumentId:
    return f"{str(exchange).upper()}:{tradingsymbol}"


def parse_decimal(value: Any, *, field: str = "value") -> Decimal:
    """A Kite number (int, float, str, numpy scalar) as Decimal; NaN/inf raise ValueError naming the field."""
    try:
        return to_decimal(value)
    except ValueError as error:
        raise ValueError(f"{field}: {error}") from None


def parse_int(value: Any, *, field: str = "value") -> int:
    """A Kite quantity (int, float like 75.0, str, numpy scalar) as int."""
    if value is None or value == "":
        return 0
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueError(f"{field}: not a whole number: {value!r}")
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{field}: not a whole number: {value!r}") from None


def parse_float(value: Any) -> float | None:
    """A price for market data; None when missing, not finite or not positive."""
    if value is None or value == "":
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number <= 0:
        return None
    return number


def parse_timestamp(value: Any) -> datetime | None:
    """Kite's naive Indian-time timestamps (datetime or string) as timezone-aware datetimes."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            moment = datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=IST)
    return moment.astimezone(IST)


def parse_order_status(status: Any, filled_quantity: int = 0) -> OrderStatus:
    """Kite's status string (any case) -> OrderStatus; an OPEN order with fills is PARTIALLY_FILLED."""
    text = str(status or "").strip().upper()
    mapped = STATUSES.get(text)
    if mapped is None:
        # an unknown interim status: still working at the broker, never treat as final
        mapped = OrderStatus.SUBMITTED
    if mapped is OrderStatus.ACCEPTED and filled_quantity > 0:
        return OrderStatus.PARTIALLY_FILLED
    return mapped


def parse_side(value: Any) -> Side:
    text = str(value or "").strip().upper()
    if text not in ("BUY", "SELL"):
        raise ValueError(f"transaction_type: expected BUY or SELL, got {value!r}")
    return Side(text)


def _optional_decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    number = parse_decimal(value)
    return number if number > 0 else None


def parse_order(row: Mapping[str, Any]) -> OrderReport:
    """One entry of GET /orders."""
    filled = parse_int(row.get("filled_quantity"), field="filled_quantity")
    order_type = ORDER_TYPES.get(str(row.get("order_type") or "MARKET").upper(), OrderType.MARKET)
    return OrderReport(
        broker_order_id=str(row["order_id"]),
        client_order_id=str(row["tag"]) if row.get("tag") else None,
        instrument_id=parse_instrument_id(row["exchange"], row["tradingsymbol"]),
        side=parse_side(row.get("transaction_type")),
        quantity=parse_int(row.get("quantity"), field="quantity"),
        status=parse_order_status(row.get("status"), filled),
        order_type=order_type,
        filled_quantity=filled,
        average_price=_optional_decimal(row.get("average_price")),
        limit_price=_optional_decimal(row.get("price")) if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
        stop_price=_optional_decimal(row.get("trigger_price")),
        ts=parse_timestamp(row.get("exchange_timestamp") or row.get("order_timestamp")),
        status_reason=str(row.get("status_message") or ""),
    )


def parse_trade(row: Mapping[str, Any], *, account: str, tags: Mapping[str, str]) -> Fill:
    """One entry of GET /trades; ``tags`` maps order ids to our client tags (trades carry none)."""
    order_id = str(row["order_id"])
    ts = parse_timestamp(row.get("fill_timestamp") or row.get("exchange_timestamp") or row.get("order_timestamp"))
    if ts is None:
        raise ValueError(f"trade {row.get('trade_id')}: no fill_timestamp")
    return Fill(
        fill_id=str(row["trade_id"]),
        account=account,
        instrument_id=parse_instrument_id(row["exchange"], row["tradingsymbol"]),
        side=parse_side(row.get("transaction_type")),
        quantity=parse_int(row.get("quantity"), field="quantity"),
        price=parse_decimal(row.get("average_price"), field="average_price"),
        ts=ts,
        client_order_id=tags.get(order_id),
        broker_order_id=order_id,
    )


def parse_position(row: Mapping[str, Any]) -> PositionReport:
    """One entry of ``net`` from GET /portfolio/positions (day plus overnight)."""
    last = row.get("last_price")
    return PositionReport(
        instrument_id=parse_instrument_id(row["exchange"], row["tradingsymbol"]),
        quantity=parse_int(row.get("quantity"), field="quantity"),
        average_price=parse_decimal(row.get("average_price") or 0, field="average_price"),
        last_price=_optional_decimal(last),
    )


def open_lot_average(trades: list[Mapping[str, Any]]) -> tuple[int, Decimal] | None:
    """(signed quantity, average price) of what today's ``trades`` of one instrument and product leave open, FIFO.

    Kite's positions blend every trade of the day into ``average_price`` (sell 75 @ 31.40 after buying
    at 30, buy 75 again at 32: Kite shows 31); the lots still open cost 32. None when nothing is open.
    """
    lots: list[list[Any]] = []  # [signed quantity, price], oldest first
    for row in sorted(trades, key=lambda r: (str(r.get("fill_timestamp") or ""), str(r.get("trade_id") or ""))):
        quantity = parse_int(row.get("quantity"), field="quantity")
        signed = quantity if parse_side(row.get("transaction_type")) is Side.BUY else -quantity
        price = parse_decimal(row.get("average_price"), field="average_price")
        while signed and lots and (lots[0][0] > 0) != (signed > 0):
            matched = min(abs(signed), abs(lots[0][0]))
            lots[0][0] += matched if lots[0][0] < 0 else -matched
            signed += matched if signed < 0 else -matched
            if lots[0][0] == 0:
                lots.pop(0)
        if signed:
            lots.append([signed, price])
    held = sum(lot[0] for lot in lots)
    if not held:
        return None
    return held, sum((abs(lot[0]) * lot[1] for lot in lots), Decimal(0)) / abs(held)


def position_underlying(symbol: str) -> str:
    """The underlying a derivative symbol trades on (``NIFTY25O0725150CE`` -> ``NIFTY``)."""
    option = parse_option_symbol(symbol)
    if option is not None:
        return option.underlying
    match = re.match(r"^([A-Z&-]+?)\d{2}[A-Z]{3}FUT$", symbol)
    return match.group(1) if match else symbol


def parse_instrument(row: Mapping[str, Any]) -> Instrument:
    """One row of the instrument dump (as kiteconnect parsed it, or raw CSV strings)."""
    kind_code = str(row.get("instrument_type") or "").upper()
    segment = str(row.get("segment") or "").upper()
    expiry = row.get("expiry")
    if isinstance(expiry, str):
        expiry = date.fromisoformat(expiry) if len(expiry) == 10 else None
    if isinstance(expiry, datetime):
        expiry = expiry.date()
    tick = parse_decimal(row.get("tick_size") or "0.05", field="tick_size")
    lot = parse_int(row.get("lot_size") or 1, field="lot_size")
    common = {
        "symbol": str(row["tradingsymbol"]),
        "exchange": str(row["exchange"]).upper(),
        "lot_size": max(lot, 1),
        "tick_size": tick.normalize() if tick > 0 else Decimal("0.05"),
    }
    name = str(row.get("name") or "") or None
    if kind_code in RIGHTS:
        return Instrument(
            kind=InstrumentKind.OPTION, underlying=name, expiry=expiry,
            strike=parse_decimal(row.get("strike"), field="strike").normalize(), right=RIGHTS[kind_code], **common,
        )
    if kind_code == "FUT":
        return Instrument(kind=InstrumentKind.FUTURE, underlying=name, expiry=expiry, **common)
    if segment == "INDICES":
        return Instrument(kind=InstrumentKind.INDEX, **common)
    return Instrument(kind=InstrumentKind.EQUITY, **common)


def parse_quote(key: str, payload: Mapping[str, Any], now: datetime | None = None) -> Quote | None:
    """One entry of GET /quote keyed ``EXCH:SYMBOL``; None when the price is not usable.

    A quote without ``timestamp`` or ``last_trade_time`` is stamped ``now`` (the moment it was asked
    for) when given, else refused.
    """
    last = parse_float(payload.get("last_price"))
    if last is None:
        return None
    ts = parse_timestamp(payload.get("timestamp") or payload.get("last_trade_time")) or now
    if ts is None:
        return None
    depth = payload.get("depth") or {}
    bids = depth.get("buy") or []
    asks = depth.get("sell") or []
    return Quote(
        instrument_id=key,
        ts=ts,
        last=last,
        volume=parse_int(payload.get("volume") or 0, field="volume"),
        oi=parse_int(payload.get("oi") or 0, field="oi"),
        bid=parse_float(bids[0].get("price")) if bids else None,
        ask=parse_float(asks[0].get("price")) if asks else None,
    )


def parse_tick(tick: Mapping[str, Any], instrument_id: InstrumentId) -> Quote | None:
    """A KiteTicker tick (as the client decoded the binary packet) -> Quote."""
    last = parse_float(tick.get("last_price"))
    if last is None:
        return None
    ts = tick.get("exchange_timestamp") or tick.get("last_trade_time")
    if not isinstance(ts, datetime):
        return None
    # the client decodes epoch seconds with datetime.fromtimestamp: naive *local* time
    moment = ts.astimezone(IST) if ts.tzinfo is None else ts.astimezone(IST)
    depth = tick.get("depth") or {}
    bids = depth.get("buy") or []
    asks = depth.get("sell") or []
    return Quote(
        instrument_id=instrument_id,
        ts=moment,
        last=last,
        volume=parse_int(tick.get("volume_traded") or 0),
        oi=parse_int(tick.get("oi") or 0),
        bid=parse_float(bids[0].get("price")) if bids else None,
        ask=parse_float(asks[0].get("price")) if asks else None,
    )


def parse_candle(record: Mapping[str, Any]) -> tuple[datetime, float, float, float, float, int, int]:
    """One record of historical_data (``date`` already a datetime) as plain values."""
    ts = parse_timestamp(record["date"])
    assert ts is not None
    return (
        ts,
        float(record["open"]),
        float(record["high"]),
        float(record["low"]),
        float(record["close"]),
        parse_int(record.get("volume") or 0),
        parse_int(record.get("oi") or 0),
    )


def kite_interval(interval_seconds: int) -> str:
    try:
        return KITE_INTERVALS[interval_seconds]
    except KeyError:
        allowed = ", ".join(str(s) for s in KITE_INTERVALS)
        raise ValueError(f"Kite has no {interval_seconds}-second candles (allowed: {allowed})") from None
