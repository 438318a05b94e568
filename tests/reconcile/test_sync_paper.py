"""sync / reconcile / adopt end to end against the paper venue, with orders typed "by hand" into it."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from tradekit.services.doctor import check
from tradekit.services.paper import manual_order
from tradekit.services.setup import Workspace, workspace
from tradekit.store import DuckDBStore

from .conftest import run_day

TESTCO = "NSE:TESTCO"


def store_rows(home: Path, sql: str) -> list[tuple]:
    store = DuckDBStore(home / "tradekit.duckdb", readonly=True)
    try:
        return store.query(sql)
    finally:
        store.close()


def test_sync_paper_manual_trades_added_updated_removed_with_exit_codes(ws: Workspace, traded_home: Path, cli: Callable) -> None:
    assert cli("reconcile").exit_code == 0  # right after a run: in sync
    manual_order(ws, "BUY", TESTCO, 20, None)

    shown = cli("reconcile", "--json")
    assert shown.exit_code == 1, shown.output
    report = json.loads(shown.output)
    assert report["added"] == [TESTCO] and not report["in_sync"]
    assert [d["kind"] for d in report["differences"]] == ["missed_fill", "matched"]
    assert cli("reconcile").exit_code == 1  # reconcile changed nothing

    synced = cli("sync", "--json")
    assert synced.exit_code == 0, synced.output
    assert {k: json.loads(synced.output)[k] for k in ("added", "removed", "updated", "unchanged")} == {
        "added": [TESTCO], "removed": [], "updated": [], "unchanged": []}
    assert cli("reconcile").exit_code == 0

    manual_order(ws, "SELL", TESTCO, 5, None)
    assert json.loads(cli("sync", "--json").output)["updated"] == [TESTCO]
    manual_order(ws, "SELL", TESTCO, 15, None)
    assert json.loads(cli("sync", "--json").output)["removed"] == [TESTCO]
    assert json.loads(cli("sync", "--json").output)["unchanged"] == []

    positions = store_rows(traded_home, f"SELECT quantity, strategy, external FROM positions WHERE instrument_id = '{TESTCO}'")
    assert positions == [(0, "external", True)]
    trades = store_rows(traded_home, "SELECT strategy, quantity, exit_reason, external FROM trades WHERE strategy = 'external'")
    assert trades == [("external", 20, "EXTERNAL", True)]
    audit = store_rows(traded_home, "SELECT source, kind, instrument_id FROM reconcile_audit ORDER BY seq")
    assert audit == [("sync", "missed_fill", TESTCO)] * 3
    venue = json.loads((traded_home / "paper" / "default.json").read_text())
    assert store_rows(traded_home, "SELECT cash FROM accounts")[0][0] == Decimal(venue["cash"])
    store = DuckDBStore(traded_home / "tradekit.duckdb", readonly=True)
    try:
        assert check(store).clean
    finally:
        store.close()


def test_reconcile_on_an_empty_home_names_the_missing_account(isolated_home: Path, cli: Callable) -> None:
    result = cli("reconcile")
    assert result.exit_code != 0 and "no paper account yet" in str(result.exception)


def hold_from_earlier_day(home: Path, quantity: int) -> None:
    """The broker carries a position from an earlier day: in its positions, with no fill today."""
    path = home / "paper" / "default.json"
    venue = json.loads(path.read_text())
    venue["positions"][TESTCO] = {"quantity": quantity, "average_price": "990.00000000"}
    path.write_text(json.dumps(venue))


def test_run_start_reconcile_adds_position_held_at_broker_and_never_enters_it(traded_home: Path) -> None:
    with (traded_home / "tradekit.toml").open("a") as handle:
        handle.write('[sync]\nfiltered_exchanges = ["NFO"]\n')  # NSE equities are in the user's segments
    hold_from_earlier_day(traded_home, 50)

    lines = run_day(traded_home)
    start = [line for line in lines if "reconcile" in line]
    assert "reconcile at start with paper: corrected (added 1, removed 0, updated 0, unchanged 0)" in start[0]
    assert f"external {TESTCO}: tradekit 0, broker 50" in start[1]
    assert not any("sent: BUY" in line for line in lines)  # never opens where the broker holds
    assert ("ALREADY_HELD",) in store_rows(traded_home, "SELECT rule FROM blocks")
    assert store_rows(traded_home, f"SELECT quantity, strategy, external FROM positions WHERE instrument_id = '{TESTCO}'") == [
        (50, "external", True)]
    assert store_rows(traded_home, "SELECT kind, source FROM reconcile_audit") == [("external", "run")]


def test_run_never_enters_position_held_at_broker_outside_the_segment_filter(traded_home: Path) -> None:
    hold_from_earlier_day(traded_home, 50)  # NSE equity: outside the default [sync] filter (NIFTY F&O)
    lines = run_day(traded_home)
    assert any("reconcile at start with paper: in sync" in line for line in lines)
    assert not any("sent: BUY" in line for line in lines)
    assert ("ALREADY_HELD",) in store_rows(traded_home, "SELECT rule FROM blocks")
    assert store_rows(traded_home, f"SELECT quantity FROM positions WHERE instrument_id = '{TESTCO}' AND quantity <> 0") == []


def test_adopt_hands_manual_position_to_strategy_whose_exit_rules_close_it(ws: Workspace, traded_home: Path, cli: Callable) -> None:
    manual_order(ws, "BUY", TESTCO, 50, None)
    assert cli("sync").exit_code == 0
    refused = cli("adopt", "TESTCO", "--strategy", "nonesuch")
    assert refused.exit_code != 0 and "nonesuch" in str(refused.exception)
    adopted = cli("adopt", "testco", "--strategy", "example", "--json")
    assert adopted.exit_code == 0, adopted.output
    assert json.loads(adopted.output)["strategy"] == "example"

    lines = run_day(traded_home)
    assert any("TIME_EXIT" in line and "trade closed" in line for line in lines), lines
    first = store_rows(traded_home, "SELECT strategy, quantity, exit_reason FROM trades ORDER BY exit_ts")
    assert ("example", 50, "TIME_EXIT") in first
    assert store_rows(traded_home, "SELECT kind, before, after FROM reconcile_audit WHERE source = 'adopt'") == [
        ("adopted", "external (external)", "example")]


def test_sync_places_configured_protective_stop_on_external_position(traded_home: Path, cli: Callable) -> None:
    with (traded_home / "tradekit.toml").open("a") as handle:
        handle.write("[sync]\nexternal_stop_pct = 2\n")
    manual_order(workspace(traded_home), "BUY", TESTCO, 10, None)
    result = cli("sync", "--json")
    assert result.exit_code == 0, result.output
    details = json.loads(result.output)["details"]
    assert len(details["stops"]) == 1 and "SELL 10 NSE:TESTCO stop" in details["stops"][0]
    venue = json.loads((traded_home / "paper" / "default.json").read_text())
    working = [o for o in venue["orders"].values() if o["status"] == "ACCEPTED"]
    assert [(o["order_type"], o["quantity"], o["side"]) for o in working] == [("STOP_MARKET", 10, "SELL")]
    average = store_rows(traded_home, f"SELECT average_price FROM positions WHERE instrument_id = '{TESTCO}'")[0][0]
    assert abs(Decimal(working[0]["stop_price"]) - average * Decimal("0.98")) <= Decimal("0.05")
    assert store_rows(traded_home, "SELECT strategy, reason, status FROM orders WHERE reason = 'EXTERNAL_STOP'") == [
        ("external", "EXTERNAL_STOP", "ACCEPTED")]
    assert cli("reconcile").exit_code == 0  # the stop is tradekit's own now, not an unknown order
