from __future__ import annotations

from datetime import timedelta

import pytest
from tradekit.clock import SimClock
from tradekit.errors import AuthError, OrderRejected, TemporaryBrokerError
from tradekit.model import Order, OrderType, Side

from tradekit_zerodha.fake import FakeKite

from .conftest import requests_to

ID = "NFO:NIFTY25O0725000PE"


def order(client_id: str, **changes: object) -> Order:
    values: dict[str, object] = {"client_order_id": client_id, "account": "zerodha:AB1234", "instrument_id": ID,
                                 "side": Side.BUY, "quantity": 75}
    values.update(changes)
    return Order(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["timeout", "disconnect", "429", "500", "502", "503"])
def test_transient_failure_on_read_is_retried_after_one_second(broker, fake: FakeKite, clock: SimClock, kind: str) -> None:
    fake.faults.next(kind, path="/portfolio/positions")
    started = clock.now()
    assert broker.position_reports() == []
    assert len(requests_to(fake, "GET", "/portfolio/positions")) == 2
    assert timedelta(seconds=1) <= clock.now() - started < timedelta(seconds=1.5)  # back-off, not the 2nd step
    assert [(endpoint, attempt) for endpoint, attempt, _ in broker.client.retries] == [("GET /portfolio/positions", 1)]


def test_persistent_5xx_gives_up_after_three_tries_with_backoff(broker, fake: FakeKite, clock: SimClock) -> None:
    fake.faults.next("503", path="/quote", times=3)
    started = clock.now()
    with pytest.raises(TemporaryBrokerError, match="HTTP 503"):
        broker.quotes([ID])
    assert clock.now() - started >= timedelta(seconds=3)  # 1 + 2 s back-off (and the quote rate limit)
    assert len(fake.faults.fired) == 3


def test_expired_token_is_auth_error_naming_login(broker, fake: FakeKite) -> None:
    fake.expire_tokens()
    with pytest.raises(AuthError) as caught:
        broker.order_reports()
    message = str(caught.value)
    assert "tradekit zerodha login" in message and "\n" not in message
    assert len(requests_to(fake, "GET", "/orders")) == 1  # never retried


def test_token_fault_on_connect_is_auth_error(make_broker, fake: FakeKite) -> None:
    fake.faults.next("token", path="/user/profile")
    with pytest.raises(AuthError, match="tradekit zerodha login"):
        make_broker().connect()


def test_order_exception_is_a_clear_rejection(broker, fake: FakeKite) -> None:
    fake.faults.next("order", path="/orders/regular", method="POST")
    with pytest.raises(OrderRejected, match="Kite rejected the order: Order rejected by the RMS"):
        broker.submit_order(order("tkrms"))
    assert len(requests_to(fake, "POST", "/orders/regular")) == 1


def test_placement_timeout_after_arrival_is_found_by_tag_not_resent(broker, fake: FakeKite) -> None:
    fake.faults.next("timeout", path="/orders/regular", method="POST")
    broker_id = broker.submit_order(order("tkdup1"))
    assert len(requests_to(fake, "POST", "/orders/regular")) == 1
    tagged = [o for o in fake.book.orders.values() if o["tag"] == "tkdup1"]
    assert [o["order_id"] for o in tagged] == [broker_id]


@pytest.mark.parametrize("kind", ["hang", "disconnect", "503"])
def test_placement_lost_before_arrival_is_sent_once_more(broker, fake: FakeKite, kind: str) -> None:
    fake.faults.next(kind, path="/orders/regular", method="POST")
    broker_id = broker.submit_order(order("tkdup2"))
    assert len(requests_to(fake, "POST", "/orders/regular")) == 2
    tagged = [o for o in fake.book.orders.values() if o["tag"] == "tkdup2"]
    assert [o["order_id"] for o in tagged] == [broker_id]


def test_placement_times_out_every_time_but_never_duplicates(broker, fake: FakeKite) -> None:
    fake.faults.next("timeout", path="/orders/regular", method="POST", times=3)
    broker_id = broker.submit_order(order("tkdup3"))
    assert len([o for o in fake.book.orders.values() if o["tag"] == "tkdup3"]) == 1
    assert fake.book.orders[broker_id]["tag"] == "tkdup3"


def test_cancel_timeout_after_arrival_is_not_an_error(broker, fake: FakeKite) -> None:
    from decimal import Decimal

    broker_id = broker.submit_order(order("tkc1", order_type=OrderType.LIMIT, limit_price=Decimal("0.05")))
    fake.faults.next("timeout", path=f"/orders/regular/{broker_id}", method="DELETE")
    broker.cancel_order(broker_id)
    assert fake.book.orders[broker_id]["status"] == "CANCELLED"
