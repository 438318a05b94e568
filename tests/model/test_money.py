"""Money helpers: only finite numbers enter the book; prices snap to the tick."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradekit.model.money import is_on_tick, round_money, snap_to_tick, to_decimal


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), float("-inf"), Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"),
     "nan", "inf", "abc", "", True, False, np.float64("nan"), np.float32("inf")],
)  # fmt: skip
def test_to_decimal_not_finite_or_bool_raises_value_error(value: object) -> None:
    with pytest.raises(ValueError):
        to_decimal(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.1, Decimal("0.1")), (np.float64(0.1), Decimal("0.1")), (np.int64(75), Decimal(75)), (np.int32(-3), Decimal(-3)),
     (42, Decimal(42)), (" 101.05 ", Decimal("101.05")), (Decimal("2.50"), Decimal("2.50"))],
)  # fmt: skip
def test_to_decimal_numbers_and_numpy_scalars_converted_exactly(value: object, expected: Decimal) -> None:
    result = to_decimal(value)
    assert isinstance(result, Decimal)
    assert result == expected


@pytest.mark.parametrize(
    ("price", "tick", "expected"),
    [("100.03", "0.05", "100.05"), ("100.02", "0.05", "100.00"), ("100.025", "0.05", "100.00"),  # tie -> even tick 2000
     ("100.075", "0.05", "100.10"), ("100", "0.05", "100.00"), ("187.3", "0.25", "187.25"), ("0.013", "0.01", "0.01"),
     ("12.345", "0", "12.345")],
)  # fmt: skip
def test_snap_to_tick_hand_cases_nearest_tick(price: str, tick: str, expected: str) -> None:
    result = snap_to_tick(Decimal(price), Decimal(tick))
    assert result == Decimal(expected)
    assert str(result) == expected


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=4),
    st.sampled_from([Decimal("0.05"), Decimal("0.01"), Decimal("0.10"), Decimal("0.25"), Decimal("1")]),
)
def test_snap_to_tick_any_price_on_tick_within_half_tick(price: Decimal, tick: Decimal) -> None:
    snapped = snap_to_tick(price, tick)
    assert is_on_tick(snapped, tick)
    assert abs(snapped - price) <= tick / 2


def test_round_money_half_up_to_cents() -> None:
    assert round_money(Decimal("26.934005")) == Decimal("26.93")
    assert round_money(Decimal("0.005")) == Decimal("0.01")
    assert round_money(Decimal("-0.005")) == Decimal("-0.01")
