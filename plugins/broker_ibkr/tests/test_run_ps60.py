"""`tradekit run --broker ibkr --strategy ps60` against the fake gateway, on one shared simulated clock.

The gateway follows the same ``SimClock`` the session sleeps on, so the
day plays at full speed: the run waits for the open, reads 5-second bars
from the gateway and trades the scanner's TSLA pivots. Paper by default
(nothing reaches the gateway); with ``--live`` the orders go to the
gateway, carry tradekit's tag in orderRef and close trades at the
gateway's fill prices. Configuration only through the documented
``TRADEKIT__BROKERS__IBKR__*`` keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tradekit.errors import ConfigError
from tradekit.cli.main import _register, app
from tradekit.clock import FileClock
from tradekit.plugins.manager import reset_plugin_manager
from tradekit.store import DuckDBStore
from typer.testing import CliRunner, Result

from tradekit_ibkr.fake.gateway import FakeGateway
from tradekit_ibkr.fake.market import NEW_YORK, GeneratedUSDay

from .conftest import DAY

if not any(command.name == "run" for command in app.registered_commands):
    _register()  # the core commands, as tradekit's main() adds them

BEFORE_OPEN = datetime(2025, 1, 2, 9, 0, tzinfo=NEW_YORK)
# TSLA opens at 445.25 on this generated day and breaks 450 within minutes; targets out of reach,
# so trades end at the pivot stop (worked at the gateway in a live run) or the 15:55 square-off.
SCANNER = (
    "symbol,resistance,support,long_target_1,long_target_2,short_target_1,short_target_2\n"
    "TSLA,450.00,430.00,470.00,480.00,420.00,410.00\n"
)


@dataclass
class Session:
    gateway: FakeGateway
    clock: FileClock
    home: Path


def write_scanner(root: Path) -> None:
    day = root / "NYSE" / DAY.isoformat()
    day.mkdir(parents=True, exist_ok=True)
    (day / "scanner.csv").write_text(SCANNER)


def configure(monkeypatch: pytest.MonkeyPatch, root: Path, port: int, library: str) -> Path:
    """The documented keys only, set by environment as a user would; returns the home."""
    home = root / "home"
    write_scanner(root / "data")
    for key, value in {
        "TRADEKIT_HOME": str(home), "TRADEKIT__DATA__ROOT": str(root / "data"),
        "TRADEKIT__BROKERS__IBKR__PORT": str(port), "TRADEKIT__BROKERS__IBKR__CLIENT_ID": "23",
        "TRADEKIT__BROKERS__IBKR__CLIENT_LIBRARY": library, "TRADEKIT__BROKERS__IBKR__REQUEST_TIMEOUT": "5",
        # a fast day: 5-minute candles built from the gateway's 5-second bars, a short warm-up, hourly reconcile
        "TRADEKIT__STRATEGIES__PS60__BAR_SECONDS": "300", "TRADEKIT__STRATEGIES__PS60__WARMUP_BARS": "3",
        "TRADEKIT__ENGINE__SYNC_MINUTES": "60", "TRADEKIT__RISK__COOLDOWN_SECONDS": "0",
    }.items():
        monkeypatch.setenv(key, value)
    return home


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, library: Any) -> Iterator[Session]:
    """The fake gateway and ``tradekit run`` on one FileClock (TRADEKIT_SIM_CLOCK), 09:00 New York."""
    clock = FileClock(tmp_path / "clock", BEFORE_OPEN)
    monkeypatch.setenv("TRADEKIT_SIM_CLOCK", str(clock.path))
    market = GeneratedUSDay(DAY, {"TSLA": 445.25, "AAPL": 228.50}, seed=11)
    with FakeGateway(market, account="DU7654321", clock=clock) as gateway:
        home = configure(monkeypatch, tmp_path, gateway.port, library.__name__)
        reset_plugin_manager()
        yield Session(gateway, clock, home)
        reset_plugin_manager()


def tradekit(*args: str, input: str | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def stored(home: Path, account: str) -> tuple[list[tuple[Any, ...]], dict[str, Any], list[tuple[Any, ...]]]:
    """Closed trades, orders by client id and fills of ``account``, as the store holds them after the run."""
    with DuckDBStore(home / "tradekit.duckdb", readonly=True) as store:
        trades = store.query("SELECT side, quantity, entry_price, exit_price, exit_reason, entry_ts FROM trades "
                             "WHERE account = ? ORDER BY entry_ts", [account])
        orders = {o.client_order_id: o for o in store.load_book().orders.values() if o.account == account}
        fills = store.query("SELECT client_order_id, price, quantity, side FROM fills WHERE account = ? ORDER BY ts", [account])
    return trades, orders, fills


@pytest.mark.parametrize("library", ["ib_async"], indirect=True)  # paper execution does not depend on the library
def test_paper_ps60_day_trades_on_the_gateway_bars_and_sends_nothing(session: Session) -> None:
    result = tradekit("run", "--broker", "ibkr", "--strategy", "ps60")
    assert result.exit_code == 0, result.output
    assert "waiting for the NYSE session" in result.output and f"session {DAY}:" in result.output
    assert session.clock.now() >= datetime(2025, 1, 2, 16, 0, tzinfo=NEW_YORK)
    trades, orders, fills = stored(session.home, "paper:ibkr-us")
    assert trades and fills and orders
    # paper execution: the gateway saw no order at all, only market data requests
    assert session.gateway.orders() == [] and session.gateway.executions() == []
    assert 3 not in session.gateway.requests_seen()  # placeOrder
    # the first entry follows the first 5-minute candle (built from the gateway's bars) closing above resistance
    bars = session.gateway.source.bars("TSLA", *session.gateway.source.session())
    closes = [bars[i + 59].close for i in range(0, len(bars), 60)]
    first_signal = next(i for i, close in enumerate(closes) if i >= 2 and close > 450.0)
    assert trades[0][0] == "LONG" and trades[0][5] == bars[0].ts + timedelta(minutes=5 * (first_signal + 1))
    assert trades[0][2] == Decimal(str(closes[first_signal]))  # a market order fills at the last gateway price


def test_live_ps60_day_sends_tagged_orders_and_books_the_gateway_fills(session: Session) -> None:
    result = tradekit("run", "--broker", "ibkr", "--strategy", "ps60", "--live", "--yes")
    assert result.exit_code == 0, result.output
    gateway = session.gateway
    trades, orders, fills = stored(session.home, "ibkr:DU7654321")
    placed = gateway.orders()
    assert placed and trades
    # every order at the gateway carries tradekit's tag in orderRef, once
    refs = [o.order_ref for o in placed]
    assert len(set(refs)) == len(refs) and set(refs) == set(orders)
    assert {o.status for o in placed} <= {"Filled", "Cancelled"}
    # the protective stop worked at the gateway at the pivot, and at least one was filled there
    stops = [o for o in placed if o.order_type == "STP"]
    assert stops and all(o.stop_price == 450.0 and o.action == "SELL" for o in stops)
    assert any(o.status == "Filled" for o in stops)
    # the store's fills are the gateway's executions (orderStatus + execDetails), price for price
    executions = sorted((e.order_ref, e.price, e.shares) for e in gateway.executions())
    assert sorted((ref, float(price), float(qty)) for ref, price, qty, _ in fills) == executions
    exits = {e.order_ref: e.price for e in gateway.executions() if e.side == "SLD"}
    assert [float(t[3]) for t in trades] == [exits[ref] for ref, *_ in fills if ref in exits]
    assert all(t[1] == 100 for t in trades) and gateway.positions().get("TSLA", (0.0, 0.0))[0] == 0


@pytest.mark.parametrize("library", ["ib_async"], indirect=True)
def test_live_without_confirmation_sends_nothing(session: Session) -> None:
    with pytest.raises(ConfigError, match="--live sends REAL orders through ibkr: confirm with --yes"):
        tradekit("run", "--broker", "ibkr", "--strategy", "ps60", "--live", input="n\n")  # no terminal to ask: refused
    assert session.gateway.requests_seen() == [] and session.clock.now() == BEFORE_OPEN
