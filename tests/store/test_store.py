"""The DuckDB store: atomic steps, a load equal to the in-memory book, migrations, refusals that leave files alone."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tradekit.errors import StoreError
from tradekit.model.book import Book
from tradekit.model.events import (
    DayClosed,
    DayOpened,
    Event,
    FillRecorded,
    OrderAccepted,
    OrderSubmitted,
    SignalBlocked,
    StrategyCheckpoint,
)
from tradekit.model.fills import Fill
from tradekit.model.orders import Order, OrderType, Side
from tradekit.store import DuckDBStore
from tradekit.store.schema import PROJECTION_TABLES

ACCOUNT = "paper:test"
INSTRUMENT = "NSE:TESTCO"
DAY = date(2025, 12, 9)
T0 = datetime(2025, 12, 9, 3, 45, tzinfo=UTC)
D = Decimal


def _order(tag: str, side: Side, quantity: int, *, reason: str = "ENTRY", minute: int = 1, **extra: object) -> Order:
    return Order(
        client_order_id=tag, account=ACCOUNT, instrument_id=INSTRUMENT, side=side, quantity=quantity, strategy="demo",
        reason=reason, created_at=T0 + timedelta(minutes=minute, microseconds=123456), signal_price=D("100.05"), **extra,
    )  # type: ignore[arg-type]  # fmt: skip


def _fill(number: int, tag: str, side: Side, quantity: int, price: str, costs: str) -> Fill:
    return Fill(
        fill_id=f"F{number}", account=ACCOUNT, instrument_id=INSTRUMENT, side=side, quantity=quantity, price=D(price),
        ts=T0 + timedelta(minutes=number + 1), client_order_id=tag, broker_order_id=f"B-{tag}", costs=D(costs),
    )  # fmt: skip


def trading_steps() -> list[list[Event]]:
    """A day's worth of steps: open, an entry with its stop, a partial exit, a checkpoint, a block, a close."""
    entry = _order("E1", Side.BUY, 100)
    stop = _order("S1", Side.SELL, 100, reason="INITIAL_STOP", minute=3, order_type=OrderType.STOP_MARKET, stop_price=D("97.35"))
    exit_ = _order("X1", Side.SELL, 40, reason="PARTIAL_50", minute=4)
    return [
        [DayOpened(ts=T0, account=ACCOUNT, day=DAY, cash=D("100000"), source="capital")],
        [OrderSubmitted(ts=T0 + timedelta(minutes=1), account=ACCOUNT, order=entry),
         OrderAccepted(ts=T0 + timedelta(minutes=1), account=ACCOUNT, client_order_id="E1", broker_order_id="B-E1"),
         FillRecorded(ts=T0 + timedelta(minutes=2), account=ACCOUNT, fill=_fill(1, "E1", Side.BUY, 100, "100.10", "26.93"), strategy="demo")],
        [OrderSubmitted(ts=T0 + timedelta(minutes=3), account=ACCOUNT, order=stop),
         OrderAccepted(ts=T0 + timedelta(minutes=3), account=ACCOUNT, client_order_id="S1", broker_order_id="B-S1")],
        [OrderSubmitted(ts=T0 + timedelta(minutes=4), account=ACCOUNT, order=exit_),
         FillRecorded(ts=T0 + timedelta(minutes=5), account=ACCOUNT, fill=_fill(4, "X1", Side.SELL, 40, "101.35", "31.07"), strategy="demo")],
        [StrategyCheckpoint(ts=T0 + timedelta(minutes=5), account=ACCOUNT, strategy="demo", day=DAY,
                            state={"entries": 1, "peak": 101.35, "levels": [1, 2], "note": None})],
        [SignalBlocked(ts=T0 + timedelta(minutes=6), account=ACCOUNT, strategy="demo", day=DAY, rule="MAX_ENTRIES",
                       reason="1 entries today", instrument_id=INSTRUMENT)],
        [DayClosed(ts=T0 + timedelta(hours=6), account=ACCOUNT, day=DAY, cash=D("1"), equity=D("2"))],
    ]  # fmt: skip


def commit_all(store: DuckDBStore, book: Book, steps: list[list[Event]]) -> None:
    for step in steps:
        for event in step:
            book.apply(event)
        store.commit(step, book)


def snapshot(book: Book) -> dict[str, object]:
    """Everything recovery relies on, in comparable form."""
    return {
        "orders": book.orders,
        "positions": book.positions,
        "open_trades": book.open_trades,
        "cash": book.cash,
        "current_day": book.current_day,
        "days": {k: (v.open_cash, v.close_cash, v.close_equity) for k, v in book.days.items()},
        "strategies": {k: (v.day, v.state, v.ts) for k, v in book.strategies.items()},
        "blocks": book.blocks,
        "fill_ids": book.fill_ids,
        # an account with no trades yet may hold 0 or no entry: both mean zero
        "order_count": {k: v for k, v in book.order_count.items() if v},
        "trade_count": {k: v for k, v in book.trade_count.items() if v},
        "last_fill_ts": book.last_fill_ts,
    }


def table_counts(path: Path) -> dict[str, int]:
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("events", *PROJECTION_TABLES)}
    finally:
        connection.close()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "tradekit.duckdb"


# ---- load equals memory ---------------------------------------------------
def test_store_load_book_after_commits_equals_memory_book(store_path: Path) -> None:
    book = Book()
    with DuckDBStore(store_path) as store:
        commit_all(store, book, trading_steps())
        assert store.event_count() == sum(len(step) for step in trading_steps())
    with DuckDBStore(store_path, readonly=True) as reopened:
        loaded = reopened.load_book()
        replayed = Book()
        for _, event in reopened.events():
            replayed.apply(event)
    assert book.position(ACCOUNT, INSTRUMENT).quantity == 60  # the scenario did what it says
    assert book.orders["S1"].is_open and book.orders["E1"].broker_order_id == "B-E1"
    assert snapshot(loaded) == snapshot(book)
    replayed.take_dirty()
    assert snapshot(replayed) == snapshot(book)
    assert loaded.strategies[(ACCOUNT, "demo")].state == {"entries": 1, "peak": 101.35, "levels": [1, 2], "note": None}


def test_store_batched_commits_written_on_flush(store_path: Path) -> None:
    book = Book()
    with DuckDBStore(store_path, batch_size=100) as store:
        for step in trading_steps():
            for event in step:
                book.apply(event)
            store.commit(step, book, durable=False)
        assert store.event_count() == 0  # nothing durable yet
        store.flush(book)
        assert store.event_count() == sum(len(step) for step in trading_steps())
        assert snapshot(store.load_book()) == snapshot(book)


def test_store_close_with_unflushed_events_raises_store_error(store_path: Path) -> None:
    book = Book()
    store = DuckDBStore(store_path, batch_size=100)
    step = trading_steps()[0]
    book.apply(step[0])
    store.commit(step, book, durable=False)
    with pytest.raises(StoreError, match="unflushed"):
        store.close()


# ---- atomicity ------------------------------------------------------------
def test_store_projection_row_out_of_range_mid_flush_writes_nothing(store_path: Path) -> None:
    book = Book()
    with DuckDBStore(store_path) as store:
        commit_all(store, book, trading_steps()[:1])
        huge = _order("H1", Side.BUY, 3_000_000_000)  # a valid Order; too big for the orders.quantity INTEGER column
        step = [OrderSubmitted(ts=T0 + timedelta(minutes=9), account=ACCOUNT, order=huge),
                StrategyCheckpoint(ts=T0 + timedelta(minutes=9), account=ACCOUNT, strategy="demo", day=DAY, state={"n": 1})]
        for event in step:
            book.apply(event)
        with pytest.raises(StoreError, match="nothing of this step was written.*out of range") as caught:
            store.commit(step, book)
        assert str(store_path) in str(caught.value) and "\n" not in str(caught.value)
        assert "H1" not in {row[0] for row in store.query("SELECT client_order_id FROM orders")}
        # still usable: the next step commits and its events are numbered right after the last good one
        good = [StrategyCheckpoint(ts=T0 + timedelta(minutes=10), account=ACCOUNT, strategy="demo", day=DAY, state={"n": 2})]
        book.apply(good[0])
        store.commit(good, book)
    counts = table_counts(store_path)
    assert counts["events"] == 2  # DayOpened and the good checkpoint; neither event of the failed step
    assert counts["orders"] == 0 and counts["strategy_state"] == 1
    with DuckDBStore(store_path, readonly=True) as reopened:
        events = list(reopened.events())
        assert [seq for seq, _ in events] == [1, 2]
        assert [type(e).__name__ for _, e in events] == ["DayOpened", "StrategyCheckpoint"]
        assert reopened.load_book().strategies[(ACCOUNT, "demo")].state == {"n": 2}


def test_store_unserialisable_payload_in_batch_writes_nothing_and_stays_usable(store_path: Path) -> None:
    book = Book()
    with DuckDBStore(store_path) as store:
        commit_all(store, book, trading_steps()[:2])
        before = store.event_count()
        positions_before = store.table_rows("positions")
        # the first event of the step is fine; the second carries state that is not plain JSON
        step = [FillRecorded(ts=T0 + timedelta(minutes=8), account=ACCOUNT, fill=_fill(8, "", Side.SELL, 10, "99", "0")),
                StrategyCheckpoint(ts=T0 + timedelta(minutes=8), account=ACCOUNT, strategy="demo", day=DAY,
                                   state={"bad": {1, 2}})]  # fmt: skip
        for event in step:
            book.apply(event)
        with pytest.raises(StoreError, match="StrategyCheckpoint event cannot be journalled.*nothing of this step"):
            store.commit(step, book)
        assert store.event_count() == before
        assert store.table_rows("positions") == positions_before
        assert store.table_rows("strategy_state") == []
        good = [SignalBlocked(ts=T0 + timedelta(minutes=9), account=ACCOUNT, strategy="demo", day=DAY, rule="R", reason="r")]
        book.apply(good[0])
        store.commit(good, book)
        assert store.event_count() == before + 1
    counts = table_counts(store_path)
    assert counts["events"] == before + 1 and counts["fills"] == 1 and counts["blocks"] == 1


# ---- the ahead log: durable steps reach disk before DuckDB -----------------------------------------------------

def _lazy_run(store_path: Path, steps: list[list[Event]]) -> Book:
    """Commit every step durably with projections left behind, then stop without flushing (as a kill would)."""
    book = Book()
    store = DuckDBStore(store_path, lazy_projections=True)
    commit_all(store, book, steps)
    assert store.behind == sum(len(step) for step in steps)
    store.close()  # no flush: DuckDB holds nothing of it, the ahead log everything
    return book


def test_ahead_log_steps_missing_from_duckdb_are_applied_on_the_next_open(store_path: Path) -> None:
    steps = trading_steps()
    expected = _lazy_run(store_path, steps)
    assert table_counts(store_path)["events"] == 0  # nothing reached DuckDB
    assert store_path.with_suffix(".journal").stat().st_size > 0
    with DuckDBStore(store_path) as reopened:
        assert snapshot(reopened.load_book()) == snapshot(expected)
        assert [seq for seq, _ in reopened.events()] == list(range(1, sum(len(s) for s in steps) + 1))
    assert store_path.with_suffix(".journal").stat().st_size == 0  # applied, then emptied


def test_ahead_log_a_torn_last_record_is_dropped_and_the_rest_applied(store_path: Path) -> None:
    steps = trading_steps()
    expected = _lazy_run(store_path, steps[:-1])
    journal = store_path.with_suffix(".journal")
    complete = journal.read_bytes()
    journal.write_bytes(complete + b'{"seq":99,"events":[["DayClosed"')  # the last write of a killed process
    with DuckDBStore(store_path) as reopened:
        assert snapshot(reopened.load_book()) == snapshot(expected)


def test_ahead_log_damaged_before_its_end_is_refused_naming_it_and_nothing_is_touched(store_path: Path) -> None:
    _lazy_run(store_path, trading_steps())
    journal = store_path.with_suffix(".journal")
    lines = journal.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b"E1", b"E9")  # a flipped byte: its checksum no longer matches
    journal.write_bytes(b"\n".join(lines))
    before = journal.read_bytes()
    with pytest.raises(StoreError, match="damaged at line 2") as caught:
        DuckDBStore(store_path)
    assert str(journal) in str(caught.value)
    assert journal.read_bytes() == before and table_counts(store_path)["events"] == 0
    DuckDBStore(store_path.parent / "other.duckdb").close()  # the refused store released its lock: nothing leaked


def test_a_reader_applies_a_left_over_ahead_log_before_reading(store_path: Path) -> None:
    expected = _lazy_run(store_path, trading_steps())
    with DuckDBStore(store_path, readonly=True) as reader:
        assert snapshot(reader.load_book()) == snapshot(expected)


def test_a_refused_durable_step_is_taken_back_out_of_the_ahead_log(store_path: Path) -> None:
    book = Book()
    with DuckDBStore(store_path) as store:
        commit_all(store, book, trading_steps()[:1])
        huge = _order("H1", Side.BUY, 3_000_000_000)  # too big for the orders.quantity column
        event = OrderSubmitted(ts=T0 + timedelta(minutes=9), account=ACCOUNT, order=huge)
        book.apply(event)
        with pytest.raises(StoreError, match="out of range"):
            store.commit([event], book, durable=True)
    assert store_path.with_suffix(".journal").stat().st_size == 0
    with DuckDBStore(store_path) as reopened:  # opens: the refused step is not replayed from the log
        assert "H1" not in reopened.load_book().orders and reopened.event_count() == 1


def test_a_backtest_sized_flush_stores_the_same_journal_and_projections_as_small_ones(tmp_path: Path) -> None:
    """From 1,024 rows a flush goes in as Arrow tables built column by column; what it stores (event times
    from several time zones included) must equal what the row-by-row path stores for the same steps."""
    from zoneinfo import ZoneInfo

    from tradekit.model.events import DayOpened, FillRecorded, OrderAccepted, OrderSubmitted
    from tradekit.store.duckdb_store import BULK_ROWS

    zones = (ZoneInfo("Asia/Kolkata"), ZoneInfo("America/New_York"), UTC)

    def write(path: Path, flush_every: int) -> int:
        store = DuckDBStore(path, batch_size=100_000)
        book = store.load_book()
        steps = [[DayOpened(ts=datetime(2024, 3, 4, 9, 15, tzinfo=zones[0]), account="paper", day=date(2024, 3, 4), cash=Decimal(10**7))]]
        for n in range(BULK_ROWS // 2):
            ts = datetime(2024, 3, 4, 3, 45, tzinfo=UTC).astimezone(zones[n % 3]) + timedelta(seconds=n)
            tag = f"T{n:05d}"
            order = Order(client_order_id=tag, account="paper", instrument_id="NSE:X", side=(Side.BUY, Side.SELL)[n % 2], quantity=1,
                          order_type=OrderType.MARKET, strategy="s", reason="ENTRY", created_at=ts)
            fill = Fill(fill_id=f"F{n:05d}", account="paper", instrument_id="NSE:X", side=order.side, quantity=1,
                        price=Decimal("100.05") + n, ts=ts, client_order_id=tag, broker_order_id=f"B{n}", costs=Decimal("0.5"))
            steps.append([OrderSubmitted(ts=ts, account="paper", order=order),
                          OrderAccepted(ts=ts, account="paper", client_order_id=tag, broker_order_id=f"B{n}"),
                          FillRecorded(ts=ts, account="paper", fill=fill, strategy="s")])
        for number, events in enumerate(steps):
            for event in events:
                book.apply(event)
            store.commit(events, book, durable=False)
            if (number + 1) % flush_every == 0:
                store.flush(book)
        written = store.behind
        store.flush(book)
        store.close()
        return written

    assert write(tmp_path / "bulk.duckdb", 10**9) >= BULK_ROWS  # one flush of everything: the Arrow path
    assert write(tmp_path / "rows.duckdb", 50) < BULK_ROWS  # many small flushes: the row path
    with DuckDBStore(tmp_path / "bulk.duckdb", readonly=True) as bulk, DuckDBStore(tmp_path / "rows.duckdb", readonly=True) as rows:
        assert bulk.query("SELECT seq, ts, type, account, payload FROM events ORDER BY seq") == \
            rows.query("SELECT seq, ts, type, account, payload FROM events ORDER BY seq")
        for table in ("orders", "fills", "positions", "trades", "accounts"):
            assert sorted(bulk.table_rows(table), key=repr) == sorted(rows.table_rows(table), key=repr), table
        assert [e for _, e in bulk.events()] == [e for _, e in rows.events()]
        first = bulk.query("SELECT ts FROM events WHERE seq = (SELECT min(seq) FROM events WHERE type = 'FillRecorded')")[0][0]
        assert first == datetime(2024, 3, 4, 3, 45, tzinfo=UTC)


def test_a_batch_is_flushed_when_its_journal_text_reaches_the_byte_bound_whatever_its_row_count(tmp_path: Path) -> None:
    """A backtest batches up to 100,000 events; large checkpoints must not pile up in memory until then."""
    from tradekit.model.events import StrategyCheckpoint
    from tradekit.store.duckdb_store import BATCH_BYTES

    store = DuckDBStore(tmp_path / "tradekit.duckdb", batch_size=100_000)
    book = store.load_book()
    state = {"contracts": {f"C{n:05d}": [n, n * 2.5, "x" * 40] for n in range(20_000)}}  # about 1.2 MB of JSON
    size = len(json.dumps(state))
    behind = []
    for minute in range(BATCH_BYTES // size + 2):
        event = StrategyCheckpoint(ts=datetime(2024, 3, 4, 4, minute, tzinfo=UTC), account="paper", strategy="s",
                                   day=date(2024, 3, 4), state=state)
        book.apply(event)
        store.commit([event], book, durable=False)
        behind.append(store.behind)
    assert max(behind) <= BATCH_BYTES // size + 1 < 100_000
    assert store.event_count() >= BATCH_BYTES // size  # in DuckDB, not in memory
    store.flush(book)
    assert store.event_count() == len(behind)
    store.close()
