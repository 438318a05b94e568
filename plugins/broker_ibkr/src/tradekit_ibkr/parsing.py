"""IB objects -> tradekit model, and tradekit orders -> IB orders.

Everything IB-specific stops here: status words, BOT/SLD, UNSET_DOUBLE
placeholders, float quantities, ``orderRef`` (where tradekit's client order
id travels) and the permanent order id (``permId``, stable across sessions
and client ids, which is what tradekit stores as the broker order id).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

from tradekit.model import (
    AccountReport,
    Candle,
    Fill,
    Instrument,
    InstrumentKind,
    Order,
    OrderReport,
    OrderStatus,
    OrderType,
    PositionReport,
    Quote,
    Side,
    instrument_id,
    to_decimal,
)

EXCHANGE = "SMART"
CURRENCY = "USD"
UNSET_DOUBLE = 1.7976931348623157e308
NOT_A_REJECTION = frozenset({202, 10147, 10148})  # cancel confirmations, not refusals

STATUS = {
    "PendingSubmit": OrderStatus.SUBMITTED,
    "ApiPending": OrderStatus.SUBMITTED,
    "PreSubmitted": OrderStatus.ACCEPTED,
    "Submitted": OrderStatus.ACCEPTED,
    "ValidationError": OrderStatus.ACCEPTED,  # ib_async: a warning; the order is still live
    "PendingCancel": OrderStatus.PENDING_CANCEL,
    "ApiCancelled": OrderStatus.CANCELLED,
    "Cancelled": OrderStatus.CANCELLED,
    "Filled": OrderStatus.FILLED,
    "Inactive": OrderStatus.REJECTED,
}
ORDER_TYPES = {"MKT": OrderType.MARKET, "LMT": OrderType.LIMIT, "STP": OrderType.STOP_MARKET, "STP LMT": OrderType.STOP_LIMIT}
IB_ORDER_TYPES = {value: key for key, value in ORDER_TYPES.items()}


def symbol_of(value: str) -> str:
    """``SMART:TSLA``, ``NASDAQ:TSLA`` or ``TSLA`` -> ``TSLA``."""
    symbol = value.split(":", 1)[-1].strip().upper()
    if not symbol:
        raise ValueError(f"ibkr: no symbol in instrument id {value!r}")
    return symbol


def stock_id(symbol: str) -> str:
    return instrument_id(EXCHANGE, symbol)


def stock_contract(lib: ModuleType, instrument: str) -> Any:
    """A US stock routed SMART in USD."""
    return lib.Stock(symbol_of(instrument), EXCHANGE, CURRENCY)


def stock_instrument(symbol: str) -> Instrument:
    return Instrument(symbol=symbol, exchange=EXCHANGE, kind=InstrumentKind.EQUITY, currency=CURRENCY,
                      lot_size=1, tick_size=Decimal("0.01"))


def price_or_none(value: Any) -> Decimal | None:
    """IB's placeholders for "no price" (UNSET_DOUBLE, 0, NaN) -> None."""
    if value is None or value == "":
        return None
    number = float(value)
    if not math.isfinite(number) or number <= 0 or number >= UNSET_DOUBLE:
        return None
    return to_decimal(round(number, 6)).normalize()


def client_tag(order_ref: str | None) -> str | None:
    """``orderRef`` -> tradekit client order id (None for orders made outside tradekit)."""
    ref = (order_ref or "").strip()
    return ref or None


def build_order(lib: ModuleType, order: Order, account: str) -> Any:
    """tradekit ``Order`` -> IB ``Order`` with the client order id in ``orderRef``."""
    ib_order = lib.Order(
        action=order.side.value,
        totalQuantity=float(order.quantity),
        orderType=IB_ORDER_TYPES[order.order_type],
        orderRef=order.client_order_id,
        tif="DAY",
        account=account,
        transmit=True,
    )
    if order.limit_price is not None:
        ib_order.lmtPrice = float(order.limit_price)
    if order.stop_price is not None:
        ib_order.auxPrice = float(order.stop_price)
    return ib_order


def _as_utc(moment: Any) -> datetime | None:
    if not isinstance(moment, datetime):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def rejection_reason(trade: Any) -> str:
    """The TWS error text that killed the order, or "" when it was a plain cancel."""
    for entry in reversed(trade.log):
        code = getattr(entry, "errorCode", 0)
        if code and code not in NOT_A_REJECTION:
            return f"{code}: {entry.message}"
    return ""


def order_status(trade: Any) -> tuple[OrderStatus, str]:
    status_text = trade.orderStatus.status
    status = STATUS.get(status_text, OrderStatus.ACCEPTED)
    reason = ""
    if status is OrderStatus.CANCELLED:
        reason = rejection_reason(trade)
        if reason:
            status = OrderStatus.REJECTED
    filled = float(trade.orderStatus.filled or 0) or float(getattr(trade.order, "filledQuantity", 0) or 0)
    if status is OrderStatus.ACCEPTED and 0 < filled < float(trade.order.totalQuantity):
        status = OrderStatus.PARTIALLY_FILLED
    return status, reason


def order_report(trade: Any) -> OrderReport:
    """An IB ``Trade`` (from this session, reqOpenOrders or reqCompletedOrders) -> ``OrderReport``."""
    order, status_obj = trade.order, trade.orderStatus
    status, reason = order_status(trade)
    fills = [f for f in trade.fills]
    filled = sum(float(f.execution.shares) for f in fills)
    average = None
    if filled:
        average = to_decimal(round(sum(float(f.execution.shares) * float(f.execution.price) for f in fills) / filled, 6))
    else:
        reported = float(status_obj.filled or 0)
        unset = reported >= UNSET_DOUBLE or math.isnan(reported)
        filled = 0.0 if unset else reported
        if not filled:
            completed_filled = float(getattr(order, "filledQuantity", 0) or 0)
            filled = 0.0 if completed_filled >= UNSET_DOUBLE else completed_filled
        average = price_or_none(status_obj.avgFillPrice)
    if status is OrderStatus.FILLED and not filled:
        filled = float(order.totalQuantity)
    times = [_as_utc(entry.time) for entry in trade.log if _as_utc(entry.time)]
    return OrderReport(
        broker_order_id=str(order.permId),
        client_order_id=client_tag(order.orderRef),
        instrument_id=stock_id(trade.contract.symbol),
        side=Side(order.action.upper()),
        quantity=int(round(float(order.totalQuantity))),
        status=status,
        order_type=ORDER_TYPES.get(order.orderType, OrderType.MARKET),
        filled_quantity=int(round(filled)),
        average_price=average,
        limit_price=price_or_none(order.lmtPrice),
        stop_price=price_or_none(order.auxPrice),
        ts=times[-1] if times else None,
        status_reason=reason,
    )


def fill(ib_fill: Any, account: str) -> Fill:
    """An IB ``Fill`` -> tradekit ``Fill`` at the broker's price and execution time."""
    execution = ib_fill.execution
    costs = float(getattr(ib_fill.commissionReport, "commission", 0.0) or 0.0)
    if not math.isfinite(costs) or costs >= UNSET_DOUBLE or costs < 0:
        costs = 0.0
    ts = _as_utc(execution.time) or _as_utc(ib_fill.time)
    if ts is None:
        raise ValueError(f"ibkr: execution {execution.execId} has no time")
    return Fill(
        fill_id=execution.execId,
        account=account,
        instrument_id=stock_id(ib_fill.contract.symbol),
        side=Side.BUY if execution.side.upper() in ("BOT", "BUY") else Side.SELL,
        quantity=int(round(float(execution.shares))),
        price=to_decimal(round(float(execution.price), 6)),
        ts=ts,
        client_order_id=client_tag(execution.orderRef),
        broker_order_id=str(execution.permId) if execution.permId else None,
        costs=to_decimal(round(costs, 6)),
    )


def position_report(position: Any) -> PositionReport:
    return PositionReport(
        instrument_id=stock_id(position.contract.symbol),
        quantity=int(round(float(position.position))),
        average_price=to_decimal(round(float(position.avgCost), 6)),
    )


def account_report(values: list[Any], account: str, currency: str = CURRENCY, now: datetime | None = None) -> AccountReport:
    """``TotalCashValue`` and ``NetLiquidation`` in USD (or BASE) -> ``AccountReport``."""
    found: dict[str, Decimal] = {}
    for value in values:
        if value.account != account or value.currency not in (currency, "BASE"):
            continue
        if value.tag in ("TotalCashValue", "NetLiquidation") and (value.tag not in found or value.currency == currency):
            try:
                found[value.tag] = to_decimal(value.value)
            except ValueError:
                continue
    missing = [tag for tag in ("TotalCashValue", "NetLiquidation") if tag not in found]
    if missing:
        raise ValueError(f"ibkr: account {account} reported no {', '.join(missing)}")
    return AccountReport(account=f"ibkr:{account}", currency=currency, cash=found["TotalCashValue"],
                         equity=found["NetLiquidation"], ts=now)


def candle(instrument: str, bar: Any, interval_seconds: int) -> Candle | None:
    """An IB ``BarData`` / ``RealTimeBar`` -> ``Candle``; None for a bar with a bad price."""
    moment = getattr(bar, "time", None) or getattr(bar, "date", None)
    if isinstance(moment, datetime):
        ts = _as_utc(moment)
    else:
        return None
    prices = [getattr(bar, "open_", None) if hasattr(bar, "open_") else bar.open, bar.high, bar.low, bar.close]
    if any(p is None or not math.isfinite(float(p)) or float(p) <= 0 for p in prices):
        return None
    volume = float(getattr(bar, "volume", 0) or 0)
    return Candle(instrument_id=instrument, ts=ts, interval_seconds=interval_seconds, open=float(prices[0]),
                  high=float(prices[1]), low=float(prices[2]), close=float(prices[3]),
                  volume=int(volume) if math.isfinite(volume) and volume > 0 else 0)


def quote(instrument: str, ticker: Any, now: datetime) -> Quote | None:
    """A snapshot ``Ticker`` -> ``Quote``; None when the last price is missing or not a positive number."""

    def good(value: Any) -> float | None:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        return number if math.isfinite(number) and number > 0 else None

    last = good(ticker.last) or good(getattr(ticker, "close", None))
    if last is None:
        return None
    moment = _as_utc(getattr(ticker, "time", None)) or now
    return Quote(instrument_id=instrument, ts=moment, last=last, bid=good(ticker.bid), ask=good(ticker.ask))
