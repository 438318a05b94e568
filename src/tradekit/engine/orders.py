"""From intents to orders: deterministic client tags, journalled before they are sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tradekit.model.book import Book
from tradekit.model.instruments import Instrument
from tradekit.model.money import to_decimal
from tradekit.model.orders import Order, OrderStatus, OrderType, Side


def client_tag(store_id: str, number: int) -> str:
    """``TK<store id><number>``: alphanumeric and at most 20 characters (Kite's tag limit)."""
    return f"TK{store_id}{number:07d}"


@dataclass(frozen=True)
class OrderFactory:
    account: str
    strategy: str
    store_id: str

    def next_id(self, book: Book) -> str:
        return client_tag(self.store_id, book.order_count.get(self.account, 0) + 1)

    def market(self, book: Book, instrument_id: str, side: Side, quantity: int, reason: str, now: datetime,
               signal_price: float | None, instrument: Instrument | None,
               protective_stop: Decimal | None = None, limit_price: Decimal | None = None) -> Order:
        signal = None
        if signal_price is not None:
            signal = to_decimal(signal_price)
            if instrument is not None:
                signal = instrument.snap(signal)
        return Order(
            client_order_id=self.next_id(book),
            account=self.account,
            instrument_id=instrument_id,
            side=side,
            quantity=quantity,
            order_type=OrderType.LIMIT if limit_price is not None else OrderType.MARKET,
            limit_price=limit_price,
            strategy=self.strategy,
            reason=reason,
            created_at=now,
            signal_price=signal,
            protective_stop=None if protective_stop is None else (instrument.snap(protective_stop) if instrument else protective_stop),
        )

    def stop(self, book: Book, instrument_id: str, side: Side, quantity: int, stop_price: Decimal, reason: str,
             now: datetime, instrument: Instrument | None) -> Order:
        price = instrument.snap(stop_price) if instrument is not None else stop_price
        return Order(
            client_order_id=self.next_id(book),
            account=self.account,
            instrument_id=instrument_id,
            side=side,
            quantity=quantity,
            order_type=OrderType.STOP_MARKET,
            stop_price=price,
            strategy=self.strategy,
            reason=reason,
            created_at=now,
        )


def working_stop(book: Book, account: str, instrument_id: str) -> Order | None:
    """The working protective stop order on a position, if any."""
    trade = book.open_trades.get((account, instrument_id))
    if trade is not None and trade.stop_order_id:
        order = book.orders.get(trade.stop_order_id)
        if order is not None and order.is_open:
            return order
    for order in book.working_orders(account):
        if order.instrument_id == instrument_id and order.order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT):
            return order
    return None


def pending_orders(book: Book, account: str) -> list[Order]:
    """Orders journalled but never acknowledged: the crash may have come before or after sending."""
    return [o for o in book.working_orders(account) if o.status is OrderStatus.SUBMITTED]
