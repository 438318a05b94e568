"""The requirements' sync story against the Zerodha plugin talking to its fake Kite server (real kiteconnect client).

tradekit knows 525 of one option and 75 of another; by hand in the Kite app
the user closes the second, reduces the first to 300, buys a third, and a
fourth was carried overnight. ``sync`` adds two, removes one, updates one;
Kite's ``NFO:`` prefixes end up as the exchange.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tradekit.clock import SimClock
from tradekit.services.setup import workspace
from tradekit.services.sync import run_reconcile
from tradekit.store import DuckDBStore

fake_module = pytest.importorskip("tradekit_zerodha.fake")

DAY = datetime(2025, 10, 6, 10, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
HELD, CLOSED, OVERNIGHT, BOUGHT = "NIFTY25O0725000CE", "NIFTY25O0725000PE", "NIFTY25O0725200PE", "NIFTY25O1424800CE"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    with fake_module.FakeKite(fake_module.SyntheticNiftyDay(DAY.date()), clock=SimClock(DAY), hang_seconds=0.5) as server:
        monkeypatch.setenv("KITE_API_KEY", server.api_key)
        monkeypatch.setenv("KITE_ACCESS_TOKEN", server.issue_access_token())
        yield server


@pytest.fixture
def sync(fake: object, isolated_home: Path) -> Callable[..., object]:
    def call(apply: bool = True) -> object:
        ws = workspace(isolated_home, overrides={"brokers": {"zerodha": {"root": fake.root, "timeout_seconds": 2}}})  # type: ignore[attr-defined]
        return run_reconcile(ws, "zerodha", apply=apply, source="sync")

    return call


def test_sync_zerodha_story_two_added_one_removed_one_reduced(fake, sync, isolated_home: Path) -> None:  # type: ignore[no-untyped-def]
    fake.app.trade(HELD, "BUY", 525)
    fake.app.trade(CLOSED, "BUY", 75)
    first = sync()
    assert sorted(first.result.summary()["added"]) == sorted([f"NFO:{CLOSED}", f"NFO:{HELD}"])

    fake.app.square_off(CLOSED)
    fake.app.reduce_to(HELD, 300)
    fake.app.hold_overnight(OVERNIGHT, 150, 88.4)
    fake.app.trade(BOUGHT, "BUY", 75)
    preview = sync(apply=False)
    assert not preview.result.in_sync and not preview.applied
    outcome = sync()
    summary = outcome.result.summary()
    assert sorted(summary["added"]) == sorted([f"NFO:{BOUGHT}", f"NFO:{OVERNIGHT}"])
    assert summary["removed"] == [f"NFO:{CLOSED}"] and summary["updated"] == [f"NFO:{HELD}"] and summary["unchanged"] == []
    rows = {d["symbol"]: d for d in outcome.to_dict()["differences"] if d["change"]}
    assert {row["exchange"] for row in rows.values()} == {"NFO"}  # the NFO: prefix became the exchange field
    assert rows[OVERNIGHT]["kind"] == "external"  # carried overnight: no fill today, only the position says so
    assert rows[BOUGHT]["kind"] == "matched"  # bought today: explained by its fill

    assert sync(apply=False).result.in_sync
    store = DuckDBStore(isolated_home / "tradekit.duckdb", readonly=True)
    try:
        positions = store.query("SELECT instrument_id, quantity, average_price, strategy, external FROM positions "
                                "WHERE quantity <> 0 ORDER BY instrument_id")
        account, cash = store.query("SELECT account, cash FROM accounts")[0]
        audit = store.query("SELECT kind, instrument_id, reason FROM reconcile_audit WHERE kind = 'external'")
    finally:
        store.close()
    by_id = {row[0]: row[1:] for row in positions}
    assert set(by_id) == {f"NFO:{HELD}", f"NFO:{OVERNIGHT}", f"NFO:{BOUGHT}"}
    assert by_id[f"NFO:{HELD}"][0] == 300
    assert by_id[f"NFO:{OVERNIGHT}"] == (150, Decimal("88.4"), "external", True)
    assert account.startswith("zerodha:")
    assert audit == [("external", f"NFO:{OVERNIGHT}", "held at the broker, unknown to tradekit (traded outside tradekit)")]
    assert json.dumps(outcome.to_dict(), default=str)  # serialisable for --json
    assert cash is not None
