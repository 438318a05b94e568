"""longest_runs against hand-worked sequences and a plain reference that walks each scope's trades one by one."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.report.streaks import longest_runs


def test_runs_are_counted_inside_each_scope_only() -> None:
    # exit order:    a  b  a  a  b  a  a  b
    ids = np.array([1, 2, 1, 1, 2, 1, 1, 2])
    signs = np.array([1, -1, 1, 1, -1, 0, -1, 1])
    # a: W W W 0 L -> 3 wins (b's trades in between do not break it), 1 loss; b: L L W -> 1 win, 2 losses
    assert longest_runs(ids, signs) == {1: (3, 1), 2: (1, 2)}


def test_a_zero_breaks_a_streak_and_only_losses_give_no_wins() -> None:
    assert longest_runs(np.array([7, 7, 7, 7, 7]), np.array([-1, -1, 0, -1, -1])) == {7: (0, 2)}
    assert longest_runs(np.array([], dtype=np.int64), np.array([], dtype=np.int8)) == {}


def reference(ids: list[int], signs: list[int]) -> dict[int, tuple[int, int]]:
    best: dict[int, list[int]] = {}
    current: dict[int, tuple[int, int]] = {}
    for scope, sign in zip(ids, signs):
        last, length = current.get(scope, (0, 0))
        length = length + 1 if sign == last and sign != 0 else (1 if sign != 0 else 0)
        current[scope] = (sign, length)
        runs = best.setdefault(scope, [0, 0])
        if sign > 0:
            runs[0] = max(runs[0], length)
        elif sign < 0:
            runs[1] = max(runs[1], length)
    return {scope: (w, lo) for scope, (w, lo) in best.items()}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from([-1, 0, 1])), max_size=60), st.booleans())
def test_matches_a_trade_by_trade_walk(trades: list[tuple[int, int]], wide: bool) -> None:
    ids = [scope * (70_000 if wide else 1) for scope, _ in trades]  # also ids past 16 bits (no radix sort)
    signs = [sign for _, sign in trades]
    assert longest_runs(np.array(ids, dtype=np.int64), np.array(signs, dtype=np.int8)) == reference(ids, signs)
