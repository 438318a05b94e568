"""Process start -> trading-ready for the store in argv[1] (see recovery.py). Prints what it loaded and
the in-process split (imports / store open / book load / venue + strategy).

With ``--gc`` (an untimed run) it then reports what one full pass of the cyclic garbage collector costs with
that book loaded, before and after ``gc.freeze()`` (what a live engine does when its session starts): a full
pass stops the engine's thread, so it is latency a tick can meet."""

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
if "--gc" in sys.argv[2:]:
    import gc

    def full_pass_ms() -> float:
        passes = []
        for _ in range(3):
            started = time.perf_counter()
            gc.collect()
            passes.append((time.perf_counter() - started) * 1000)
        return min(passes)

    tracked = len(gc.get_objects())
    before = full_pass_ms()
    gc.freeze()
    print(f"gc: tracked={tracked} full_pass_ms={before:.2f} frozen_full_pass_ms={full_pass_ms():.2f}")
