"""Process start -> trading-ready for the store in argv[1] (see recovery.py). Prints what it loaded and
the in-process split (imports / store open / book load / venue + strategy)."""

from __future__ import annotations

import sys
import time

began = time.perf_counter()

from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

from tradekit.clock import SimClock  # noqa: E402
from tradekit.plugins.paper import create_paper_broker  # noqa: E402
from tradekit.ports.context import BrokerContext  # noqa: E402
from tradekit.services.setup import workspace  # noqa: E402

imported = time.perf_counter()
home = Path(sys.argv[1])
ws = workspace(home)
store = ws.open_store(batch_size=200)
opened = time.perf_counter()
book = store.load_book()
loaded = time.perf_counter()
strategy = ws.strategy("oi-momentum")


class _NoMarket:  # the venue's price source; recovery needs none until the first step
    market = "NSE"

    def instrument(self, iid):  # noqa: ANN001, ANN201
        return None

    def quote(self, iid, at):  # noqa: ANN001, ANN201
        return None

    def first_cross(self, *args):  # noqa: ANN001, ANN002, ANN201
        return None


broker = create_paper_broker(BrokerContext(name="paper", settings=ws.config.section("paper"), home=home,
                                           clock=SimClock(datetime.now(UTC)),
                                           market=_NoMarket()))
broker.connect()
ready = time.perf_counter()
store.close()
print(f"orders={len(book.orders)} fills={len(book.fill_ids)} imports={imported - began:.3f}s open={opened - imported:.3f}s "
      f"load_book={loaded - opened:.3f}s venue+strategy={ready - loaded:.3f}s")
