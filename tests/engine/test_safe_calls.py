"""Strategy code runs behind one guard: its failures and its non-JSON state become one-line StrategyErrors."""

from __future__ import annotations

import math

import pytest

from tradekit.engine.safe import call_strategy
from tradekit.errors import StrategyError
from tradekit.ports.strategy import Decision


def test_state_that_is_not_plain_json_is_refused_naming_strategy_and_hook() -> None:
    with pytest.raises(StrategyError, match=r"strategy 'demo' on_candles returned state that is not plain JSON data"):
        call_strategy("demo", "on_candles", lambda: Decision(state={"seen": {1, 2}}))


def test_an_unchanged_state_passes_and_a_changed_one_is_checked_again() -> None:
    previous = {"vwap": [1.5, 2.0], "entries": 1}
    same = call_strategy("demo", "on_quotes", lambda: Decision(state={"vwap": [1.5, 2.0], "entries": 1}), previous=previous)
    assert same.state == previous
    with pytest.raises(StrategyError, match="not plain JSON"):
        call_strategy("demo", "on_quotes", lambda: Decision(state={**previous, "when": {3}}), previous=previous)


def test_a_nan_appearing_in_the_state_is_refused_even_when_the_rest_is_unchanged() -> None:
    previous = {"peak": 101.5, "entries": 1}
    with pytest.raises(StrategyError, match="not plain JSON"):
        call_strategy("demo", "on_quotes", lambda: Decision(state={"peak": float("nan"), "entries": 1}), previous=previous)


def test_a_failing_hook_and_a_wrong_return_type_are_strategy_errors() -> None:
    def broken() -> Decision:
        raise KeyError("NIFTY")

    with pytest.raises(StrategyError, match=r"strategy 'demo' failed in on_fill: KeyError: 'NIFTY'"):
        call_strategy("demo", "on_fill", broken)
    with pytest.raises(StrategyError, match="returned dict, expected Decision"):
        call_strategy("demo", "start", lambda: {"state": {}})
