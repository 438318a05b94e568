"""Trading today's session on a broker's market data: paper execution by default, real orders with --live.

Started from cron before the open it waits for the session; on a holiday or
after the close it says so and returns (exit 0). An interrupted day is
resumed exactly as in a replay: the journal, the checkpoint, and the
broker's reports by tag.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tradekit.calendars import holiday_name, session as exchange_session, timezone_of
from tradekit.clock import Clock, session_clock
from tradekit.engine.loop import Engine, EngineSettings
from tradekit.plugins.broker_feed import BrokerFeed
from tradekit.plugins.paper import paper_settings
from tradekit.plugins.paper.venue import PaperVenue
from tradekit.ports.context import BrokerContext
from tradekit.services.run import RunOptions, RunOutcome
from tradekit.services.setup import Workspace


def run_session(ws: Workspace, options: RunOptions, strategy: Any, log: Callable[[str], None], *,
                clock: Clock | None = None) -> RunOutcome:
    clock = clock or session_clock()
    market = strategy.market
    local_today = clock.now().astimezone(ZoneInfo(timezone_of(market))).date()
    session = exchange_session(market, local_today)
    if session is None:
        return RunOutcome(local_today, None, f"{local_today} is a {holiday_name(market, local_today)} on {market}: nothing to trade")
    context = BrokerContext(name=options.broker, settings=ws.config.section("brokers", options.broker), home=ws.home,
                            clock=clock, env=dict(os.environ), live=options.live, log=log)
    broker = ws.plugins.broker(options.broker).factory(context)
    broker.connect()  # an expired token stops here with the login command in the message
    poll_seconds = int(ws.config.get("engine.live_poll_seconds", 5))
    own_feed = getattr(broker, "market_feed", None)  # a broker may bring its own feed (ports/broker.py)
    feed = own_feed(market, poll_seconds) if own_feed is not None else BrokerFeed(broker, market, poll_seconds=poll_seconds)
    settings = paper_settings(ws.config.section("paper"), market)
    if options.live:
        execution: Any = broker
        account = broker.account
        opening = None
    else:
        settings = replace(settings, account=f"{options.broker}-{settings.account}")
        execution = PaperVenue(ws.home / "paper" / f"{settings.account}.json", settings, feed, clock)
        execution.connect()
        account = execution.account
        opening = Decimal(settings.capital)
    store = ws.open_store(batch_size=1, lazy_projections=True)
    try:
        book = store.load_book()
        record = book.days.get((account, session.day))
        if record is not None and record.close_cash is not None:
            return RunOutcome(session.day, None, f"{session.day} is already closed on {account}")
        if clock.now() >= session.close and book.current_day.get(account) != session.day:
            return RunOutcome(session.day, None, f"the {market} session of {session.day} closed at "
                              f"{session.close.astimezone(ZoneInfo(session.timezone)):%H:%M}; nothing to trade")
        if clock.now() < session.open:
            log(f"waiting for the {market} session: opens {session.open.astimezone(ZoneInfo(session.timezone)):%Y-%m-%d %H:%M %Z}")
            clock.sleep_until(session.open)
        from tradekit.services.control import engine_controls

        risk, channel, control_server = engine_controls(ws, strategy.name, 0.0, log)
        engine = Engine(
            store=store, book=book, broker=execution, feed=feed, strategy=strategy, clock=clock, session=session,
            settings=EngineSettings(account=account, store_id=store.store_id, live=True, opening_cash=opening,
                                    fresh=options.fresh_day, sync_minutes=float(ws.config.get("engine.sync_minutes", 5)),
                                    sync=ws.config.section("sync"), stream_quotes=str(ws.config.get("engine.stream_quotes", "auto"))),
            log=log, notify=ws.plugins.notify, risk=risk, control=channel,
        )
        try:
            result = engine.run()
        finally:
            control_server.close()
        store.flush(book)
        store.backup(session.day, keep=int(ws.config.get("store.backups_keep", 10)))
        return RunOutcome(session.day, result, f"{session.day} done")
    finally:
        store.close()
        broker.close()
