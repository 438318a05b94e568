"""Positions created in the fake's "app" (outside tradekit) appear normalised in the port's reports."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

import requests
from tradekit.model import Order, OrderStatus, Side

from tradekit_angelone.fake.market import IST


def test_app_trades_and_carry_forward_appear_in_position_reports(broker, fake) -> None:
    chain = broker.option_chain("NIFTY")
    call, put = chain[20], chain[21]
    fake.app_trade(call.symbol, "SELL", 150)
    fake.app_carry_forward(put.symbol, 75, 120.5)
    reports = {r.instrument_id: r for r in broker.position_reports()}
    assert set(reports) == {call.id, put.id}  # the same ids instruments() uses
    sold_at = Decimal(str(fake.book.ltp(fake.book.listing(symbol=call.symbol))))
    assert (reports[call.id].quantity, reports[call.id].average_price) == (-150, sold_at)
    assert (reports[put.id].quantity, reports[put.id].average_price) == (75, Decimal("120.50"))
    assert reports[put.id].last_price == Decimal(str(fake.book.ltp(fake.book.listing(symbol=put.symbol))))
    [order] = broker.order_reports()
    assert order.client_order_id is None and order.status is OrderStatus.FILLED and order.side is Side.SELL
    [fill] = broker.fill_reports()
    assert fill.client_order_id is None and fill.quantity == 150


def test_day_trade_on_top_of_carry_forward_averages_both(broker, fake) -> None:
    put = broker.option_chain("NIFTY")[21]
    fake.app_carry_forward(put.symbol, 75, 100.0)
    fake.set_time(datetime.combine(fake.source.day, time(10, 0), tzinfo=IST))
    order = Order(client_order_id="c-add", account=broker.account, instrument_id=put.id, side=Side.BUY, quantity=75)
    broker.submit_order(order)
    price = Decimal(str(fake.book.ltp(fake.book.listing(symbol=put.symbol))))
    [report] = broker.position_reports()
    assert report.quantity == 150
    assert report.average_price == ((Decimal(100) + price) / 2).quantize(Decimal("0.01"))


def test_position_closed_in_the_app_disappears_from_reports(broker, fake) -> None:
    call = broker.option_chain("NIFTY")[20]
    fake.app_carry_forward(call.symbol, 75, 90.0)
    assert [r.quantity for r in broker.position_reports()] == [75]
    fake.app_trade(call.symbol, "SELL", 75)
    assert broker.position_reports() == []


def test_app_api_over_http_for_dry_runs(broker, fake) -> None:
    call = broker.option_chain("NIFTY")[20]
    answer = requests.post(f"{fake.url}/_fake/app/trade", json={"tradingsymbol": call.symbol, "side": "BUY", "quantity": 75}, timeout=5)
    assert answer.json()["status"] is True
    answer = requests.post(f"{fake.url}/_fake/faults", json={"endpoint": "getPosition", "kind": "busy"}, timeout=5)
    assert answer.json()["data"]["kind"] == "busy"
    assert [r.quantity for r in broker.position_reports()] == [75]  # retried past the AB1004 answer
    assert fake.faults.fired == [("getPosition", "busy")]
