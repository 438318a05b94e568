"""``tradekit run --broker angelone --strategy oi-momentum`` against the fake, end to end, on a shared FileClock.

The CLI runs in this process (the real Typer app); the fake follows the same
clock file, so market time is the run's time. Paper runs trade in
``paper:angelone-default`` priced by the fake's quotes and send it nothing;
``--live --yes`` runs send tagged orders that fill at the fake's prices.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from angelone_sessions import DAY, Rehearsal

ORDER_ENDPOINTS = ("placeOrder", "modifyOrder", "cancelOrder")


@pytest.fixture
def rehearsal(tmp_path: Path, nifty_day: Any) -> Iterator[Rehearsal]:
    day = Rehearsal(tmp_path, nifty_day)
    try:
        login = day.cli("angelone", "login")
        assert login.exit_code == 0, login.output
        yield day
    finally:
        day.close()


def test_paper_day_trades_in_the_paper_account_and_sends_nothing_to_the_fake(rehearsal: Rehearsal) -> None:
    result = rehearsal.cli("run", "--broker", "angelone", "--strategy", "oi-momentum")
    assert result.exit_code == 0, result.output
    assert "ENTRY BUY" in result.output and "closed: cash" in result.output
    assert all(rehearsal.endpoint_count(endpoint) == 0 for endpoint in ORDER_ENDPOINTS)
    assert rehearsal.endpoint_count("quote") > 0  # priced by the fake's market
    trades = rehearsal.query("SELECT account, instrument_id, entry_price, exit_price FROM trades ORDER BY entry_ts")
    assert trades and {account for account, *_ in trades} == {"paper:angelone-default"}
    assert all(instrument.startswith("NFO:NIFTY02DEC25") for _, instrument, *_ in trades)
    days = rehearsal.query("SELECT account, day, close_cash FROM accounts_daily")
    assert [(account, day) for account, day, _ in days] == [("paper:angelone-default", DAY)]
    assert days[0][2] is not None
    assert rehearsal.query("SELECT count(*) FROM positions WHERE quantity <> 0") == [(0,)]


def test_live_day_sends_tagged_orders_that_fill_and_close_at_the_fakes_prices(rehearsal: Rehearsal) -> None:
    result = rehearsal.cli("run", "--broker", "angelone", "--strategy", "oi-momentum", "--live", "--yes")
    assert result.exit_code == 0, result.output
    account = f"angelone:{rehearsal.fake.client_code}"
    at_fake = list(rehearsal.fake.book.orders.values())
    assert len(at_fake) >= 2
    tags = [order.ordertag for order in at_fake]
    assert all(tags) and len(tags) == len(set(tags))  # every order tagged, no tag twice
    orders = rehearsal.query(f"SELECT client_order_id, broker_order_id, status FROM orders WHERE account = '{account}'")
    assert sorted(tags) == sorted(client_id for client_id, _, _ in orders)  # short ids travel unchanged in ordertag
    assert {broker_id for _, broker_id, _ in orders} == {order.orderid for order in at_fake}
    assert all(order.status == "complete" for order in at_fake) and {status for *_, status in orders} == {"FILLED"}
    # the store's fills and trades carry the fake's prices
    fake_fills = sorted((row["orderid"], Decimal(row["fillprice"])) for row in rehearsal.fake.book.trade_rows())
    fills = sorted((broker_id, Decimal(str(price)).quantize(Decimal("0.01")))
                   for broker_id, price in rehearsal.query(f"SELECT broker_order_id, price FROM fills WHERE account = '{account}'"))
    assert fills == fake_fills
    trades = rehearsal.query(f"SELECT entry_price, exit_price FROM trades WHERE account = '{account}' ORDER BY entry_ts")
    prices = {price for _, price in fake_fills}
    assert len(trades) == len(at_fake) // 2
    assert all(Decimal(str(entry)) in prices and Decimal(str(exit_)) in prices for entry, exit_ in trades)
    assert all(line.buyqty + line.cfbuyqty == line.sellqty + line.cfsellqty for line in rehearsal.fake.book.positions.values())
    assert rehearsal.query(f"SELECT count(*) FROM positions WHERE quantity <> 0 AND account = '{account}'") == [(0,)]
    [(close_cash,)] = rehearsal.query(f"SELECT close_cash FROM accounts_daily WHERE account = '{account}'")
    assert Decimal(str(close_cash)) == Decimal(rehearsal.fake.book.rms()["availablecash"])


def test_live_without_yes_is_refused_when_nobody_can_confirm(rehearsal: Rehearsal) -> None:
    result = rehearsal.cli("run", "--broker", "angelone", "--strategy", "oi-momentum", "--live", input="")
    assert result.exit_code != 0  # no terminal to ask: refused with one line, before anything is opened
    assert "--live sends REAL orders through angelone: confirm with --yes" in str(result.exception)
    assert all(rehearsal.endpoint_count(endpoint) == 0 for endpoint in ORDER_ENDPOINTS)
    assert rehearsal.endpoint_count("quote") == 0
    assert not (rehearsal.home / "tradekit.duckdb").exists()


def test_revoked_session_stops_the_run_with_one_line_naming_the_login_command(rehearsal: Rehearsal) -> None:
    rehearsal.fake.revoke_sessions()  # the saved jwt and refresh token are both refused now
    result = rehearsal.child("run", "--broker", "angelone", "--strategy", "oi-momentum", "--live", "--yes")
    assert result.returncode not in (0, None)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "tradekit angelone login" in lines[0]
    assert rehearsal.endpoint_count("placeOrder") == 0
