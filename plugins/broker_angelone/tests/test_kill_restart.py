"""kill -9 of a real ``tradekit run --broker angelone --live`` and restarts, with the fake (and its orders) alive throughout.

tradekit runs as a child process on the shared FileClock; the fake runs in
this process. Kills land at the worst instants, chosen by the fake itself:
right after it carried out an order and before its answer leaves (the order
exists at the broker, tradekit never heard back), and at a crash point
(``TRADEKIT_CRASH_AT``) during the restart's recovery. While tradekit is
down the harness moves market time on so the protective stop fills at the
broker. Strategy: the built-in ``example`` (one entry with a protective stop
at the broker) on a NIFTY call.
"""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from angelone_sessions import DAY, OPTION, Rehearsal

from tradekit_angelone.fake.market import IST

ARGS = ("run", "--broker", "angelone", "--strategy", "example", "--live", "--yes")


def _wait_dead(pid: int) -> None:
    """Until the killed child is a zombie (or gone): nothing of it runs after this returns."""
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, IndexError):
            return
        if state in ("Z", "X"):
            return


class KillAtTheBroker:
    """Armed with an ordertype: SIGKILLs the child when such an order has been placed, before the answer is sent."""

    def __init__(self) -> None:
        self.child: subprocess.Popen[str] | None = None
        self.ordertype: str | None = None
        self.kills: list[str] = []

    def __call__(self, endpoint: str, payload: Any, body: Any) -> None:
        child, wanted = self.child, self.ordertype
        if endpoint != "placeOrder" or child is None or wanted is None or payload.get("ordertype") != wanted:
            return
        self.ordertype = None
        self.kills.append(wanted)
        os.kill(child.pid, signal.SIGKILL)
        _wait_dead(child.pid)

    def run(self, rehearsal: Rehearsal, ordertype: str) -> subprocess.CompletedProcess[str]:
        self.ordertype = ordertype
        self.child = rehearsal.spawn(*ARGS)
        out, err = self.child.communicate(timeout=300)
        result = subprocess.CompletedProcess(ARGS, self.child.returncode, out, err)
        self.child = None
        return result


def test_live_run_killed_at_the_broker_restarts_without_duplicates_and_closes_the_day(tmp_path: Path, nifty_day: Any) -> None:
    rehearsal = Rehearsal(tmp_path, nifty_day, poll_seconds=60)  # example's entry needs candles with a real open
    try:
        assert rehearsal.cli("angelone", "login").exit_code == 0
        killer = KillAtTheBroker()
        rehearsal.fake.on_answer = killer
        book = rehearsal.fake.book
        account = f"angelone:{rehearsal.fake.client_code}"

        # 1. killed as the entry arrives: filled at the fake, never acknowledged to tradekit
        first = killer.run(rehearsal, "MARKET")
        assert first.returncode == -signal.SIGKILL, first.stderr
        [entry] = book.orders.values()
        assert (entry.status, entry.transactiontype, entry.quantity) == ("complete", "BUY", 75)
        [(client_id, broker_id)] = rehearsal.query("SELECT client_order_id, broker_order_id FROM orders")
        assert client_id == entry.ordertag and broker_id is None  # journalled before sending, no answer recorded

        # 2. restart: the entry is found by its tag (not re-sent), its fill recorded, the protective stop placed;
        #    killed as the stop arrives at the fake
        second = killer.run(rehearsal, "STOPLOSS_MARKET")
        assert second.returncode == -signal.SIGKILL, second.stderr
        assert f"order {entry.ordertag} found at the broker as {entry.orderid}; not re-sent" in second.stdout
        assert killer.kills == ["MARKET", "STOPLOSS_MARKET"]
        entry_again, stop = book.orders.values()
        assert entry_again is entry and (stop.transactiontype, stop.quantity, stop.status) == ("SELL", 75, "trigger pending")
        assert rehearsal.query(f"SELECT instrument_id, quantity FROM positions WHERE quantity <> 0 AND account = '{account}'") \
            == [(OPTION, 75)]

        # 3. restart killed at its 2nd crash point (a journal commit while recovering): nothing new may reach the fake
        third = rehearsal.child(*ARGS, TRADEKIT_CRASH_AT="2")
        assert third.returncode == -signal.SIGKILL, third.stderr
        assert len(book.orders) == 2 and stop.status == "trigger pending" and stop.quantity == 75  # stop intact

        # 4. tradekit stays down for hours; meanwhile the market falls through the stop: it fills at the broker
        rehearsal.fake.set_time(datetime.combine(DAY, time(15, 0), tzinfo=IST))
        assert stop.status == "complete"
        [stop_fill] = [row for row in book.trade_rows() if row["orderid"] == stop.orderid]
        assert stop_fill["filltime"] < "15:00:00"  # at the bar that crossed it, not when somebody looked

        # 5. the last restart learns of the stop fill, sends nothing more, and closes the day (it has nothing left
        #    to enter: a 5-minute poll keeps its catch-up from the 09:25 checkpoint to the close short)
        rehearsal.set_poll_seconds(300)
        last = rehearsal.cli(*ARGS)  # in this process: a new engine, broker and store handle, like a new process
        assert last.exit_code == 0, last.output
        assert "resumed from checkpoint" in last.output
        assert len(book.orders) == 2  # no duplicate entry, no second stop, no exit for a position already closed
        tags = [order.ordertag for order in book.orders.values()]
        assert all(tags) and len(set(tags)) == 2
        orders = rehearsal.query(f"SELECT client_order_id, broker_order_id, status FROM orders WHERE account = '{account}'")
        assert sorted(orders) == sorted([(entry.ordertag, entry.orderid, "FILLED"), (stop.ordertag, stop.orderid, "FILLED")])
        [(entry_price, exit_price, reason)] = rehearsal.query(
            f"SELECT entry_price, exit_price, exit_reason FROM trades WHERE account = '{account}'")
        assert Decimal(str(entry_price)) == Decimal(str(round(entry.averageprice, 2)))
        assert Decimal(str(exit_price)) == Decimal(stop_fill["fillprice"]) and reason == "STOP"
        assert rehearsal.query(f"SELECT count(*) FROM positions WHERE quantity <> 0 AND account = '{account}'") == [(0,)]
        assert [line.buyqty - line.sellqty for line in book.positions.values()] == [0]
        [(close_cash,)] = rehearsal.query(f"SELECT close_cash FROM accounts_daily WHERE account = '{account}' AND day = '{DAY}'")
        assert Decimal(str(close_cash)) == Decimal(book.rms()["availablecash"])
    finally:
        rehearsal.close()
