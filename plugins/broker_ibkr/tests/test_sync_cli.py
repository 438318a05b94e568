"""`tradekit sync/reconcile --broker ibkr` against positions opened and closed by hand "in TWS".

The requirements' sync story: positions tradekit does not know are added
(external), changed quantities/averages updated, positions the broker no
longer holds removed; reconcile only shows, and its exit code says whether
anything differed. Configured only through ``TRADEKIT__BROKERS__IBKR__*``;
the CLI and the gateway share one FileClock (TRADEKIT_SIM_CLOCK).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tradekit.cli.main import _register, app
from tradekit.clock import FileClock
from tradekit.plugins.manager import reset_plugin_manager
from tradekit.store import DuckDBStore
from typer.testing import CliRunner, Result

from tradekit_ibkr.fake.gateway import FakeGateway
from tradekit_ibkr.fake.market import NEW_YORK, GeneratedUSDay

from .conftest import DAY

if not any(command.name == "run" for command in app.registered_commands):
    _register()

ACCOUNT = "ibkr:DU7654321"


@pytest.fixture
def tws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, library: Any) -> Iterator[tuple[FakeGateway, Path]]:
    clock = FileClock(tmp_path / "clock", datetime(2025, 1, 2, 10, 0, tzinfo=NEW_YORK))
    market = GeneratedUSDay(DAY, {"TSLA": 445.25, "AAPL": 228.50}, seed=11)
    with FakeGateway(market, account="DU7654321", clock=clock) as gateway:
        home = tmp_path / "home"
        monkeypatch.setenv("TRADEKIT_HOME", str(home))
        monkeypatch.setenv("TRADEKIT_SIM_CLOCK", str(clock.path))
        monkeypatch.setenv("TRADEKIT__BROKERS__IBKR__PORT", str(gateway.port))
        monkeypatch.setenv("TRADEKIT__BROKERS__IBKR__CLIENT_LIBRARY", library.__name__)
        reset_plugin_manager()
        yield gateway, home
        reset_plugin_manager()


def tradekit(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def sync() -> dict[str, Any]:
    result = tradekit("sync", "--broker", "ibkr", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output[result.output.index("{"):])


def positions(home: Path) -> dict[str, tuple[int, Decimal, bool, str]]:
    with DuckDBStore(home / "tradekit.duckdb", readonly=True) as store:
        rows = store.query("SELECT instrument_id, quantity, average_price, external, strategy FROM positions "
                           "WHERE account = ? AND quantity != 0", [ACCOUNT])
    return {row[0]: (row[1], Decimal(str(row[2])), row[3], row[4]) for row in rows}


def test_sync_and_reconcile_follow_positions_opened_and_closed_in_tws(tws: tuple[FakeGateway, Path]) -> None:
    gateway, home = tws
    gateway.manual_trade("AAPL", 50, 228.0)  # opened by hand in TWS

    shown = tradekit("reconcile", "--broker", "ibkr")
    assert shown.exit_code == 1 and "NOT in sync" in shown.output and "AAPL" in shown.output
    assert not (home / "tradekit.duckdb").exists()  # reconcile changes nothing

    first = sync()
    assert (first["added"], first["removed"], first["updated"]) == (["SMART:AAPL"], [], [])
    assert positions(home) == {"SMART:AAPL": (50, Decimal("228"), True, "external")}

    gateway.advance(60)
    gateway.manual_trade("AAPL", 25, 230.0)
    gateway.manual_trade("TSLA", 10, 446.0)
    second = sync()
    assert (second["added"], second["updated"], second["removed"]) == (["SMART:TSLA"], ["SMART:AAPL"], [])
    held = positions(home)
    broker_average = Decimal(str(gateway.positions()["AAPL"][1]))
    assert held["SMART:AAPL"][0] == 75 and abs(held["SMART:AAPL"][1] - broker_average) < Decimal("0.0001")
    assert held["SMART:TSLA"][:2] == (10, Decimal("446"))

    gateway.advance(60)
    gateway.manual_trade("AAPL", -75)  # closed by hand in TWS
    third = sync()
    assert (third["removed"], third["unchanged"], third["added"]) == (["SMART:AAPL"], ["SMART:TSLA"], [])
    assert set(positions(home)) == {"SMART:TSLA"}

    clean = tradekit("reconcile", "--broker", "ibkr")
    assert clean.exit_code == 0 and "in sync" in clean.output
    assert gateway.orders() and all(o.order_ref == "" for o in gateway.orders())  # sync sent no order of its own


def test_sync_places_the_configured_protective_stop_in_tws(tws: tuple[FakeGateway, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """``[sync] external_stop_pct``: a position opened by hand gets a real STP order at TWS, tagged in orderRef
    (before, the plugin refused it: sync did not open the connection as a live run)."""
    gateway, home = tws
    monkeypatch.setenv("TRADEKIT__SYNC__EXTERNAL_STOP_PCT", "10")
    gateway.manual_trade("AAPL", 50, 228.0)
    result = tradekit("sync", "--broker", "ibkr", "--json", "--yes")
    assert result.exit_code == 0, result.output
    details = json.loads(result.output[result.output.index("{"):])["details"]
    assert details["warnings"] == [] and len(details["stops"]) == 1 and "SELL 50 SMART:AAPL stop 205.2" in details["stops"][0]
    stops = [o for o in gateway.orders() if o.order_ref]
    assert [(o.action, o.quantity, o.order_type, o.stop_price, o.working) for o in stops] == [("SELL", 50, "STP", 205.2, True)]
    assert tradekit("reconcile", "--broker", "ibkr").exit_code == 0  # the stop is tradekit's own, not an unknown order


def test_a_readonly_connection_still_places_no_stop(tws: tuple[FakeGateway, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    gateway, home = tws
    monkeypatch.setenv("TRADEKIT__SYNC__EXTERNAL_STOP_PCT", "10")
    monkeypatch.setenv("TRADEKIT__BROKERS__IBKR__READONLY", "true")
    gateway.manual_trade("AAPL", 50, 228.0)
    details = json.loads((result := tradekit("sync", "--broker", "ibkr", "--json", "--yes")).output[result.output.index("{"):])["details"]
    assert details["stops"] == [] and "refused" in details["warnings"][0] and "read-only" in details["warnings"][0]
    assert not [o for o in gateway.orders() if o.order_ref]
    with DuckDBStore(home / "tradekit.duckdb", readonly=True) as store:  # a definite no, journalled: never re-sent
        assert store.query("SELECT reason, status FROM orders") == [("EXTERNAL_STOP", "REJECTED")]
    assert positions(home) == {"SMART:AAPL": (50, Decimal("228"), True, "external")}  # the position itself is synced
