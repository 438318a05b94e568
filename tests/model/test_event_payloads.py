"""Journal payloads: what ``to_payload`` hands the store, and the round trip back through ``event_from_row``."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from tradekit.model.events import DayClosed, RiskStateSet, StrategyCheckpoint, event_from_row

T0 = datetime(2025, 12, 9, 4, 0, tzinfo=UTC)


def _journal_round_trip(event):
    text = json.dumps(event.to_payload(), sort_keys=True)  # what DuckDBStore.flush writes
    return text, event_from_row(event.TYPE, event.ts, event.account, json.loads(text))


def test_checkpoint_state_round_trips_exactly_through_the_journal_text():
    state = {"version": 1, "direction": "PUT", "reference": {"call_oi": 35123625, "candle": "09:15"}, "strike": None,
             "contracts": {"NFO:NIFTY25D0925900PE": [28.0 * 1000, 1000, 2000000, 1765252800]}, "entries_today": 2,
             "position": {"buys": {"PF1": [75, "30.00"]}, "sells": {}, "peak": "33.5", "exit": None, "ratio": 0.1}}
    event = StrategyCheckpoint(ts=T0, account="paper:t", strategy="oi-momentum", day=date(2025, 12, 9), state=state)
    text, back = _journal_round_trip(event)
    assert json.loads(text)["state"] == state
    assert json.loads(text)["day"] == "2025-12-09"
    assert back == event


def test_checkpoint_tuples_in_a_state_journal_as_lists_as_before():
    event = StrategyCheckpoint(ts=T0, account="a", strategy="s", day=date(2025, 12, 9), state={"levels": (1, 2), "n": {"k": [3]}})
    text, back = _journal_round_trip(event)
    assert json.loads(text)["state"] == {"levels": [1, 2], "n": {"k": [3]}}
    assert back.state == {"levels": [1, 2], "n": {"k": [3]}}


def test_other_events_still_encode_decimals_and_dates():
    closed = DayClosed(ts=T0, account="a", day=date(2025, 12, 9), cash=Decimal("100.50"), equity=Decimal("101"))
    text, back = _journal_round_trip(closed)
    assert json.loads(text) == {"cash": "100.50", "day": "2025-12-09", "equity": "101"}
    assert back == closed
    risk = RiskStateSet(ts=T0, account="a", key="latch:KILL", day=date(2025, 12, 9), value={"at": T0, "loss": Decimal("5")})
    assert json.loads(json.dumps(risk.to_payload()))["value"] == {"at": T0.isoformat(), "loss": "5"}
