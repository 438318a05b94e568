from __future__ import annotations

from decimal import Decimal

import pytest
from tradekit.errors import OrderRejected
from tradekit.model import Order, OrderStatus, OrderType, Side

from tradekit_zerodha.fake import FakeKite

from .conftest import requests_to

SYMBOL = "NIFTY25O0725000CE"
ID = f"NFO:{SYMBOL}"


def order(client_id: str, **changes: object) -> Order:
    values: dict[str, object] = {"client_order_id": client_id, "account": "zerodha:AB1234", "instrument_id": ID,
                                 "side": Side.BUY, "quantity": 75}
    values.update(changes)
    return Order(**values)  # type: ignore[arg-type]


def test_market_order_carries_tag_and_is_reported(broker, fake: FakeKite) -> None:
    broker_id = broker.submit_order(order("tk20251006x0001", quantity=150))
    placed = fake.book.orders[broker_id]
    assert placed["tag"] == "tk20251006x0001" and placed["product"] == "MIS"
    assert placed["market_protection"] == -1 and len(broker_id) == 19
    reports = {r.broker_order_id: r for r in broker.order_reports()}
    report = reports[broker_id]
    assert report.client_order_id == "tk20251006x0001" and report.status is OrderStatus.FILLED
    assert report.filled_quantity == 150 and report.instrument_id == ID
    assert report.average_price == Decimal(str(fake.book.trades[0]["average_price"]))
    fills = broker.fill_reports()
    assert [(f.client_order_id, f.broker_order_id, f.quantity) for f in fills] == [("tk20251006x0001", broker_id, 150)]
    assert fills[0].ts.tzinfo is not None and fills[0].account == "zerodha:AB1234"
    assert broker.fill_reports(since=fills[0].ts.replace(hour=11)) == []


def test_limit_order_modify_and_cancel(broker, fake: FakeKite) -> None:
    broker_id = broker.submit_order(order("tk2", order_type=OrderType.LIMIT, limit_price=Decimal("1.05")))
    assert {r.broker_order_id: r.status for r in broker.order_reports()}[broker_id] is OrderStatus.ACCEPTED
    broker.modify_order(broker_id, limit_price=Decimal("1.10"), quantity=150)
    assert fake.book.orders[broker_id]["price"] == 1.10 and fake.book.orders[broker_id]["quantity"] == 150
    broker.cancel_order(broker_id)
    report = {r.broker_order_id: r for r in broker.order_reports()}[broker_id]
    assert report.status is OrderStatus.CANCELLED and report.quantity == 150
    with pytest.raises(OrderRejected, match="cancelled"):
        broker.cancel_order(broker_id)


def test_stop_market_on_option_is_sent_as_stop_limit(broker, fake: FakeKite) -> None:
    stop = order("tk3", side=Side.SELL, order_type=OrderType.STOP_MARKET, stop_price=Decimal("10.00"))
    broker_id = broker.submit_order(stop)
    placed = fake.book.orders[broker_id]
    assert placed["order_type"] == "SL" and placed["status"] == "TRIGGER PENDING"
    assert placed["trigger_price"] == 10.0 and placed["price"] == 9.5  # 5 % slack below, on the tick


def test_too_long_tag_is_rejected_before_sending(broker, fake: FakeKite) -> None:
    with pytest.raises(OrderRejected, match="at most 20"):
        broker.submit_order(order("x" * 21))
    assert requests_to(fake, "POST", "/orders/regular") == []


def test_input_exception_becomes_rejection_without_retry(broker, fake: FakeKite) -> None:
    with pytest.raises(OrderRejected, match="multiple of lot size"):
        broker.submit_order(order("tk4", quantity=70))
    assert len(requests_to(fake, "POST", "/orders/regular")) == 1
    assert not fake.book.orders


def test_market_protection_off_is_refused_by_kite(make_broker, fake: FakeKite) -> None:
    fake.book.require_market_protection = True
    broker = make_broker(market_protection=0)
    with pytest.raises(OrderRejected, match="market protection"):
        broker.submit_order(order("tk5"))
    accepted = make_broker().submit_order(order("tk6"))
    assert fake.book.orders[accepted]["status"] == "COMPLETE"


def test_account_report_cash_and_equity(broker, fake: FakeKite) -> None:
    before = broker.account_report()
    assert before.cash == Decimal("500000.0") == before.equity and before.currency == "INR"
    broker.submit_order(order("tk7"))
    after = broker.account_report()
    paid = Decimal(str(fake.book.trades[0]["average_price"])) * 75
    assert after.cash == before.cash - paid
    assert after.equity == after.cash + paid  # marked at the same last price it was bought at
