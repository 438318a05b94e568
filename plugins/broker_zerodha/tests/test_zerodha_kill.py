"""kill -9 of a real `tradekit run --broker zerodha --live --yes` while an order is in flight, then a restart.

tradekit runs as a child process; the fake Kite runs here, and both read one
``FileClock``, so the fake keeps its book while tradekit is dead and the
harness moves time on in between. The kill comes from the fake itself, at
the moment the placement request arrives: either before Kite applied it
(the order is journalled but never reached Kite: the journal-to-send gap)
or after (Kite has it, tradekit never learnt its id: the send-to-ack gap).
"""

from __future__ import annotations

import signal
from datetime import timedelta
from pathlib import Path

from tradekit.clock import FileClock

from zerodha_live_helpers import (
    BEFORE_OPEN,
    Child,
    SYMBOLS,
    assert_no_tag_twice,
    closed_days,
    fake_fills,
    open_positions,
    rehearsal_fake,
    store_fills,
    store_trades,
    tradekit_orders,
    write_home,
)

RUN = ("run", "--broker", "zerodha", "--live", "--yes", "--strategy")


def test_killed_before_the_entry_reached_kite_the_restart_sends_it_once_and_finishes_the_day(
        tmp_path: Path, clock_file: Path) -> None:
    clock = FileClock(clock_file, start=BEFORE_OPEN)
    home = tmp_path / "home"
    with rehearsal_fake(tmp_path / "data", clock, hang_seconds=0.1) as fake:
        child = Child(home, clock_file, write_home(home, fake, strategy="oi-momentum", monitor_seconds=300))
        # the entry's POST arrives, tradekit dies, Kite never applies it
        fake.faults.next("hang", path="/orders/regular", method="POST", then=child.kill)
        code, out, err = child.run(*RUN, "oi-momentum")
        assert code == -signal.SIGKILL, err
        assert "ENTRY BUY" in out and tradekit_orders(fake) == []
        clock.sleep(45)  # tradekit stays down a while

        code, out, err = child.run(*RUN, "oi-momentum")
        assert code == 0, err
        assert "never reached the broker; sending it now" in out, out
        tags = assert_no_tag_twice(fake)
        assert f"order {tags[0]} never reached the broker" in out  # the journalled order, under its own tag
        entry = tradekit_orders(fake)[0]
        assert (entry["tradingsymbol"], entry["transaction_type"], entry["status"]) == (SYMBOLS["traded_put"], "BUY", "COMPLETE")
        assert store_fills(home) == fake_fills(fake)
        trades = store_trades(home)
        assert [reason for reason, *_ in trades] == ["TRAILING_STOP", "END_OF_DAY"]
        assert trades[0][2] == entry["average_price"]  # the entry price is Kite's, at the restart
        assert open_positions(home) == [] and fake.app.net_quantity(SYMBOLS["traded_put"]) == 0
        assert closed_days(home)[0][2] is not None
        assert "session 2025-10-06:" in out


def test_killed_after_kite_took_the_stop_the_restart_finds_it_by_tag_and_books_its_fill(
        tmp_path: Path, clock_file: Path) -> None:
    clock = FileClock(clock_file, start=BEFORE_OPEN)
    home = tmp_path / "home"
    with rehearsal_fake(tmp_path / "data", clock, hang_seconds=0.1) as fake:
        child = Child(home, clock_file, write_home(home, fake, strategy="example"))
        # the entry goes through; the protective stop is applied at Kite, then tradekit dies before the answer
        fake.faults.next("timeout", path="/orders/regular", method="POST", after=1, then=child.kill)
        code, out, err = child.run(*RUN, "example")
        assert code == -signal.SIGKILL, err
        entry, stop = tradekit_orders(fake)
        assert (stop["order_type"], stop["status"], stop["quantity"]) == ("SL-M", "TRIGGER PENDING", entry["filled_quantity"])
        assert f"order {stop['tag']} sent" not in out  # tradekit never learnt Kite's id for it

        # restart at 10:12, killed again at 10:15 while the position and its stop are held
        clock.set(BEFORE_OPEN.replace(hour=10, minute=12))  # IST: the file may hold another offset
        fake.app.at(BEFORE_OPEN.replace(hour=10, minute=15), child.kill)
        code, out, err = child.run(*RUN, "example")
        assert code == -signal.SIGKILL, err
        assert f"order {stop['tag']} found at the broker as {stop['order_id']}; not re-sent" in out, out
        assert len(tradekit_orders(fake)) == 2  # no second stop
        assert fake.book.orders[stop["order_id"]]["status"] == "TRIGGER PENDING"
        assert fake.app.net_quantity(SYMBOLS["future"]) == entry["filled_quantity"]

        # while tradekit is down the future falls through the stop (10:18), and Kite fills it
        clock.set(BEFORE_OPEN.replace(hour=10, minute=22))
        fake.book.evaluate()
        assert fake.book.orders[stop["order_id"]]["status"] == "COMPLETE"

        code, out, err = child.run(*RUN, "example")
        assert code == 0, err
        assert_no_tag_twice(fake)
        assert len(tradekit_orders(fake)) == 2  # nothing re-sent, no second stop
        assert store_fills(home) == fake_fills(fake)
        assert [(reason, entry_price, exit_price) for reason, _, entry_price, exit_price, _ in store_trades(home)] == [
            ("STOP", 25200, 24900)]
        assert open_positions(home) == [] and fake.app.net_quantity(SYMBOLS["future"]) == 0
        assert closed_days(home)[0][2] is not None
        assert clock.now() - BEFORE_OPEN >= timedelta(hours=6, minutes=30)  # the restart ran the day to its close
