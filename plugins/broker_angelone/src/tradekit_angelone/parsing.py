"""Mapping tables and ``parse_*`` functions: SmartAPI payloads in, tradekit model types out.

Nothing Angel-specific passes this edge: CE/PE become CALL/PUT, string numbers
become ``Decimal``/``int``, lowercase statuses become ``OrderStatus``, the
scrip master's paise-scaled strikes and ticks become rupees, and SmartAPI's
exchange-local timestamps become timezone-aware datetimes.

Scrip master rows look like (every value a string)::

    {"token": "45829", "symbol": "NIFTY04APR2423000CE", "name": "NIFTY",
     "expiry": "04APR2024", "strike": "2300000.000000", "lotsize": "50",
     "instrumenttype": "OPTIDX", "exch_seg": "NFO", "tick_size": "5.000000"}

``strike`` and ``tick_size`` are in paise (x100); indices are ``AMXIDX`` rows
on NSE (``"Nifty 50"``, name ``NIFTY``); their ids are upper-cased
(``NSE:NIFTY 50``) so strategies name the index the same on every broker.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tradekit.errors import BrokerError
from tradekit.model import (
    AccountReport,
    Candle,
    Fill,
    Instrument,
    InstrumentId,
    InstrumentKind,
    OptionRight,
    Order,
    OrderReport,
    OrderStatus,
    OrderType,
    PositionReport,
    Quote,
    Side,
    to_decimal,
)

PAISE = Decimal(100)
DEFAULT_TICK = Decimal("0.05")

OPTION_RIGHTS = {"CE": OptionRight.CALL, "PE": OptionRight.PUT}
KINDS = {
    "OPTIDX": InstrumentKind.OPTION,
    "OPTSTK": InstrumentKind.OPTION,
    "FUTIDX": InstrumentKind.FUTURE,
    "FUTSTK": InstrumentKind.FUTURE,
    "AMXIDX": InstrumentKind.INDEX,
    "": InstrumentKind.EQUITY,
}

# SmartAPI order book statuses (lowercase, as sent) -> tradekit; a partly filled
# working order becomes PARTIALLY_FILLED in parse_order_status.
ORDER_STATUSES: dict[str, OrderStatus] = {
    "open": OrderStatus.ACCEPTED,
    "open pending": OrderStatus.ACCEPTED,
    "trigger pending": OrderStatus.ACCEPTED,
    "validation pending": OrderStatus.SUBMITTED,
    "put order req received": OrderStatus.SUBMITTED,
    "after market order req received": OrderStatus.ACCEPTED,
    "modified": OrderStatus.ACCEPTED,
    "modify pending": OrderStatus.ACCEPTED,
    "modify validation pending": OrderStatus.ACCEPTED,
    "not modified": OrderStatus.ACCEPTED,
    "not cancelled": OrderStatus.ACCEPTED,
    "cancel pending": OrderStatus.PENDING_CANCEL,
    "complete": OrderStatus.FILLED,
    "cancelled": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
}

# tradekit order type -> (SmartAPI variety, ordertype)
ORDER_TYPES: dict[OrderType, tuple[str, str]] = {
    OrderType.MARKET: ("NORMAL", "MARKET"),
    OrderType.LIMIT: ("NORMAL", "LIMIT"),
    OrderType.STOP_MARKET: ("STOPLOSS", "STOPLOSS_MARKET"),
    OrderType.STOP_LIMIT: ("STOPLOSS", "STOPLOSS_LIMIT"),
}
ANGEL_ORDER_TYPES = {ordertype: kind for kind, (_variety, ordertype) in ORDER_TYPES.items()}

CANDLE_INTERVALS = {
    60: "ONE_MINUTE",
    180: "THREE_MINUTE",
    300: "FIVE_MINUTE",
    600: "TEN_MINUTE",
    900: "FIFTEEN_MINUTE",
    1800: "THIRTY_MINUTE",
    3600: "ONE_HOUR",
    86400: "ONE_DAY",
}


def number(value: Any, what: str) -> Decimal:
    """A SmartAPI number (usually a string such as ``"123.45"``) as Decimal; names the field when bad."""
    try:
        return to_decimal(value)
    except ValueError:
        raise BrokerError(f"angelone: {what} is not a number: {value!r}") from None


def whole(value: Any, what: str) -> int:
    """A SmartAPI quantity (``"75"``, ``"-75"``, ``"75.0"``) as int."""
    result = number(value if value not in (None, "") else "0", what)
    if result != result.to_integral_value():
        raise BrokerError(f"angelone: {what} is not a whole number: {value!r}")
    return int(result)


def parse_expiry(value: str) -> date:
    """``04APR2024`` / ``04Apr2024`` -> date."""
    return datetime.strptime(value.strip().upper(), "%d%b%Y").date()


@dataclass(frozen=True, slots=True)
class ScripEntry:
    """One tradable row: the instrument and the SmartAPI token that addresses it."""

    instrument: Instrument
    token: str
    exchange: str  # SmartAPI exch_seg


def parse_scrip_row(row: Mapping[str, Any]) -> ScripEntry | None:
    """One scrip master row -> entry; rows of kinds tradekit does not trade return None."""
    kind = KINDS.get(str(row.get("instrumenttype", "")).upper())
    if kind is None:
        return None
    exchange = str(row["exch_seg"]).upper()
    symbol = str(row["symbol"])
    name = str(row.get("name") or "").upper() or None
    tick = (number(row.get("tick_size") or "0", f"{symbol} tick_size") / PAISE).normalize()
    lot = whole(row.get("lotsize") or "1", f"{symbol} lotsize")
    expiry = parse_expiry(row["expiry"]) if row.get("expiry") else None
    strike = right = None
    if kind is InstrumentKind.OPTION:
        right = OPTION_RIGHTS.get(symbol[-2:].upper())
        if right is None or expiry is None:
            return None
        strike = (number(row["strike"], f"{symbol} strike") / PAISE).normalize()
        strike = strike.quantize(Decimal(1)) if strike == strike.to_integral_value() else strike
    elif kind is InstrumentKind.EQUITY and not symbol.endswith("-EQ"):
        return None  # bonds, ETFs' odd series, etc.
    elif kind is InstrumentKind.INDEX:
        symbol = symbol.upper()  # "Nifty 50" -> tradekit's (and Kite's, and the data files') "NSE:NIFTY 50"
    instrument = Instrument(
        symbol=symbol,
        exchange=exchange,
        kind=kind,
        lot_size=max(1, lot),
        tick_size=tick if tick > 0 else DEFAULT_TICK,
        underlying=name,
        expiry=expiry,
        strike=strike,
        right=right,
    )
    return ScripEntry(instrument=instrument, token=str(row["token"]), exchange=exchange)


@dataclass
class ScripIndex:
    """The day's instruments addressable both ways: tradekit id <-> (exchange, token)."""

    by_id: dict[InstrumentId, ScripEntry] = field(default_factory=dict)
    by_token: dict[tuple[str, str], ScripEntry] = field(default_factory=dict)

    @classmethod
    def build(
        cls, rows: Iterable[Mapping[str, Any]], *, underlyings: Iterable[str], exchanges: Iterable[str]
    ) -> ScripIndex:
        wanted_names = {name.upper() for name in underlyings}
        wanted_exchanges = {exchange.upper() for exchange in exchanges}
        index = cls()
        for row in rows:
            if str(row.get("exch_seg", "")).upper() not in wanted_exchanges:
                continue
            if str(row.get("name", "")).upper() not in wanted_names:
                continue
            entry = parse_scrip_row(row)
            if entry is None:
                continue
            index.by_id[entry.instrument.id] = entry
            index.by_token[(entry.exchange, entry.token)] = entry
        return index

    def entry(self, instrument_id: InstrumentId) -> ScripEntry:
        try:
            return self.by_id[instrument_id]
        except KeyError:
            raise BrokerError(f"angelone: unknown instrument {instrument_id!r} (not in today's scrip master)") from None


def parse_order_status(status: str, filled: int, quantity: int) -> OrderStatus:
    """SmartAPI's lowercase status -> ``OrderStatus``; unknown statuses name themselves."""
    key = (status or "").strip().lower()
    try:
        mapped = ORDER_STATUSES[key]
    except KeyError:
        raise BrokerError(f"angelone: unknown order status {status!r}") from None
    if mapped in (OrderStatus.ACCEPTED, OrderStatus.SUBMITTED) and 0 < filled < quantity:
        return OrderStatus.PARTIALLY_FILLED
    return mapped


def parse_timestamp(value: str, timezone: ZoneInfo) -> datetime | None:
    """``20-Oct-2020 13:10:59`` (exchange-local) -> aware datetime; empty -> None."""
    text = (value or "").strip()
    if not text:
        return None
    for pattern in ("%d-%b-%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=timezone)
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BrokerError(f"angelone: unreadable timestamp {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone)


def _price_or_none(value: Any, what: str) -> Decimal | None:
    if value in (None, ""):
        return None
    price = number(value, what)
    return price if price > 0 else None


def parse_order_row(row: Mapping[str, Any], client_order_id: str | None, timezone: ZoneInfo) -> OrderReport:
    """One order book row -> ``OrderReport``. ``client_order_id`` is resolved from ``ordertag`` by the caller."""
    order_id = str(row["orderid"])
    quantity = whole(row.get("quantity"), f"order {order_id} quantity")
    filled = whole(row.get("filledshares"), f"order {order_id} filledshares")
    order_type = ANGEL_ORDER_TYPES.get(str(row.get("ordertype", "")).upper())
    if order_type is None:
        raise BrokerError(f"angelone: order {order_id} has unknown ordertype {row.get('ordertype')!r}")
    side_text = str(row.get("transactiontype", "")).upper()
    if side_text not in ("BUY", "SELL"):
        raise BrokerError(f"angelone: order {order_id} has unknown transactiontype {side_text!r}")
    average = _price_or_none(row.get("averageprice"), f"order {order_id} averageprice")
    return OrderReport(
        broker_order_id=order_id,
        client_order_id=client_order_id,
        instrument_id=f"{str(row['exchange']).upper()}:{row['tradingsymbol']}",
        side=Side(side_text),
        quantity=quantity,
        status=parse_order_status(str(row.get("status") or row.get("orderstatus") or ""), filled, quantity),
        order_type=order_type,
        filled_quantity=filled,
        average_price=average if filled > 0 else None,
        limit_price=_price_or_none(row.get("price"), f"order {order_id} price")
        if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        else None,
        stop_price=_price_or_none(row.get("triggerprice"), f"order {order_id} triggerprice")
        if order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
        else None,
        ts=parse_timestamp(str(row.get("updatetime") or ""), timezone),
        status_reason=str(row.get("text") or ""),
    )


def parse_trade_row(
    row: Mapping[str, Any], *, account: str, day: date, timezone: ZoneInfo, client_order_id: str | None
) -> Fill:
    """One trade book row -> ``Fill``. SmartAPI gives only ``filltime`` (HH:MM:SS): the day comes from the caller."""
    fill_id = str(row["fillid"])
    clock = datetime.strptime(str(row["filltime"]).strip(), "%H:%M:%S").time()
    return Fill(
        fill_id=fill_id,
        account=account,
        instrument_id=f"{str(row['exchange']).upper()}:{row['tradingsymbol']}",
        side=Side(str(row["transactiontype"]).upper()),
        quantity=whole(row["fillsize"], f"trade {fill_id} fillsize"),
        price=number(row["fillprice"], f"trade {fill_id} fillprice"),
        ts=datetime.combine(day, clock, tzinfo=timezone),
        client_order_id=client_order_id,
        broker_order_id=str(row.get("orderid") or "") or None,
    )


def parse_position_row(row: Mapping[str, Any]) -> PositionReport | None:
    """One net position row -> ``PositionReport``; flat rows (closed today) return None.

    The average is the side's average including carried-forward quantity
    (``totalbuyavgprice``/``totalsellavgprice``), falling back to the day's.
    """
    symbol = f"{str(row['exchange']).upper()}:{row['tradingsymbol']}"
    quantity = whole(row.get("netqty"), f"{symbol} netqty")
    if quantity == 0:
        return None
    side = "buy" if quantity > 0 else "sell"
    average = Decimal(0)
    for key in (f"total{side}avgprice", f"{side}avgprice", "avgnetprice", "netprice"):
        if row.get(key) not in (None, ""):
            average = number(row[key], f"{symbol} {key}")
            if average > 0:
                break
    if average <= 0:
        raise BrokerError(f"angelone: position {symbol} has no usable average price")
    return PositionReport(
        instrument_id=symbol,
        quantity=quantity,
        average_price=average,
        last_price=_price_or_none(row.get("ltp"), f"{symbol} ltp"),
    )


def parse_rms(data: Mapping[str, Any], account: str, now: datetime | None) -> AccountReport:
    """``getRMS`` data -> ``AccountReport``: cash is ``availablecash``, equity is SmartAPI's ``net``."""
    cash = number(data.get("availablecash") or "0", "rms availablecash")
    equity = number(data.get("net") or data.get("availablecash") or "0", "rms net")
    return AccountReport(account=account, currency="INR", cash=cash, equity=equity, ts=now)


def _finite_positive(value: Any) -> float | None:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) and result > 0 else None


def parse_quote_row(
    row: Mapping[str, Any], instrument_id: InstrumentId, timezone: ZoneInfo, fallback_ts: datetime
) -> Quote | None:
    """One ``fetched`` row of a FULL quote -> ``Quote``; NaN, zero or negative prices return None."""
    last = _finite_positive(row.get("ltp"))
    if last is None:
        return None
    try:
        ts = parse_timestamp(str(row.get("exchFeedTime") or ""), timezone) or fallback_ts
    except BrokerError:
        ts = fallback_ts
    depth = row.get("depth") or {}
    bid = ask = None
    if isinstance(depth, Mapping):
        buys, sells = depth.get("buy") or [], depth.get("sell") or []
        bid = _finite_positive(buys[0].get("price")) if buys else None
        ask = _finite_positive(sells[0].get("price")) if sells else None
    return Quote(
        instrument_id=instrument_id,
        ts=ts,
        last=last,
        volume=int(_finite_positive(row.get("tradeVolume")) or 0),
        oi=int(_finite_positive(row.get("opnInterest")) or 0),
        bid=bid,
        ask=ask,
    )


def parse_candle_rows(rows: Iterable[Any], instrument_id: InstrumentId, interval_seconds: int, timezone: ZoneInfo) -> list[Candle]:
    """``getCandleData`` rows ``[ts, o, h, l, c, v]`` -> candles; malformed rows are skipped."""
    candles = []
    for row in rows or []:
        if not isinstance(row, (list, tuple)) or len(row) < 6:
            continue
        prices = [_finite_positive(value) for value in row[1:5]]
        if any(price is None for price in prices):
            continue
        ts = parse_timestamp(str(row[0]), timezone)
        assert ts is not None
        open_, high, low, close = (float(price) for price in prices)  # type: ignore[arg-type]
        candles.append(
            Candle(instrument_id, ts, interval_seconds, open_, high, low, close, volume=int(float(row[5] or 0)))
        )
    return candles


def format_price(value: Decimal | None) -> str:
    return "0" if value is None else f"{value:f}"


def order_params(order: Order, entry: ScripEntry, *, tag: str, product_type: str) -> dict[str, str]:
    """tradekit ``Order`` -> ``placeOrder`` parameters (SmartAPI wants strings)."""
    variety, ordertype = ORDER_TYPES[order.order_type]
    return {
        "variety": variety,
        "tradingsymbol": entry.instrument.symbol,
        "symboltoken": entry.token,
        "transactiontype": order.side.value,
        "exchange": entry.exchange,
        "ordertype": ordertype,
        "producttype": product_type,
        "duration": "DAY",
        "price": format_price(order.limit_price),
        "triggerprice": format_price(order.stop_price),
        "squareoff": "0",
        "stoploss": "0",
        "quantity": str(order.quantity),
        "ordertag": tag,
    }


def today_in(timezone: ZoneInfo, now: datetime) -> date:
    return now.astimezone(timezone).date()


def start_of_day(day: date, timezone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=timezone)
