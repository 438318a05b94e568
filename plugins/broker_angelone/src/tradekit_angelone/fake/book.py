"""The fake's account: orders, trades, net positions and funds, matched against the price source.

Rows are rendered the way SmartAPI sends them (position numbers as strings,
lowercase order statuses, ``updatetime`` like ``20-Oct-2020 13:10:59``,
``filltime`` as ``HH:MM:SS``). Orders placed in the "app" (``app_trade``)
carry no ``ordertag``, like a trade made in Angel's own app.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tradekit_angelone.fake.market import IST, Listing, PriceSource, angel_expiry

LIVE = ("open", "trigger pending")


class BookError(Exception):
    """A request the fake refuses with a ``status: false`` body."""

    def __init__(self, errorcode: str, message: str) -> None:
        super().__init__(message)
        self.errorcode = errorcode
        self.message = message


@dataclass
class FakeOrder:
    orderid: str
    uniqueorderid: str
    listing: Listing
    variety: str
    ordertype: str
    producttype: str
    duration: str
    transactiontype: str
    quantity: int
    price: float
    triggerprice: float
    ordertag: str
    status: str = "open"
    text: str = ""
    filled: int = 0
    averageprice: float = 0.0
    triggered: bool = False
    updated: datetime | None = None

    def row(self) -> dict[str, Any]:
        listing = self.listing
        stamp = self.updated.astimezone(IST).strftime("%d-%b-%Y %H:%M:%S") if self.updated else ""
        return {
            "variety": self.variety,
            "ordertype": self.ordertype,
            "producttype": self.producttype,
            "duration": self.duration,
            "price": self.price,
            "triggerprice": self.triggerprice,
            "quantity": str(self.quantity),
            "disclosedquantity": "0",
            "squareoff": 0.0,
            "stoploss": 0.0,
            "trailingstoploss": 0.0,
            "tradingsymbol": listing.symbol,
            "transactiontype": self.transactiontype,
            "exchange": listing.exchange,
            "symboltoken": listing.token,
            "ordertag": self.ordertag,
            "instrumenttype": listing.instrumenttype,
            "strikeprice": float(listing.strike or -1),
            "optiontype": listing.right or "",
            "expirydate": angel_expiry(listing.expiry) if listing.expiry else "",
            "lotsize": str(listing.lot_size),
            "cancelsize": str(self.quantity - self.filled if self.status == "cancelled" else 0),
            "averageprice": round(self.averageprice, 2),
            "filledshares": str(self.filled),
            "unfilledshares": str(self.quantity - self.filled),
            "orderid": self.orderid,
            "text": self.text,
            "status": self.status,
            "orderstatus": self.status,
            "updatetime": stamp,
            "exchtime": stamp,
            "exchorderupdatetime": stamp,
            "fillid": "",
            "filltime": "",
            "parentorderid": "",
            "uniqueorderid": self.uniqueorderid,
        }


@dataclass
class PositionLine:
    listing: Listing
    producttype: str
    buyqty: int = 0
    sellqty: int = 0
    buyamount: float = 0.0
    sellamount: float = 0.0
    cfbuyqty: int = 0
    cfsellqty: int = 0
    cfbuyamount: float = 0.0
    cfsellamount: float = 0.0

    def row(self, ltp: float) -> dict[str, str]:
        def avg(amount: float, quantity: int) -> str:
            return f"{amount / quantity:.2f}" if quantity else "0.00"

        listing = self.listing
        total_buy_qty, total_sell_qty = self.buyqty + self.cfbuyqty, self.sellqty + self.cfsellqty
        total_buy, total_sell = self.buyamount + self.cfbuyamount, self.sellamount + self.cfsellamount
        net = total_buy_qty - total_sell_qty
        net_value = total_sell - total_buy
        return {
            "exchange": listing.exchange,
            "symboltoken": listing.token,
            "producttype": self.producttype,
            "tradingsymbol": listing.symbol,
            "symbolname": listing.name,
            "instrumenttype": listing.instrumenttype,
            "priceden": "1.00",
            "pricenum": "1.00",
            "genden": "1.00",
            "gennum": "1.00",
            "precision": "2",
            "multiplier": "-1",
            "boardlotsize": "1",
            "buyqty": str(self.buyqty),
            "sellqty": str(self.sellqty),
            "buyamount": f"{self.buyamount:.2f}",
            "sellamount": f"{self.sellamount:.2f}",
            "symbolgroup": "XX",
            "strikeprice": f"{listing.strike or -1:.2f}",
            "optiontype": listing.right or "",
            "expirydate": angel_expiry(listing.expiry) if listing.expiry else "",
            "lotsize": str(listing.lot_size),
            "cfbuyqty": str(self.cfbuyqty),
            "cfsellqty": str(self.cfsellqty),
            "cfbuyamount": f"{self.cfbuyamount:.2f}",
            "cfsellamount": f"{self.cfsellamount:.2f}",
            "buyavgprice": avg(self.buyamount, self.buyqty),
            "sellavgprice": avg(self.sellamount, self.sellqty),
            "avgnetprice": avg(abs(net_value), abs(net)) if net else "0.00",
            "netvalue": f"{net_value:.2f}",
            "netqty": str(net),
            "totalbuyvalue": f"{total_buy:.2f}",
            "totalsellvalue": f"{total_sell:.2f}",
            "cfbuyavgprice": avg(self.cfbuyamount, self.cfbuyqty),
            "cfsellavgprice": avg(self.cfsellamount, self.cfsellqty),
            "totalbuyavgprice": avg(total_buy, total_buy_qty),
            "totalsellavgprice": avg(total_sell, total_sell_qty),
            "netprice": avg(abs(net_value), abs(net)) if net else "0.00",
            "ltp": f"{ltp:.2f}",
        }


@dataclass
class FakeBook:
    """One client's account at the fake. Thread-safe: the HTTP server is threaded."""

    source: PriceSource
    now: datetime
    cash: float = 1_000_000.0
    orders: dict[str, FakeOrder] = field(default_factory=dict)
    trades: list[dict[str, str]] = field(default_factory=list)
    positions: dict[tuple[str, str], PositionLine] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.now = self.now.astimezone(IST)
        self._listings = {listing.token: listing for listing in self.source.listings()}
        self._by_symbol = {(listing.exchange, listing.symbol): listing for listing in self._listings.values()}
        self._order_ids = itertools.count(1)
        self._fill_ids = itertools.count(1)

    # -- prices ----------------------------------------------------------

    def listing(self, token: str | None = None, symbol: str | None = None, exchange: str = "NFO") -> Listing | None:
        if token is not None and token in self._listings:
            return self._listings[token]
        if symbol is not None:
            return self._by_symbol.get((exchange.upper(), symbol))
        return None

    def ltp(self, listing: Listing) -> float:
        series = self.source.series(listing.token)
        if series is None:
            return 0.0
        return float(series.close[series.index_at(self.now)])

    # -- orders ----------------------------------------------------------

    def place(self, params: dict[str, Any], *, ordertag: str | None = None) -> FakeOrder:
        with self.lock:
            for key in ("variety", "tradingsymbol", "symboltoken", "transactiontype", "exchange", "ordertype", "producttype", "duration", "quantity"):
                if params.get(key) in (None, ""):
                    raise BookError("AB4009", f"Invalid {key}")
            tag = str(params.get("ordertag") or "") if ordertag is None else ordertag
            if len(tag) >= 20:
                raise BookError("AB4008", "ordertag length should be less than 20 characters")
            if str(params["variety"]).upper() not in ("NORMAL", "STOPLOSS", "AMO", "ROBO"):
                raise BookError("AB1008", "Invalid Order Variety")
            try:
                quantity = int(str(params["quantity"]))
                price = float(params.get("price") or 0)
                trigger = float(params.get("triggerprice") or 0)
            except ValueError:
                raise BookError("AB4009", "Invalid quantity or price") from None
            listing = self.listing(str(params["symboltoken"]))
            number = next(self._order_ids)
            order = FakeOrder(
                orderid=f"{self.now:%y%m%d}{number:09d}",
                uniqueorderid=f"fake-{number:08d}-0000-0000-000000000000",
                listing=listing or listing_placeholder(params),
                variety=str(params["variety"]).upper(),
                ordertype=str(params["ordertype"]).upper(),
                producttype=str(params["producttype"]).upper(),
                duration=str(params["duration"]).upper(),
                transactiontype=str(params["transactiontype"]).upper(),
                quantity=quantity,
                price=price,
                triggerprice=trigger,
                ordertag=tag,
                updated=self.now,
            )
            self.orders[order.orderid] = order
            if listing is None or listing.symbol != params["tradingsymbol"]:
                order.status, order.text = "rejected", "Invalid symbol details"
            elif quantity <= 0 or quantity % listing.lot_size:
                order.status, order.text = "rejected", f"Quantity should be a multiple of lot size {listing.lot_size}"
            elif listing.instrumenttype == "AMXIDX":
                order.status, order.text = "rejected", "Index is not tradable"
            elif order.ordertype in ("STOPLOSS_MARKET", "STOPLOSS_LIMIT"):
                order.status = "trigger pending"
            self._match(order, at_placement=True)
            return order

    def modify(self, params: dict[str, Any]) -> FakeOrder:
        with self.lock:
            order = self.orders.get(str(params.get("orderid")))
            if order is None:
                raise BookError("AB1013", "Order not found")
            if order.status not in LIVE:
                raise BookError("AB1013", f"Order is {order.status}, cannot modify")
            if "quantity" in params:
                order.quantity = int(str(params["quantity"]))
            if "price" in params:
                order.price = float(params["price"] or 0)
            if "triggerprice" in params:
                order.triggerprice = float(params["triggerprice"] or 0)
            if "ordertype" in params:
                order.ordertype = str(params["ordertype"]).upper()
            order.updated = self.now
            self._match(order, at_placement=True)
            return order

    def cancel(self, orderid: str) -> FakeOrder:
        with self.lock:
            order = self.orders.get(orderid)
            if order is None:
                raise BookError("AB1013", "Order not found")
            if order.status not in LIVE:
                raise BookError("AB1013", f"Order is {order.status}, cannot cancel")
            order.status, order.updated = "cancelled", self.now
            return order

    def advance(self, moment: datetime) -> None:
        """Move the fake's clock to ``moment``, matching working orders against every bar started on the way.

        A stop or limit the market went through between two requests fills
        at the bar that crossed it (at its level, or at the bar's open when
        the bar gapped through), stamped with that bar's start: what an
        exchange would have done while nobody was asking. Moving back is an
        error; moving to the same time does nothing.
        """
        with self.lock:
            if moment < self.now:
                raise ValueError(f"the fake's clock cannot go back from {self.now} to {moment}")
            if moment == self.now:
                return
            previous = self.now
            for order in list(self.orders.values()):
                if order.status in LIVE:
                    self._match_bars(order, previous, moment)
            self.now = moment.astimezone(IST)  # rows print exchange-local times

    set_time = advance  # the older name, kept for tests and the /_fake/time control

    def _match_bars(self, order: FakeOrder, after: datetime, until: datetime) -> None:
        series = self.source.series(order.listing.token)
        if series is None:
            return
        buy = order.transactiontype == "BUY"
        first, last = bisect.bisect_right(series.starts, after), bisect.bisect_right(series.starts, until)
        for j in range(first, last):
            bar_open, high, low, at = series.open[j], series.high[j], series.low[j], series.starts[j]
            if order.ordertype.startswith("STOPLOSS") and not order.triggered:
                trigger = order.triggerprice
                if not ((buy and high >= trigger) or (not buy and low <= trigger)):
                    continue
                order.triggered, order.status = True, "open"
                if order.ordertype == "STOPLOSS_MARKET":
                    gapped = bar_open >= trigger if buy else bar_open <= trigger
                    self._fill(order, bar_open if gapped else trigger, at)
                    return
            if order.ordertype.endswith("MARKET"):
                self._fill(order, bar_open, at)
                return
            if buy and low <= order.price:
                self._fill(order, min(bar_open, order.price), at)
                return
            if not buy and high >= order.price:
                self._fill(order, max(bar_open, order.price), at)
                return

    def _match(self, order: FakeOrder, *, at_placement: bool) -> None:
        if order.status not in LIVE:
            return
        last = self.ltp(order.listing)
        if last <= 0:
            return
        buy = order.transactiontype == "BUY"
        if order.ordertype.startswith("STOPLOSS") and not order.triggered:
            if (buy and last >= order.triggerprice) or (not buy and last <= order.triggerprice):
                order.triggered = True
                order.status = "open"
            else:
                return
        if order.ordertype.endswith("MARKET"):
            self._fill(order, last)
        elif (buy and last <= order.price) or (not buy and last >= order.price):
            self._fill(order, last if at_placement else order.price)

    def _fill(self, order: FakeOrder, price: float, at: datetime | None = None) -> None:
        quantity = order.quantity - order.filled
        order.averageprice = (order.averageprice * order.filled + price * quantity) / order.quantity
        order.filled = order.quantity
        order.status, order.updated = "complete", at or self.now
        self._record_trade(order, quantity, price, at or self.now)

    def _record_trade(self, order: FakeOrder, quantity: int, price: float, at: datetime) -> None:
        listing = order.listing
        self.trades.append(
            {
                "exchange": listing.exchange,
                "producttype": order.producttype,
                "tradingsymbol": listing.symbol,
                "instrumenttype": listing.instrumenttype,
                "symbolgroup": "XX",
                "strikeprice": f"{listing.strike or -1:.2f}",
                "optiontype": listing.right or "",
                "expirydate": angel_expiry(listing.expiry) if listing.expiry else "",
                "marketlot": str(listing.lot_size),
                "precision": "2",
                "multiplier": "-1",
                "tradevalue": f"{price * quantity:.2f}",
                "transactiontype": order.transactiontype,
                "fillprice": f"{price:.2f}",
                "fillsize": str(quantity),
                "orderid": order.orderid,
                "fillid": f"{next(self._fill_ids):08d}",
                "filltime": at.astimezone(IST).strftime("%H:%M:%S"),
            }
        )
        line = self._line(listing, order.producttype)
        if order.transactiontype == "BUY":
            line.buyqty += quantity
            line.buyamount += price * quantity
            self.cash -= price * quantity
        else:
            line.sellqty += quantity
            line.sellamount += price * quantity
            self.cash += price * quantity

    def _line(self, listing: Listing, producttype: str) -> PositionLine:
        key = (listing.token, producttype)
        if key not in self.positions:
            self.positions[key] = PositionLine(listing, producttype)
        return self.positions[key]

    # -- the "app": activity made outside tradekit ------------------------

    def app_trade(self, symbol: str, side: str, quantity: int, *, exchange: str = "NFO", product: str = "CARRYFORWARD") -> FakeOrder:
        """A market order placed in Angel's own app: no ordertag, filled at the current price."""
        listing = self.listing(symbol=symbol, exchange=exchange)
        if listing is None:
            raise BookError("AB1009", f"Symbol not found: {symbol}")
        params = {
            "variety": "NORMAL", "tradingsymbol": symbol, "symboltoken": listing.token,
            "transactiontype": side.upper(), "exchange": exchange, "ordertype": "MARKET",
            "producttype": product, "duration": "DAY", "quantity": str(quantity),
        }
        return self.place(params, ordertag="")

    def app_carry_forward(self, symbol: str, quantity: int, average_price: float, *, exchange: str = "NFO", product: str = "CARRYFORWARD") -> None:
        """An overnight position (signed ``quantity``) carried into today."""
        listing = self.listing(symbol=symbol, exchange=exchange)
        if listing is None:
            raise BookError("AB1009", f"Symbol not found: {symbol}")
        with self.lock:
            line = self._line(listing, product)
            if quantity > 0:
                line.cfbuyqty += quantity
                line.cfbuyamount += average_price * quantity
            else:
                line.cfsellqty += -quantity
                line.cfsellamount += average_price * -quantity

    # -- rendering ---------------------------------------------------------

    def order_rows(self) -> list[dict[str, Any]]:
        with self.lock:
            return [order.row() for order in self.orders.values()]

    def trade_rows(self) -> list[dict[str, str]]:
        with self.lock:
            return list(self.trades)

    def position_rows(self) -> list[dict[str, str]]:
        with self.lock:
            return [line.row(self.ltp(line.listing)) for line in self.positions.values()]

    def rms(self) -> dict[str, Any]:
        with self.lock:
            marked = 0.0
            unrealized = 0.0
            for line in self.positions.values():
                net = line.buyqty + line.cfbuyqty - line.sellqty - line.cfsellqty
                marked += net * self.ltp(line.listing)
            cf_cost = sum(line.cfbuyamount - line.cfsellamount for line in self.positions.values())
            unrealized = marked - cf_cost
            return {
                "net": f"{self.cash + marked:.2f}",
                "availablecash": f"{self.cash:.2f}",
                "availableintradaypayin": "0.00",
                "availablelimitmargin": "0.00",
                "collateral": "0.00",
                "m2munrealized": f"{unrealized:.2f}",
                "m2mrealized": "0.00",
                "utiliseddebits": "0.00",
                "utilisedspan": None,
                "utilisedoptionpremium": None,
                "utilisedholdingsales": None,
                "utilisedexposure": None,
                "utilisedturnover": None,
                "utilisedpayout": "0.00",
            }


def listing_placeholder(params: dict[str, Any]) -> Listing:
    """Stands in for an unknown symbol so the rejected order can still be listed."""
    return Listing(
        token=str(params.get("symboltoken") or ""), symbol=str(params.get("tradingsymbol") or ""), name="",
        exchange=str(params.get("exchange") or "NFO"), instrumenttype="",
    )
