"""Strategy code runs behind one guard: its failures and its non-JSON state become one-line StrategyErrors."""

from __future__ import annotations


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


def test_the_checked_state_text_is_what_the_journal_would_write_for_it() -> None:
    """The check's encoding is reused by the checkpoint: it must equal the journal's own encoding, byte for byte."""
    from datetime import UTC, date, datetime

    from tradekit.engine.safe import state_json
    from tradekit.model.events import StrategyCheckpoint, canonical_json

    states = [{}, {"b": 1, "a": [1.5, None, True, "é"], "c": {"z": {"y": -0.0, "x": 1e300}}}, {"entries": 0, "ce": {"vwap": 101.25}}]
    for state in states:
        decision = call_strategy("demo", "on_candles", lambda s=state: Decision(state=dict(s)))
        text = state_json(decision)
        assert text == canonical_json(state)
        event = StrategyCheckpoint(ts=datetime(2024, 3, 4, 4, 0, tzinfo=UTC), account="paper", strategy="demo",
                                   day=date(2024, 3, 4), state=decision.state, state_json=text)
        plain = StrategyCheckpoint(ts=event.ts, account="paper", strategy="demo", day=date(2024, 3, 4), state=decision.state)
        assert event.payload_text() == plain.payload_text() == canonical_json(plain.to_payload())
        assert event == plain and "state_json" not in event.to_payload()
    unchanged = call_strategy("demo", "on_quotes", lambda: Decision(state={"a": 1}), previous={"a": 1})
    assert state_json(unchanged) is None  # not encoded: the journal encodes it if it must
