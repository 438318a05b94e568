"""The fake's order book, trades, positions and cash, in Kite's field names.

Market orders fill at the last price; limit and stop-limit orders wait and
are checked against the market each time the server is asked anything.
Everything is guarded by one lock: the HTTP server is threaded.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tradekit_zerodha.fake.market import IST, FakeInstrument, MarketSource


class KiteError(Exception):
    """Turned by the server into ``{"status":"error","error_type":...}`` with ``http_status``."""

    def __init__(self, error_type: str, message: str, http_status: int) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.http_status = http_status


def input_error(message: str) -> KiteError:
    return KiteError("InputException", message, 400)


def order_error(message: str) -> KiteError:
    return KiteError("OrderException", message, 400)


def kite_time(moment: datetime) -> str:
    return moment.astimezone(IST).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Overnight:
    exchange: str
    tradingsymbol: str
    product: str
    quantity: int
    average_price: float


@dataclass
class Book:
    market: MarketSource
    now: Callable[[], datetime]
    opening_cash: float = 500_000.0
    require_market_protection: bool = False
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    trades: list[dict[str, Any]] = field(default_factory=list)
    overnight: list[Overnight] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self._order_numbers = itertools.count(1)
        self._trade_numbers = itertools.count(1)
        self._instruments = {(i.exchange, i.tradingsymbol): i for i in self.market.instruments()}

    # -- lookups -------------------------------------------------------------------
    def instrument(self, exchange: str, tradingsymbol: str) -> FakeInstrument:
        found = self._instruments.get((exchange, tradingsymbol))
        if found is None:
            raise input_error(f"Invalid `tradingsymbol` {tradingsymbol!r} for exchange {exchange!r}.")
        return found

    def last_price(self, tradingsymbol: str) -> float:
        snapshot = self.market.snapshot(tradingsymbol, self.now())
        if snapshot is None:
            raise input_error(f"No market data for {tradingsymbol}.")
        return snapshot.last

    # -- orders --------------------------------------------------------------------
    def _new_order_id(self) -> str:
        return f"{self.now().astimezone(IST):%y%m%d}{next(self._order_numbers):013d}"

    def place(self, variety: str, params: Mapping[str, str], *, placed_by: str = "AB1234") -> str:
        with self.lock:
            for name in ("exchange", "tradingsymbol", "transaction_type", "quantity", "product", "order_type"):
                if not params.get(name):
                    raise input_error(f"Missing `{name}`.")
            instrument = self.instrument(params["exchange"], params["tradingsymbol"])
            side = params["transaction_type"]
            if side not in ("BUY", "SELL"):
                raise input_error(f"Invalid `transaction_type` {side!r}.")
            order_type = params["order_type"]
            if order_type not in ("MARKET", "LIMIT", "SL", "SL-M"):
                raise input_error(f"Invalid `order_type` {order_type!r}.")
            try:
                quantity = int(params["quantity"])
            except ValueError:
                raise input_error("Invalid `quantity`.") from None
            lot = max(instrument.lot_size, 1)
            if quantity <= 0 or quantity % lot:
                raise input_error(f"Quantity should be a multiple of lot size ({lot}).")
            tag = params.get("tag") or None
            if tag is not None and len(tag) > 20:
                raise input_error("`tag` should be at most 20 characters.")
            if order_type == "SL-M" and instrument.segment == "NFO-OPT":
                raise input_error("SL-M orders are not allowed for index and stock options. Use SL orders.")
            if order_type in ("MARKET", "SL-M") and self.require_market_protection and not params.get("market_protection"):
                raise input_error("Market orders without market protection are not allowed via API.")
            price = float(params.get("price") or 0)
            trigger = float(params.get("trigger_price") or 0)
            if order_type in ("LIMIT", "SL") and price <= 0:
                raise input_error("Invalid `price`.")
            if order_type in ("SL", "SL-M") and trigger <= 0:
                raise input_error("Invalid `trigger_price`.")
            order_id = self._new_order_id()
            stamp = kite_time(self.now())
            order = {
                "placed_by": placed_by, "order_id": order_id, "exchange_order_id": None, "parent_order_id": None,
                "status": "OPEN", "status_message": None, "status_message_raw": None,
                "order_timestamp": stamp, "exchange_update_timestamp": None, "exchange_timestamp": None,
                "variety": variety, "modified": False, "exchange": instrument.exchange,
                "tradingsymbol": instrument.tradingsymbol, "instrument_token": instrument.instrument_token,
                "order_type": order_type, "transaction_type": side, "validity": params.get("validity") or "DAY",
                "validity_ttl": 0, "product": params["product"], "quantity": quantity, "disclosed_quantity": 0,
                "price": price, "trigger_price": trigger, "average_price": 0, "filled_quantity": 0,
                "pending_quantity": quantity, "cancelled_quantity": 0, "market_protection": int(params.get("market_protection") or 0),
                "meta": {}, "tag": tag, "tags": [tag] if tag else [], "guid": f"fake-{order_id}",
            }
            self.orders[order_id] = order
            self.history[order_id] = []
            self._record(order, "PUT ORDER REQ RECEIVED")
            self._record(order, "VALIDATION PENDING")
            self._record(order, "OPEN PENDING")
            order["exchange_order_id"] = f"1{order_id[-15:]}"
            order["exchange_timestamp"] = stamp
            if order_type in ("SL", "SL-M"):
                order["status"] = "TRIGGER PENDING"
            self._record(order, order["status"])
            self._match(order)
            return order_id

    def _record(self, order: dict[str, Any], status: str) -> None:
        snapshot = dict(order)
        snapshot["status"] = status
        self.history[order["order_id"]].append(snapshot)

    def _working(self, order_id: str) -> dict[str, Any]:
        order = self.orders.get(order_id)
        if order is None:
            raise order_error(f"Order {order_id} not found.")
        if order["status"] in ("COMPLETE", "CANCELLED", "REJECTED"):
            raise order_error(f"Order cannot be modified or cancelled as it is {order['status'].lower()}.")
        return order

    def modify(self, order_id: str, params: Mapping[str, str]) -> str:
        with self.lock:
            order = self._working(order_id)
            if params.get("quantity"):
                quantity = int(params["quantity"])
                if quantity < order["filled_quantity"] or quantity <= 0:
                    raise input_error("Invalid `quantity`.")
                order["quantity"] = quantity
                order["pending_quantity"] = quantity - order["filled_quantity"]
            if params.get("price"):
                order["price"] = float(params["price"])
            if params.get("trigger_price"):
                order["trigger_price"] = float(params["trigger_price"])
            if params.get("order_type"):
                order["order_type"] = params["order_type"]
            order["modified"] = True
            self._record(order, "MODIFY PENDING")
            self._record(order, order["status"])
            self._match(order)
            return order_id

    def cancel(self, order_id: str) -> str:
        with self.lock:
            order = self._working(order_id)
            self._record(order, "CANCEL PENDING")
            order["status"] = "CANCELLED"
            order["cancelled_quantity"] = order["pending_quantity"]
            order["pending_quantity"] = 0
            order["status_message"] = "Cancelled by user"
            self._record(order, "CANCELLED")
            return order_id

    def reject(self, order_id: str, message: str) -> None:
        with self.lock:
            order = self._working(order_id)
            order["status"] = "REJECTED"
            order["status_message"] = message
            order["pending_quantity"] = 0
            self._record(order, "REJECTED")

    # -- matching ------------------------------------------------------------------
    def _match(self, order: dict[str, Any], *, force_price: float | None = None) -> None:
        if order["status"] not in ("OPEN", "TRIGGER PENDING"):
            return
        last = force_price if force_price is not None else self.last_price(order["tradingsymbol"])
        buy = order["transaction_type"] == "BUY"
        if order["status"] == "TRIGGER PENDING" and force_price is None:
            triggered = last >= order["trigger_price"] if buy else last <= order["trigger_price"]
            if not triggered:
                return
            order["status"] = "OPEN"
            order["order_type"] = "LIMIT" if order["order_type"] == "SL" else "MARKET"
            self._record(order, "OPEN")
        if force_price is None and order["order_type"] == "LIMIT":
            if (buy and last > order["price"]) or (not buy and last < order["price"]):
                return
        self._fill(order, order["pending_quantity"], last)

    def _fill(self, order: dict[str, Any], quantity: int, price: float) -> None:
        stamp = kite_time(self.now())
        previous = order["average_price"] * order["filled_quantity"]
        order["filled_quantity"] += quantity
        order["pending_quantity"] -= quantity
        order["average_price"] = round((previous + price * quantity) / order["filled_quantity"], 2)
        order["exchange_update_timestamp"] = stamp
        if order["pending_quantity"] == 0:
            order["status"] = "COMPLETE"
        self._record(order, order["status"])
        self.trades.append({
            "trade_id": f"{next(self._trade_numbers):08d}", "order_id": order["order_id"],
            "exchange": order["exchange"], "tradingsymbol": order["tradingsymbol"],
            "instrument_token": order["instrument_token"], "product": order["product"],
            "average_price": price, "quantity": quantity, "exchange_order_id": order["exchange_order_id"],
            "transaction_type": order["transaction_type"], "fill_timestamp": stamp,
            "order_timestamp": order["order_timestamp"][11:], "exchange_timestamp": stamp,
        })

    def evaluate(self) -> None:
        """Check every working order against the market now."""
        with self.lock:
            for order in list(self.orders.values()):
                self._match(order)

    def fill(self, order_id: str, price: float | None = None) -> None:
        """Fill a working order at ``price`` (the last price when None), trigger or not."""
        with self.lock:
            order = self._working(order_id)
            if order["status"] == "TRIGGER PENDING":
                order["status"] = "OPEN"
            self._match(order, force_price=price if price is not None else self.last_price(order["tradingsymbol"]))

    # -- positions and funds -------------------------------------------------------
    def positions(self) -> dict[str, list[dict[str, Any]]]:
        with self.lock:
            keys: dict[tuple[str, str, str], dict[str, Any]] = {}
            for held in self.overnight:
                entry = keys.setdefault((held.exchange, held.tradingsymbol, held.product), _empty())
                entry["overnight_quantity"] += held.quantity
                entry["overnight_average"] = held.average_price
            for trade in self.trades:
                entry = keys.setdefault((trade["exchange"], trade["tradingsymbol"], trade["product"]), _empty())
                entry["fills"].append(trade)
            net, day = [], []
            for (exchange, symbol, product), entry in keys.items():
                instrument = self.instrument(exchange, symbol)
                last = self.last_price(symbol)
                net.append(_position_row(instrument, product, entry, last, include_overnight=True))
                if entry["fills"]:
                    day.append(_position_row(instrument, product, entry, last, include_overnight=False))
            return {"net": net, "day": day}

    def cash(self) -> float:
        with self.lock:
            flow = 0.0
            for trade in self.trades:
                value = trade["average_price"] * trade["quantity"]
                flow += -value if trade["transaction_type"] == "BUY" else value
            return round(self.opening_cash + flow, 2)

    def margins(self) -> dict[str, Any]:
        cash = self.cash()
        equity = {
            "enabled": True, "net": cash,
            "available": {"adhoc_margin": 0, "cash": self.opening_cash, "opening_balance": self.opening_cash,
                          "live_balance": cash, "collateral": 0, "intraday_payin": 0},
            "utilised": {"debits": round(self.opening_cash - cash, 2), "exposure": 0, "m2m_realised": 0,
                         "m2m_unrealised": 0, "option_premium": 0, "payout": 0, "span": 0, "holding_sales": 0,
                         "turnover": 0, "liquid_collateral": 0, "stock_collateral": 0, "delivery": 0},
        }
        commodity = {"enabled": False, "net": 0, "available": {"cash": 0, "live_balance": 0}, "utilised": {}}
        return {"equity": equity, "commodity": commodity}


def _empty() -> dict[str, Any]:
    return {"overnight_quantity": 0, "overnight_average": 0.0, "fills": []}


def _position_row(instrument: FakeInstrument, product: str, entry: dict[str, Any], last: float, *, include_overnight: bool) -> dict[str, Any]:
    buy_q = sell_q = 0
    buy_v = sell_v = 0.0
    for trade in entry["fills"]:
        value = trade["average_price"] * trade["quantity"]
        if trade["transaction_type"] == "BUY":
            buy_q += trade["quantity"]
            buy_v += value
        else:
            sell_q += trade["quantity"]
            sell_v += value
    day_buy_q, day_sell_q, day_buy_v, day_sell_v = buy_q, sell_q, buy_v, sell_v
    overnight = entry["overnight_quantity"] if include_overnight else 0
    if overnight > 0:
        buy_q += overnight
        buy_v += overnight * entry["overnight_average"]
    elif overnight < 0:
        sell_q += -overnight
        sell_v += -overnight * entry["overnight_average"]
    quantity = buy_q - sell_q
    # average of the open side, as Kite's net average_price shows for an open position
    if quantity > 0:
        average = buy_v / buy_q
    elif quantity < 0:
        average = sell_v / sell_q
    else:
        average = 0.0
    pnl = (sell_v - buy_v) + quantity * last
    return {
        "tradingsymbol": instrument.tradingsymbol, "exchange": instrument.exchange,
        "instrument_token": instrument.instrument_token, "product": product, "quantity": quantity,
        "overnight_quantity": overnight, "multiplier": 1, "average_price": round(average, 4),
        "close_price": 0, "last_price": last, "value": round(sell_v - buy_v, 2), "pnl": round(pnl, 2),
        "m2m": round(pnl, 2), "unrealised": round(pnl, 2), "realised": 0,
        "buy_quantity": buy_q, "buy_price": round(buy_v / buy_q, 4) if buy_q else 0, "buy_value": round(buy_v, 2),
        "buy_m2m": round(buy_v, 2), "sell_quantity": sell_q, "sell_price": round(sell_v / sell_q, 4) if sell_q else 0,
        "sell_value": round(sell_v, 2), "sell_m2m": round(sell_v, 2),
        "day_buy_quantity": day_buy_q, "day_buy_price": round(day_buy_v / day_buy_q, 4) if day_buy_q else 0,
        "day_buy_value": round(day_buy_v, 2), "day_sell_quantity": day_sell_q,
        "day_sell_price": round(day_sell_v / day_sell_q, 4) if day_sell_q else 0, "day_sell_value": round(day_sell_v, 2),
    }
