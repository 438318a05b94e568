"""Requirements, crash recovery scenario 4, at the level of the Broker port.

tradekit holds a long position protected by a stop working at IB; tradekit
goes down; the stop fills at the broker; a new broker instance (a restarted
tradekit) finds the fill, with the broker's price and time, after its
watermark, and the position gone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from tradekit.model import Order, OrderStatus, OrderType, Side

from tradekit_ibkr.broker import IBKRBroker
from tradekit_ibkr.fake.gateway import FakeGateway


def _order(tag: str, side: Side, **fields: object) -> Order:
    return Order(client_order_id=tag, account="ibkr:DU7654321", instrument_id="SMART:TSLA", side=side, quantity=100,
                 **fields)  # type: ignore[arg-type]


def _enter_with_stop(broker: IBKRBroker, stop: Decimal) -> tuple[str, object]:
    broker.submit_order(_order("ps60-TSLA-entry-1", Side.BUY))
    stop_id = broker.submit_order(_order("ps60-TSLA-stop-1", Side.SELL, order_type=OrderType.STOP_MARKET, stop_price=stop))
    watermark = max(f.ts for f in broker.fill_reports())
    return stop_id, watermark


def test_recovery_stop_filled_in_tws_while_down_is_found_after_restart(
    make_broker: Callable[..., IBKRBroker], gateway: FakeGateway
) -> None:
    first = make_broker()
    first.connect()
    stop_id, watermark = _enter_with_stop(first, Decimal("440.00"))
    first.close()  # tradekit crashes
    assert gateway.wait_for(lambda: gateway.connected_clients() == [])

    gateway.advance(95)
    gateway.fill_order(order_ref="ps60-TSLA-stop-1", price=439.87)  # the broker fills the stop (slipped)
    broker_time = gateway.now

    restarted = make_broker()
    restarted.connect()
    (fill,) = restarted.fill_reports(since=watermark + timedelta(microseconds=1))
    assert (fill.client_order_id, fill.broker_order_id, fill.side, fill.quantity) == ("ps60-TSLA-stop-1", stop_id, Side.SELL, 100)
    assert fill.price == Decimal("439.87") and fill.ts == broker_time
    (stop,) = [r for r in restarted.order_reports() if r.client_order_id == "ps60-TSLA-stop-1"]
    assert (stop.status, stop.filled_quantity, stop.average_price) == (OrderStatus.FILLED, 100, Decimal("439.87"))
    assert restarted.position_reports() == []


def test_recovery_stop_triggered_by_the_market_while_down(
    make_broker: Callable[..., IBKRBroker], gateway: FakeGateway, market
) -> None:
    first = make_broker()
    first.connect()
    entry = gateway.last_price("TSLA")
    lows = [bar for bar in market.bars("TSLA", gateway.now, gateway.now + timedelta(hours=6))]
    # a stop the market will reach later in the day, with a few bars in between
    target = next(bar for bar in lows[20:] if bar.low < entry - 0.3)
    stop = Decimal(str(round(target.low + 0.01, 2)))
    stop_id, watermark = _enter_with_stop(first, stop)
    first.close()

    gateway.set_time(target.end)  # hours of market pass while tradekit is down
    (execution,) = [e for e in gateway.executions() if e.order_ref == "ps60-TSLA-stop-1"]

    restarted = make_broker()
    restarted.connect()
    fills = restarted.fill_reports(since=watermark + timedelta(microseconds=1))
    assert [(f.broker_order_id, f.price, f.ts) for f in fills] == [(stop_id, Decimal(str(execution.price)), execution.time)]
    assert execution.price <= float(stop) and execution.time <= target.end
    assert restarted.position_reports() == []


def test_recovery_working_stop_survives_a_restart_and_can_be_moved(
    make_broker: Callable[..., IBKRBroker], gateway: FakeGateway
) -> None:
    first = make_broker()
    first.connect()
    stop_id, _ = _enter_with_stop(first, Decimal("430.00"))
    first.close()
    restarted = make_broker()
    restarted.connect()
    (stop,) = [r for r in restarted.order_reports() if r.broker_order_id == stop_id]
    assert stop.status is OrderStatus.ACCEPTED and stop.client_order_id == "ps60-TSLA-stop-1"
    restarted.modify_order(stop_id, stop_price=Decimal("445.25"))  # break-even after target 1
    assert [o.stop_price for o in gateway.orders() if str(o.perm_id) == stop_id] == [445.25]
    assert [(p.instrument_id, p.quantity) for p in restarted.position_reports()] == [("SMART:TSLA", 100)]
