"""Place, modify, cancel with tradekit's tag; books parsed; faults; no duplicate order on a timeout."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from tradekit.errors import AuthError, BrokerError, OrderRejected, TemporaryBrokerError
from tradekit.model import Order, OrderStatus, OrderType, Side

from tradekit_angelone.fake.market import IST

DAY = date(2026, 11, 23)


def _order(broker, client_order_id: str = "c-0001", **fields) -> Order:
    instrument = broker.option_chain("NIFTY")[20]  # the at-the-money call
    values = {"side": Side.BUY, "quantity": 75}
    values.update(fields)
    return Order(client_order_id=client_order_id, account=broker.account, instrument_id=instrument.id, **values)


def _ltp(fake, instrument_id: str) -> float:
    listing = fake.book.listing(symbol=instrument_id.split(":", 1)[1])
    return fake.book.ltp(listing)


def test_market_order_carries_the_tag_and_books_parse(broker, fake) -> None:
    order = _order(broker)
    order_id = broker.submit_order(order)
    sent = fake.endpoint_calls("placeOrder")
    assert len(sent) == 1 and sent[0]["ordertag"] == "c-0001"
    assert sent[0]["variety"] == "NORMAL" and sent[0]["ordertype"] == "MARKET" and sent[0]["quantity"] == "75"
    [report] = broker.order_reports()
    price = Decimal(str(_ltp(fake, order.instrument_id)))
    assert report.broker_order_id == order_id
    assert report.client_order_id == "c-0001"
    assert report.status is OrderStatus.FILLED
    assert (report.filled_quantity, report.average_price) == (75, price)
    [fill] = broker.fill_reports()
    assert (fill.client_order_id, fill.broker_order_id, fill.quantity, fill.price) == ("c-0001", order_id, 75, price)
    assert fill.side is Side.BUY and fill.ts == datetime.combine(DAY, time(9, 20), tzinfo=IST)
    assert fill.account == broker.account
    [position] = broker.position_reports()
    assert (position.instrument_id, position.quantity, position.average_price) == (order.instrument_id, 75, price)
    assert broker.fill_reports(since=fill.ts + timedelta(seconds=1)) == []


def test_long_client_order_id_is_sent_as_a_short_tag_and_mapped_back(broker, fake) -> None:
    long_id = "oi-momentum-2026-11-23-entry-0001"
    broker.submit_order(_order(broker, long_id))
    tag = fake.endpoint_calls("placeOrder")[0]["ordertag"]
    assert len(tag) < 20 and tag != long_id
    assert [r.client_order_id for r in broker.order_reports()] == [long_id]
    assert [f.client_order_id for f in broker.fill_reports()] == [long_id]


def test_limit_order_is_modified_then_fills_and_another_is_cancelled(broker, fake) -> None:
    probe = _order(broker)
    low = Decimal(str(_ltp(fake, probe.instrument_id))) / 2
    low = low.quantize(Decimal("0.05"))
    first = broker.submit_order(_order(broker, "c-lim-1", order_type=OrderType.LIMIT, limit_price=low))
    second = broker.submit_order(_order(broker, "c-lim-2", order_type=OrderType.LIMIT, limit_price=low))
    reports = {r.client_order_id: r for r in broker.order_reports()}
    assert reports["c-lim-1"].status is OrderStatus.ACCEPTED and reports["c-lim-1"].limit_price == low
    high = (low * 4).quantize(Decimal("0.05"))
    broker.modify_order(first, limit_price=high)
    modify = fake.endpoint_calls("modifyOrder")[0]
    assert modify["orderid"] == first and modify["price"] == f"{high:f}" and modify["symboltoken"]
    broker.cancel_order(second)
    assert fake.endpoint_calls("cancelOrder") == [{"variety": "NORMAL", "orderid": second}]
    reports = {r.client_order_id: r for r in broker.order_reports()}
    assert reports["c-lim-1"].status is OrderStatus.FILLED
    assert reports["c-lim-2"].status is OrderStatus.CANCELLED


def test_stop_order_waits_as_trigger_pending_with_its_stop_price(broker, fake) -> None:
    probe = _order(broker)
    trigger = (Decimal(str(_ltp(fake, probe.instrument_id))) * 2).quantize(Decimal("0.05"))
    broker.submit_order(_order(broker, "c-stop", order_type=OrderType.STOP_MARKET, stop_price=trigger))
    sent = fake.endpoint_calls("placeOrder")[0]
    assert (sent["variety"], sent["ordertype"], sent["triggerprice"]) == ("STOPLOSS", "STOPLOSS_MARKET", f"{trigger:f}")
    [report] = broker.order_reports()
    assert report.status is OrderStatus.ACCEPTED and report.stop_price == trigger


def test_order_rejected_by_the_exchange_shows_in_reports(broker) -> None:
    broker.submit_order(_order(broker, "c-odd", quantity=10))
    [report] = broker.order_reports()
    assert report.status is OrderStatus.REJECTED
    assert "lot size 75" in report.status_reason


def test_status_false_on_placement_is_order_rejected_and_not_retried(broker, fake) -> None:
    fake.faults.inject("placeOrder", "status_false", errorcode="AB4009", message="Invalid price")
    with pytest.raises(OrderRejected, match=r"placeOrder rejected: Invalid price \(AB4009\)"):
        broker.submit_order(_order(broker))
    assert len(fake.endpoint_calls("placeOrder")) == 1
    assert fake.book.orders == {}


def test_placement_that_times_out_but_arrived_is_not_sent_twice(make_broker, fake) -> None:
    broker = make_broker(timeout_seconds=0.3)
    broker.login()
    broker.connect()
    fake.faults.inject("placeOrder", "timeout", apply=True)
    order_id = broker.submit_order(_order(broker))
    assert len(fake.endpoint_calls("placeOrder")) == 1
    assert list(fake.book.orders) == [order_id]
    assert fake.faults.fired == [("placeOrder", "timeout")]


def test_placement_dropped_before_arrival_is_sent_again_once(broker, fake, clock) -> None:
    fake.faults.inject("placeOrder", "disconnect")
    before = clock.now()
    order_id = broker.submit_order(_order(broker))
    assert len(fake.endpoint_calls("placeOrder")) == 2
    assert list(fake.book.orders) == [order_id]
    assert clock.now() - before >= timedelta(seconds=1)  # the back-off was slept on the SimClock


def test_invalid_token_at_placement_refreshes_and_places_once(broker, fake) -> None:
    fake.faults.inject("placeOrder", "invalid_token")
    order_id = broker.submit_order(_order(broker))
    assert len(fake.endpoint_calls("generateTokens")) == 1
    assert list(fake.book.orders) == [order_id]


@pytest.mark.parametrize("kind", ["rate_limit", "too_many_requests", "server_error", "busy", "disconnect"])
def test_transient_faults_are_retried_with_backoff(broker, fake, clock, kind: str) -> None:
    fake.faults.inject("getPosition", kind, times=2)
    before = clock.now()
    assert broker.position_reports() == []
    assert len(fake.endpoint_calls("getPosition")) == 3
    assert clock.now() - before >= timedelta(seconds=3)  # 1 s then 2 s


def test_transient_fault_that_persists_raises_after_three_tries(broker, fake) -> None:
    fake.faults.inject("getTradeBook", "rate_limit", times=5)
    with pytest.raises(TemporaryBrokerError, match="rate limited"):
        broker.fill_reports()
    assert len(fake.endpoint_calls("getTradeBook")) == 3


def test_read_timeout_is_temporary_and_retried(make_broker, fake) -> None:
    broker = make_broker(timeout_seconds=0.3, retries=2)
    broker.login()
    broker.connect()
    fake.faults.inject("getRMS", "timeout")
    report = broker.account_report()
    assert report.cash == Decimal("1000000.00")
    assert len(fake.endpoint_calls("getRMS")) == 2


def test_other_status_false_is_a_clear_broker_error(broker, fake) -> None:
    fake.faults.inject("getOrderBook", "status_false", errorcode="AB1013", message="Order not found")
    with pytest.raises(BrokerError, match=r"getOrderBook failed: Order not found \(AB1013\)") as raised:
        broker.order_reports()
    assert not isinstance(raised.value, (TemporaryBrokerError, AuthError))


def test_cancel_of_unknown_order_names_it(broker) -> None:
    with pytest.raises(BrokerError, match="order 999 is not in today's order book"):
        broker.cancel_order("999")


def test_broker_implements_the_port(broker) -> None:
    from tradekit.ports import Broker

    assert isinstance(broker, Broker)
    assert broker.name == "angelone"


def test_stop_order_triggers_when_the_fake_clock_passes_the_price(broker, fake, source) -> None:
    instrument = broker.option_chain("NIFTY")[20]
    listing = fake.book.listing(symbol=instrument.symbol)
    series = source.series(listing.token)
    now = series.index_at(fake.book.now)
    later = min(range(now + 1, len(series.close)), key=lambda i: series.close[i])  # the day's low after now
    assert series.close[later] < series.close[now]
    trigger = Decimal(str(series.close[later])) + Decimal("0.05")
    order = Order(
        client_order_id="c-sl", account=broker.account, instrument_id=instrument.id, side=Side.SELL, quantity=75,
        order_type=OrderType.STOP_MARKET, stop_price=trigger,
    )
    broker.submit_order(order)
    assert broker.order_reports()[0].status is OrderStatus.ACCEPTED
    fake.set_time(series.starts[later])
    [report] = broker.order_reports()
    assert report.status is OrderStatus.FILLED
    assert report.average_price is not None and report.average_price <= trigger
    assert [p.quantity for p in broker.position_reports()] == [-75]


def test_cancel_that_times_out_but_arrived_is_not_sent_again(make_broker, fake) -> None:
    broker = make_broker(timeout_seconds=0.3)
    broker.login()
    broker.connect()
    probe = _order(broker)
    low = (Decimal(str(_ltp(fake, probe.instrument_id))) / 2).quantize(Decimal("0.05"))
    order_id = broker.submit_order(_order(broker, order_type=OrderType.LIMIT, limit_price=low))
    fake.faults.inject("cancelOrder", "timeout", apply=True)
    broker.cancel_order(order_id)
    assert len(fake.endpoint_calls("cancelOrder")) == 1
    assert [r.status for r in broker.order_reports()] == [OrderStatus.CANCELLED]


def test_orders_are_refused_outside_a_live_run_and_nothing_is_sent(make_broker, fake) -> None:
    broker = make_broker(live=False)
    broker.login()
    broker.connect()
    with pytest.raises(BrokerError, match="refusing to send order c-0001 at Angel One outside a --live run"):
        broker.submit_order(_order(broker))
    with pytest.raises(BrokerError, match="outside a --live run"):
        broker.cancel_order("1")
    assert fake.endpoint_calls("placeOrder") == [] and fake.endpoint_calls("cancelOrder") == []
    assert len(broker.quotes([_order(broker).instrument_id])) == 1  # reading is fine
