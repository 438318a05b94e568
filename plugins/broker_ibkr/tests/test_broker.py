"""The ibkr broker with the unmodified client (ib_async and ib_insync) against the fake TWS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from tradekit.errors import BrokerError, OrderRejected, TemporaryBrokerError
from tradekit.model import Order, OrderStatus, OrderType, Side
from tradekit.ports import Broker

from tradekit_ibkr.broker import IBKRBroker
from tradekit_ibkr.fake.gateway import FakeGateway

SYNC_REQUESTS = {61, 5, 99, 6, 76, 7}  # positions, open orders, completed orders, account updates (+multi), executions


def order(tag: str, side: Side = Side.BUY, quantity: int = 100, **fields: object) -> Order:
    return Order(client_order_id=tag, account="ibkr:DU7654321", instrument_id="SMART:TSLA", side=side,
                 quantity=quantity, **fields)  # type: ignore[arg-type]


def test_broker_connect_syncs_like_tws_and_names_the_account(broker: IBKRBroker, gateway: FakeGateway) -> None:
    assert isinstance(broker, Broker)
    assert broker.account == "ibkr:DU7654321"
    assert SYNC_REQUESTS <= set(gateway.requests_seen())
    assert gateway.connected_clients() == [17]


def test_broker_positions_opened_in_tws_are_reported(make_broker: Callable[..., IBKRBroker], gateway: FakeGateway) -> None:
    gateway.manual_trade("AAPL", 50, 228.0)
    gateway.manual_trade("TSLA", -30, 446.0)
    broker = make_broker()
    broker.connect()
    positions = {(p.instrument_id, p.quantity, p.average_price) for p in broker.position_reports()}
    assert positions == {("SMART:AAPL", 50, Decimal("228")), ("SMART:TSLA", -30, Decimal("446"))}
    fills = broker.fill_reports()
    assert [(f.instrument_id, f.side, f.quantity, f.client_order_id) for f in fills] == [
        ("SMART:AAPL", Side.BUY, 50, None), ("SMART:TSLA", Side.SELL, 30, None)]


def test_broker_account_report_has_cash_and_net_liquidation(broker: IBKRBroker, gateway: FakeGateway) -> None:
    report = broker.account_report()
    assert report.account == "ibkr:DU7654321" and report.currency == "USD"
    assert report.cash == Decimal("100000.00") and report.equity == Decimal("100000.00")


def test_broker_market_order_fills_at_the_gateway_price(broker: IBKRBroker, gateway: FakeGateway) -> None:
    price = gateway.last_price("TSLA")
    broker_id = broker.submit_order(order("tk-entry-1"))
    (placed,) = [o for o in gateway.orders() if o.order_ref == "tk-entry-1"]
    assert broker_id == str(placed.perm_id)
    (report,) = [r for r in broker.order_reports() if r.client_order_id == "tk-entry-1"]
    assert (report.status, report.filled_quantity, report.average_price) == (OrderStatus.FILLED, 100, Decimal(str(price)))
    (fill,) = broker.fill_reports()
    assert (fill.client_order_id, fill.broker_order_id, fill.price, fill.quantity) == ("tk-entry-1", broker_id, Decimal(str(price)), 100)
    assert fill.ts == gateway.now and fill.costs == Decimal("1")
    assert [(p.instrument_id, p.quantity) for p in broker.position_reports()] == [("SMART:TSLA", 100)]
    assert broker.account_report().cash == Decimal("100000") - Decimal(str(price)) * 100 - 1


def test_broker_stop_order_works_moves_and_cancels(broker: IBKRBroker, gateway: FakeGateway) -> None:
    stop_id = broker.submit_order(order("tk-stop-1", Side.SELL, order_type=OrderType.STOP_MARKET, stop_price=Decimal("430.00")))
    (report,) = [r for r in broker.order_reports() if r.broker_order_id == stop_id]
    assert (report.status, report.order_type, report.stop_price) == (OrderStatus.ACCEPTED, OrderType.STOP_MARKET, Decimal("430"))
    broker.modify_order(stop_id, stop_price=Decimal("431.50"))
    assert [o.stop_price for o in gateway.orders() if str(o.perm_id) == stop_id] == [431.5]
    broker.cancel_order(stop_id)
    (report,) = [r for r in broker.order_reports() if r.broker_order_id == stop_id]
    assert report.status is OrderStatus.CANCELLED and report.status_reason == ""
    assert [o.status for o in gateway.orders()] == ["Cancelled"]


def test_broker_limit_order_rests_until_the_market_reaches_it(broker: IBKRBroker, gateway: FakeGateway, market) -> None:
    limit = Decimal(str(round(gateway.last_price("TSLA") - 0.6, 2)))
    limit_id = broker.submit_order(order("tk-lmt-1", order_type=OrderType.LIMIT, limit_price=limit))
    assert broker.fill_reports() == []
    # walk the fake's day until a bar trades through the limit, as the exchange would
    bars = market.bars("TSLA", gateway.now, gateway.now + timedelta(hours=6))
    touching = next(bar for bar in bars if bar.low <= float(limit))
    gateway.set_time(touching.end)
    (fill,) = broker.fill_reports()
    assert fill.broker_order_id == limit_id and fill.price == Decimal(str(min(touching.open, float(limit))))
    assert fill.ts == touching.end


def test_broker_rejected_order_raises_with_the_tws_reason(broker: IBKRBroker, gateway: FakeGateway) -> None:
    gateway.reject_next_order("Order rejected - reason:Insufficient buying power")
    with pytest.raises(OrderRejected, match="Insufficient buying power"):
        broker.submit_order(order("tk-big-1", quantity=100_000))
    (report,) = [r for r in broker.order_reports() if r.client_order_id == "tk-big-1"]
    assert report.status is OrderStatus.REJECTED
    assert broker.position_reports() == []


def test_broker_delayed_fill_arrives_after_the_ack(broker: IBKRBroker, gateway: FakeGateway) -> None:
    gateway.delay_fills(10)
    broker_id = broker.submit_order(order("tk-slow-1"))
    (report,) = [r for r in broker.order_reports() if r.broker_order_id == broker_id]
    assert report.status is OrderStatus.ACCEPTED and broker.fill_reports() == []
    gateway.advance(10)
    (fill,) = broker.fill_reports()
    assert fill.client_order_id == "tk-slow-1" and fill.ts == gateway.now
    (report,) = [r for r in broker.order_reports() if r.broker_order_id == broker_id]
    assert report.status is OrderStatus.FILLED


def test_broker_lost_ack_is_found_by_tag_not_sent_twice(make_broker: Callable[..., IBKRBroker], gateway: FakeGateway) -> None:
    broker = make_broker(request_timeout=0.3)
    broker.connect()
    gateway.swallow_next_acks(1)
    broker_id = broker.submit_order(order("tk-once-1"))
    placed = [o for o in gateway.orders() if o.order_ref == "tk-once-1"]
    assert len(placed) == 1 and broker_id == str(placed[0].perm_id)


def test_broker_dropped_connection_reconnects_on_next_call(broker: IBKRBroker, gateway: FakeGateway) -> None:
    gateway.manual_trade("AAPL", 10, 228.0)
    gateway.drop_connections()
    assert gateway.wait_for(lambda: gateway.connected_clients() == [])
    assert [p.quantity for p in broker.position_reports()] == [10]
    assert broker.reconnects == 1 and broker.is_connected()


def test_broker_refuses_orders_outside_a_live_run(make_broker: Callable[..., IBKRBroker], gateway: FakeGateway) -> None:
    broker = make_broker(live=False)
    broker.connect()
    with pytest.raises(BrokerError, match="--live"):
        broker.submit_order(order("tk-paper-1"))
    assert gateway.orders() == []


def test_broker_readonly_sends_no_orders(make_broker: Callable[..., IBKRBroker], gateway: FakeGateway) -> None:
    broker = make_broker(readonly=True)
    broker.connect()
    with pytest.raises(BrokerError, match="readonly"):
        broker.submit_order(order("tk-ro-1"))
    assert 5 not in gateway.requests_seen()  # a read-only connect skips the open-order sync, as TWS expects


def test_broker_connect_refused_retries_on_the_context_clock(make_broker: Callable[..., IBKRBroker], gateway: FakeGateway, clock) -> None:
    broker = make_broker()
    gateway.stop()
    started = clock.now()
    with pytest.raises(TemporaryBrokerError, match="nothing listens"):
        broker.connect()
    assert clock.now() - started == timedelta(seconds=3)  # backoff 1 s + 2 s between three tries, simulated


def test_broker_client_id_in_use_names_the_key(make_broker: Callable[..., IBKRBroker]) -> None:
    make_broker().connect()
    second = make_broker()
    with pytest.raises(BrokerError, match=r"client id 17 is already in use.*brokers\.ibkr\.client_id"):
        second.connect()


def test_broker_unknown_account_is_a_config_error(make_broker: Callable[..., IBKRBroker]) -> None:
    from tradekit.errors import ConfigError

    with pytest.raises(ConfigError, match=r"brokers\.ibkr\.account: DU000 is not managed"):
        make_broker(account="DU000").connect()


def test_broker_connection_lost_mid_request_retries_on_a_new_session(broker: IBKRBroker, gateway: FakeGateway) -> None:
    gateway.manual_trade("TSLA", 20, 445.0)
    gateway.hang_up_on_next(7)  # the gateway dies while our executions request is in flight
    fills = broker.fill_reports()
    assert [(f.instrument_id, f.quantity) for f in fills] == [("SMART:TSLA", 20)]
    assert broker.reconnects == 1
