"""During ``run``: reconcile at start and every ``engine.sync_minutes``; an unreachable broker is not fatal."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from tradekit.calendars import session as exchange_session
from tradekit.clock import SimClock
from tradekit.data import list_days, load_day
from tradekit.engine.loop import Engine, EngineSettings
from tradekit.errors import TemporaryBrokerError
from tradekit.model.reports import PositionReport
from tradekit.plugins.paper import paper_settings, venue_path
from tradekit.plugins.paper.venue import PaperVenue
from tradekit.plugins.replay import ReplayMarket
from tradekit.services.setup import workspace
from tradekit.testing.market import example_config, random_walk, session_bars, write_day

DAY = date(2025, 12, 8)


class UnreachableAtFirst(PaperVenue):
    """The paper venue behind a network that drops the first ``failures`` position requests."""

    failures = 1

    def position_reports(self) -> list[PositionReport]:
        if self.failures:
            self.failures -= 1
            raise TemporaryBrokerError("paper: connection reset (test)")
        return super().position_reports()


def test_run_carries_on_when_broker_unreachable_and_periodic_reconcile_retries(tmp_path: Path) -> None:
    root, home = tmp_path / "data", tmp_path / "home"
    bars = session_bars("NSE", 60)
    write_day(root, "NSE", DAY, {"TESTCO": random_walk(11, bars, 1000.0), "OTHERCO": random_walk(5, bars, 300.0)})
    example_config(home, root)
    ws = workspace(home)
    info = list_days(root)[0]
    session = exchange_session("NSE", info.day)
    assert session is not None
    clock, market = SimClock(session.open), ReplayMarket(load_day(info.path))
    settings = paper_settings(ws.config.section("paper"), "NSE")
    venue = UnreachableAtFirst(venue_path(home, settings.account), settings, market, clock)
    venue.connect()
    state_path = venue_path(home, settings.account)
    state = json.loads(state_path.read_text())
    state["positions"]["NSE:OTHERCO"] = {"quantity": 40, "average_price": "299.95000000"}  # held from an earlier day
    state_path.write_text(json.dumps(state))

    store = ws.open_store(batch_size=200)
    book = store.load_book()
    lines: list[str] = []
    engine = Engine(store=store, book=book, broker=venue, feed=market, strategy=ws.strategy("example"), clock=clock,
                    session=session, log=lines.append,
                    settings=EngineSettings(account=venue.account, store_id=store.store_id, opening_cash=Decimal(100000),
                                            sync_minutes=30, sync={"filtered_exchanges": []}))
    result = engine.run()
    store.flush(book)
    store.close()

    reconciles = [line for line in lines if "reconcile" in line]
    assert "09:15:00 example: reconcile at start: broker unreachable, carrying on with the last known book" in reconciles[0]
    assert "retrying in 30 min" in reconciles[0]
    assert "09:45:00 example: reconcile periodic with paper: corrected (added 1" in reconciles[1]
    assert result.orders_sent > 0  # trading went on meanwhile
    first_order = next(line for line in lines if "sent:" in line)
    assert first_order[:19] < reconciles[1][:19]  # an order went out before the broker was reachable again
    assert book.position(venue.account, "NSE:OTHERCO").quantity == 40
    assert book.position(venue.account, "NSE:OTHERCO").external
