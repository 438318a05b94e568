"""The order lifecycle: the transition table is the only way a status changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from itertools import product

import pytest

from tradekit.errors import InvalidTransition
from tradekit.model.orders import OPEN_STATUSES, TRANSITIONS, Order, OrderStatus, OrderType, Side

ALLOWED = [(a, b) for a, b in product(OrderStatus, OrderStatus) if b in TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a, b in product(OrderStatus, OrderStatus) if b not in TRANSITIONS[a]]


def _order(status: OrderStatus = OrderStatus.SUBMITTED, quantity: int = 10) -> Order:
    return Order(
        client_order_id="TK-1", account="paper:default", instrument_id="NSE:TESTCO", side=Side.BUY, quantity=quantity,
        created_at=datetime(2025, 12, 9, 4, 0, tzinfo=UTC), status=status,
    )  # fmt: skip


def test_transition_table_covers_every_status() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)
    assert len(ALLOWED) + len(FORBIDDEN) == len(OrderStatus) ** 2
    assert ALLOWED and FORBIDDEN


@pytest.mark.parametrize(("start", "target"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_order_transition_allowed_pair_changes_status(start: OrderStatus, target: OrderStatus) -> None:
    order = _order(start)
    moved = order.transition(target, status_reason="why")
    assert moved.status is target
    assert moved.status_reason == "why"
    assert order.status is start  # frozen: the original is untouched


@pytest.mark.parametrize(("start", "target"), FORBIDDEN, ids=[f"{a}->{b}" for a, b in FORBIDDEN])
def test_order_transition_forbidden_pair_raises_invalid_transition(start: OrderStatus, target: OrderStatus) -> None:
    with pytest.raises(InvalidTransition, match=f"{start} -> {target}"):
        _order(start).transition(target)


@pytest.mark.parametrize("status", [OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED])
def test_order_terminal_status_not_open_and_allows_nothing(status: OrderStatus) -> None:
    assert not _order(status).is_open
    assert TRANSITIONS[status] == frozenset()


def test_order_open_statuses_are_exactly_the_non_terminal_ones() -> None:
    assert OPEN_STATUSES == {s for s in OrderStatus if TRANSITIONS[s]}


def test_order_with_fill_partial_then_complete_weighted_average() -> None:
    order = _order(OrderStatus.ACCEPTED)
    partial = order.with_fill(4, Decimal("100.10"))
    assert (partial.status, partial.filled_quantity, partial.remaining) == (OrderStatus.PARTIALLY_FILLED, 4, 6)
    assert partial.average_fill_price == Decimal("100.10")
    done = partial.with_fill(6, Decimal("100.20"))
    assert (done.status, done.filled_quantity, done.remaining) == (OrderStatus.FILLED, 10, 0)
    assert done.average_fill_price == (Decimal("100.10") * 4 + Decimal("100.20") * 6) / 10  # 100.16
    assert done.average_fill_price == Decimal("100.16")


def test_order_with_fill_whole_quantity_from_submitted_filled() -> None:
    done = _order(OrderStatus.SUBMITTED).with_fill(10, Decimal("99.95"))
    assert done.status is OrderStatus.FILLED
    assert done.average_fill_price == Decimal("99.95")


@pytest.mark.parametrize("quantity", [11, 0, -1])
def test_order_with_fill_beyond_remaining_or_not_positive_refused(quantity: int) -> None:
    with pytest.raises(InvalidTransition, match="remaining 10"):
        _order(OrderStatus.ACCEPTED).with_fill(quantity, Decimal("100"))


def test_order_with_fill_after_partial_beyond_remaining_refused() -> None:
    partial = _order(OrderStatus.ACCEPTED).with_fill(7, Decimal("100"))
    with pytest.raises(InvalidTransition, match="exceeds remaining 3"):
        partial.with_fill(4, Decimal("100"))


def test_order_with_fill_on_cancelled_order_raises_invalid_transition() -> None:
    with pytest.raises(InvalidTransition):
        _order(OrderStatus.CANCELLED).with_fill(1, Decimal("100"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"quantity": 0}, "quantity must be positive"), ({"order_type": OrderType.LIMIT}, "needs a limit price"),
     ({"order_type": OrderType.STOP_MARKET}, "needs a stop price")],
)  # fmt: skip
def test_order_invalid_fields_raise_value_error_naming_order(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=f"TK-1.*{message}"):
        replace(_order(), **changes)


def test_order_to_dict_from_dict_round_trip_equal() -> None:
    order = replace(
        _order(OrderStatus.ACCEPTED), order_type=OrderType.STOP_LIMIT, stop_price=Decimal("97.00"),
        limit_price=Decimal("96.50"), broker_order_id="B7", signal_price=Decimal("101.5"), reason="INITIAL_STOP",
    ).with_fill(3, Decimal("96.95"))  # fmt: skip
    assert Order.from_dict(order.to_dict()) == order
