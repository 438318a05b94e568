"""The shared retry and rate-limit mechanism, on injected sleeps and a simulated clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tradekit.clock import SimClock
from tradekit.errors import AuthError, BrokerError, OrderRejected, TemporaryBrokerError
from tradekit.retry import RateLimiter, RetryPolicy, place_order_safely


class Flaky:
    """Fails with the given errors in turn, then answers."""

    def __init__(self, *errors: Exception, answer: str = "ok") -> None:
        self.errors = list(errors)
        self.calls = 0
        self.answer = answer

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.answer


def policy(slept: list[float], tries: int = 3) -> RetryPolicy:
    return RetryPolicy(tries=tries, sleep=slept.append)


def test_retry_temporary_errors_retried_with_backoff_then_success() -> None:
    slept: list[float] = []
    operation = Flaky(TemporaryBrokerError("timeout"), TemporaryBrokerError("502"))
    retries: list[tuple[int, str]] = []
    assert policy(slept).call(operation, on_retry=lambda n, e: retries.append((n, str(e)))) == "ok"
    assert operation.calls == 3
    assert slept == [1.0, 2.0]
    assert retries == [(1, "timeout"), (2, "502")]


def test_retry_backoff_one_two_four_then_last_error_raised() -> None:
    slept: list[float] = []
    operation = Flaky(*(TemporaryBrokerError(f"fail {i}") for i in range(4)))
    with pytest.raises(TemporaryBrokerError, match="fail 3"):
        policy(slept, tries=4).call(operation)
    assert operation.calls == 4
    assert slept == [1.0, 2.0, 4.0]


def test_retry_delay_beyond_schedule_repeats_last() -> None:
    assert [RetryPolicy().delay(n) for n in range(5)] == [1.0, 2.0, 4.0, 4.0, 4.0]


@pytest.mark.parametrize("error", [OrderRejected("bad lot"), AuthError("run tradekit zerodha login"), BrokerError("500?"), ValueError("x")])
def test_retry_non_temporary_error_raised_at_once_without_sleep(error: Exception) -> None:
    slept: list[float] = []
    operation = Flaky(error)
    with pytest.raises(type(error)):
        policy(slept).call(operation)
    assert operation.calls == 1 and slept == []


class FakeBroker:
    """A broker whose order endpoint can time out after (or before) the order arrived."""

    def __init__(self, *, arrives_despite_timeout: list[bool]) -> None:
        self.plan = list(arrives_despite_timeout)
        self.orders: dict[str, str] = {}  # tag -> broker order id
        self.sent = 0
        self.lookups = 0

    def place(self, tag: str) -> str:
        self.sent += 1
        broker_id = f"B{self.sent}"
        if self.plan:
            if self.plan.pop(0):
                self.orders[tag] = broker_id  # arrived; the answer was lost
            raise TemporaryBrokerError("read timed out")
        self.orders[tag] = broker_id
        return broker_id

    def find(self, tag: str) -> str | None:
        self.lookups += 1
        return self.orders.get(tag)


def test_place_order_safely_timeout_after_arrival_never_resends() -> None:
    slept: list[float] = []
    broker = FakeBroker(arrives_despite_timeout=[True])
    broker_id = place_order_safely(lambda: broker.place("TK-1"), lambda: broker.find("TK-1"), policy(slept))
    assert broker_id == "B1"
    assert broker.sent == 1  # found by tag: not sent again
    assert list(broker.orders) == ["TK-1"]
    assert slept == [1.0]


def test_place_order_safely_timeout_before_arrival_resends_once() -> None:
    slept: list[float] = []
    broker = FakeBroker(arrives_despite_timeout=[False])
    broker_id = place_order_safely(lambda: broker.place("TK-1"), lambda: broker.find("TK-1"), policy(slept))
    assert broker_id == "B2"
    assert broker.sent == 2 and broker.lookups == 1
    assert broker.orders == {"TK-1": "B2"}


def test_place_order_safely_last_attempt_arrived_found_by_final_lookup() -> None:
    slept: list[float] = []
    broker = FakeBroker(arrives_despite_timeout=[False, False, True])
    assert place_order_safely(lambda: broker.place("T"), lambda: broker.find("T"), policy(slept)) == "B3"
    assert broker.sent == 3 and slept == [1.0, 2.0]


def test_place_order_safely_never_arrives_raises_after_tries() -> None:
    slept: list[float] = []
    broker = FakeBroker(arrives_despite_timeout=[False, False, False])
    with pytest.raises(TemporaryBrokerError, match="read timed out"):
        place_order_safely(lambda: broker.place("T"), lambda: broker.find("T"), policy(slept))
    assert broker.sent == 3 and broker.orders == {}


def test_place_order_safely_rejection_not_retried() -> None:
    slept: list[float] = []
    calls = Flaky(OrderRejected("insufficient funds"))
    with pytest.raises(OrderRejected):
        place_order_safely(calls, lambda: None, policy(slept))
    assert calls.calls == 1 and slept == []


def test_rate_limiter_waits_on_simulated_clock() -> None:
    clock = SimClock(datetime(2025, 12, 9, 3, 45, tzinfo=UTC))
    start = clock.monotonic()
    limiter = RateLimiter(rate=2, per=1.0, burst=3, clock=clock.monotonic, sleep=clock.sleep)
    waits = [limiter.acquire() for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]  # the burst
    assert waits[3:] == pytest.approx([0.5, 0.5])  # then one token per half second
    assert clock.monotonic() - start == pytest.approx(1.0)
    clock.advance(10)  # idle time refills only up to the burst
    assert [limiter.acquire() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.0, 0.5])


def test_rate_limiter_bad_rate_raises_value_error() -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate=0)
