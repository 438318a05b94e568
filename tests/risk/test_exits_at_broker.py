"""Partial exits and stop moves are real orders at the broker; partial fills and slippage are recorded per trade."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tests.risk.desk import ACCOUNT, open_desk

from tradekit.model.book import Book
from tradekit.model.events import DayOpened, FillRecorded, OrderAccepted, OrderSubmitted
from tradekit.model.fills import Fill
from tradekit.model.intents import MoveStop
from tradekit.model.orders import Order, OrderStatus, OrderType, Side

TESTCO = "NSE:TESTCO"


def _venue_orders(desk) -> list:
    return sorted(desk.engine.broker.order_reports(), key=lambda r: r.broker_order_id)


def test_partial_exit_and_stop_move_are_orders_at_the_broker_with_slippage(tmp_path: Path) -> None:
    desk = open_desk(tmp_path / "home", tmp_path / "data", paper={"slippage_bps": 10})
    try:
        desk.at(5)
        desk.enter(TESTCO, 50, 999.0, stop="950")  # the market fills 1000 + 10 bps = 1001.00: 2.00 worse than the signal
        stop = next(o for o in desk.book.orders.values() if o.order_type is OrderType.STOP_MARKET)
        desk.exit(TESTCO, quantity=20, price=1000.0)  # partial exit: 20 sold at 999.00, 1.00 worse
        desk.act(MoveStop(TESTCO, Decimal("990"), "BREAK_EVEN_STOP"))
        venue = {r.broker_order_id: r for r in _venue_orders(desk)}
        partial = [r for r in venue.values() if r.side is Side.SELL and r.status is OrderStatus.FILLED]
        assert [r.filled_quantity for r in partial] == [20]
        working_stop = venue[stop.broker_order_id]
        assert working_stop.status is OrderStatus.ACCEPTED and working_stop.quantity == 30  # resized to what is left
        assert desk.book.orders[stop.client_order_id].stop_price == Decimal("990")
        assert working_stop.stop_price == Decimal("990")  # moved at the broker, not only in the book
        desk.exit(TESTCO, price=1000.0)  # the rest: 30 at 999.00
        assert desk.book.orders[stop.client_order_id].status is OrderStatus.CANCELLED
        assert venue_state_has_no_working_order(desk)
        desk.store.flush(desk.book)
        row = desk.store.query("SELECT quantity, entry_price, exit_price, slippage, partial_exits, exit_reason FROM trades")
        assert len(row) == 1
        quantity, entry, exit_price, slippage, partials, reason = row[0]
        assert (quantity, entry, exit_price, partials, reason) == (50, Decimal("1001"), Decimal("999"), 1, "TEST_EXIT")
        assert slippage == Decimal("150")  # 50 x 2.00 entry + 20 x 1.00 + 30 x 1.00 exits
    finally:
        desk.close()


def venue_state_has_no_working_order(desk) -> bool:
    return all(r.status not in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED) for r in desk.engine.broker.order_reports())


def test_partial_fills_accumulate_on_the_order_and_the_position() -> None:
    book = Book()
    when = datetime(2025, 12, 8, 4, 0, tzinfo=UTC)
    book.apply(DayOpened(ts=when, account=ACCOUNT, day=when.date(), cash=Decimal(100000)))
    order = Order(client_order_id="TK1", account=ACCOUNT, instrument_id=TESTCO, side=Side.BUY, quantity=100,
                  order_type=OrderType.MARKET, strategy="example", reason="ENTRY", created_at=when, signal_price=Decimal("100"))
    book.apply(OrderSubmitted(ts=when, account=ACCOUNT, order=order))
    book.apply(OrderAccepted(ts=when, account=ACCOUNT, client_order_id="TK1", broker_order_id="B1"))
    for number, (quantity, price) in enumerate([(40, "100.5"), (60, "101")]):
        fill = Fill(fill_id=f"F{number}", account=ACCOUNT, instrument_id=TESTCO, side=Side.BUY, quantity=quantity,
                    price=Decimal(price), ts=when + timedelta(seconds=number), client_order_id="TK1", broker_order_id="B1")
        book.apply(FillRecorded(ts=fill.ts, account=ACCOUNT, fill=fill, strategy="example"))
        if number == 0:
            assert book.orders["TK1"].status is OrderStatus.PARTIALLY_FILLED
            assert book.orders["TK1"].remaining == 60 and book.position(ACCOUNT, TESTCO).quantity == 40
    assert book.orders["TK1"].status is OrderStatus.FILLED
    assert book.position(ACCOUNT, TESTCO).quantity == 100
    assert book.position(ACCOUNT, TESTCO).average_price == Decimal("100.8")
    assert book.open_trades[(ACCOUNT, TESTCO)].slippage == Decimal("80")  # 40 x 0.50 + 60 x 1.00 against the signal
