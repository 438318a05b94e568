"""``tradekit sync`` / ``tradekit reconcile --broker angelone`` through the CLI, against positions made in the fake's "app".

The story of docs/requirements.md: positions tradekit does not know are
added (external), one closed in the app is removed, one reduced in the app
is updated; ``reconcile`` shows differences without changing anything and
says so in its exit code. test_app_positions.py covers the port's reports;
this covers the commands, the store and the exit codes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from angelone_sessions import DAY, Rehearsal

from tradekit_angelone.fake.market import IST

EXPIRY = "02DEC25"


def symbol(strike: int, right: str) -> str:
    return f"NIFTY{EXPIRY}{strike}{right}"


@pytest.fixture
def rehearsal(tmp_path: Path, nifty_day: Any) -> Iterator[Rehearsal]:
    day = Rehearsal(tmp_path, nifty_day)
    try:
        assert day.cli("angelone", "login").exit_code == 0
        day.fake.set_time(datetime.combine(DAY, time(10, 0), tzinfo=IST))
        yield day
    finally:
        day.close()


def _json(result: Any) -> dict[str, Any]:
    return json.loads(result.output[result.output.index("{"):])


def _positions(rehearsal: Rehearsal) -> dict[str, tuple[int, Decimal, str]]:
    rows = rehearsal.query("SELECT instrument_id, quantity, average_price, strategy FROM positions WHERE quantity <> 0")
    return {instrument: (quantity, Decimal(str(average)), strategy) for instrument, quantity, average, strategy in rows}


def test_sync_and_reconcile_follow_the_positions_made_in_the_app(rehearsal: Rehearsal) -> None:
    fake = rehearsal.fake
    closed, reduced, new_call, new_put = symbol(25800, "PE"), symbol(26000, "CE"), symbol(25900, "CE"), symbol(25900, "PE")
    fake.app_carry_forward(closed, 75, 40.5)
    fake.app_carry_forward(reduced, 150, 30.0)
    first = rehearsal.cli("sync", "--broker", "angelone", "--json")
    assert first.exit_code == 0, first.output
    assert _json(first)["added"] and len(_json(first)["added"]) == 2
    assert _positions(rehearsal) == {
        f"NFO:{closed}": (75, Decimal("40.5"), "external"),
        f"NFO:{reduced}": (150, Decimal("30"), "external"),
    }
    in_sync = rehearsal.cli("reconcile", "--broker", "angelone")
    assert in_sync.exit_code == 0, in_sync.output
    assert "in sync" in in_sync.output

    # in the app: two new positions, one closed, one reduced
    fake.app_trade(new_call, "BUY", 75)
    fake.app_trade(new_put, "SELL", 150)
    fake.app_trade(closed, "SELL", 75)
    fake.app_trade(reduced, "SELL", 75)
    before = _positions(rehearsal)
    shown = rehearsal.cli("reconcile", "--broker", "angelone", "--json")
    assert shown.exit_code == 1  # differences found (for cron)
    assert _positions(rehearsal) == before  # reconcile without --apply changes nothing

    synced = rehearsal.cli("sync", "--broker", "angelone", "--json")
    assert synced.exit_code == 0, synced.output
    counts = {key: len(_json(synced)[key]) for key in ("added", "removed", "updated", "unchanged")}
    assert counts == {"added": 2, "removed": 1, "updated": 1, "unchanged": 0}
    broker = {report.instrument_id: report for report in _broker_positions(rehearsal)}
    after = _positions(rehearsal)
    assert set(after) == set(broker) == {f"NFO:{new_call}", f"NFO:{new_put}", f"NFO:{reduced}"}
    for instrument, (quantity, _average, strategy) in after.items():
        assert quantity == broker[instrument].quantity and strategy == "external"
    assert after[f"NFO:{new_put}"][0] == -150 and after[f"NFO:{reduced}"][0] == 75
    assert after[f"NFO:{new_call}"][1] == broker[f"NFO:{new_call}"].average_price

    again = rehearsal.cli("reconcile", "--broker", "angelone")
    assert again.exit_code == 0 and "in sync" in again.output
    assert all(rehearsal.endpoint_count(endpoint) == 0 for endpoint in ("placeOrder", "modifyOrder", "cancelOrder"))


def _broker_positions(rehearsal: Rehearsal) -> list[Any]:
    """What SmartAPI reports, read through the plugin with the same documented settings the CLI used."""
    from tradekit.clock import FileClock
    from tradekit.ports import BrokerContext

    from tradekit_angelone.broker import AngelOneBroker

    settings = {"root": rehearsal.fake.root, "scrip_master_url": rehearsal.fake.scrip_master_url}
    context = BrokerContext(name="angelone", settings=settings, home=rehearsal.home, clock=FileClock(rehearsal.clock_path),
                            env=rehearsal.env, log=lambda line: None)
    broker = AngelOneBroker(context)
    broker.connect()
    try:
        return broker.position_reports()
    finally:
        broker.close()


def _app_position_and_stop_setting(rehearsal: Rehearsal) -> str:
    with (rehearsal.home / "tradekit.toml").open("a") as handle:
        handle.write("[sync]\nexternal_stop_pct = 20\n")
    held = symbol(25900, "CE")
    rehearsal.fake.app_carry_forward(held, 75, 40.0)
    return held


def test_sync_places_the_configured_protective_stop_at_angel_one(rehearsal: Rehearsal) -> None:
    """``[sync] external_stop_pct``: a position made in the app gets a real stop-loss order at the broker, journalled
    first and tagged like any tradekit order (before, the plugin refused it: sync did not open it as a live run)."""
    held = _app_position_and_stop_setting(rehearsal)
    result = rehearsal.cli("sync", "--broker", "angelone", "--json", "--yes")
    assert result.exit_code == 0, result.output
    details = _json(result)["details"]
    assert details["warnings"] == [] and len(details["stops"]) == 1 and f"SELL 75 NFO:{held} stop 32" in details["stops"][0]
    assert rehearsal.endpoint_count("placeOrder") == 1
    working = [o for o in rehearsal.fake.book.orders.values() if o.status.lower() not in ("complete", "cancelled", "rejected")]
    assert [(o.variety, o.ordertype, o.transactiontype, o.quantity, o.triggerprice) for o in working] == [
        ("STOPLOSS", "STOPLOSS_MARKET", "SELL", 75, 32.0)]
    assert rehearsal.query("SELECT strategy, reason, status FROM orders WHERE reason = 'EXTERNAL_STOP'") == [
        ("external", "EXTERNAL_STOP", "ACCEPTED")]
    again = rehearsal.cli("reconcile", "--broker", "angelone")
    assert again.exit_code == 0 and "in sync" in again.output  # the stop is tradekit's own, not an unknown order


def test_without_a_terminal_or_yes_sync_places_no_real_stop(rehearsal: Rehearsal) -> None:
    """Real orders are never guessed: from cron (no terminal) without --yes the position is synced, the stop is not placed."""
    held = _app_position_and_stop_setting(rehearsal)
    result = rehearsal.cli("sync", "--broker", "angelone", "--json")
    assert result.exit_code == 0, result.output
    details = _json(result)["details"]
    assert details["stops"] == [] and details["warnings"] == [f"no protective stop placed on NFO:{held}: not confirmed"]
    assert rehearsal.endpoint_count("placeOrder") == 0
    assert _positions(rehearsal) == {f"NFO:{held}": (75, Decimal("40"), "external")}
