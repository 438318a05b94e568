"""The DuckDB store: one file, an append-only journal plus projections, one transaction per step.

A durable commit is first appended to the ahead log (``<store>.journal``,
one write and one fsync: see ``ahead_log.py``); the DuckDB transaction
follows at once, or, with ``lazy_projections``, after the caller has acted
(the engine flushes at the end of each step). Opening applies whatever the
log holds that DuckDB does not, so a kill -9 between the two loses nothing.

Opening refuses a damaged file, a file that is not a tradekit store and a
store written by a newer tradekit, with a one-line ``StoreError`` naming the
file; it never overwrites or recreates an existing file. Writers take an
exclusive lock file next to the store, so a second writer is refused with
the first one's pid.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from tradekit import __version__
from tradekit.errors import StoreError, StoreNeedsMigration
from tradekit.faults import crashpoint
from tradekit.model.book import Book, DayRecord, RiskRecord, StrategyRecord
from tradekit.model.events import Event, event_from_row
from tradekit.model.orders import Order, OrderStatus
from tradekit.model.positions import Position
from tradekit.model.trades import OpenTrade
from tradekit.store import arrow
from tradekit.store import rows as R
from tradekit.store import trades_daily
from tradekit.store.ahead_log import AheadLog, LoggedEvent
from tradekit.store.lock import StoreLock
from tradekit.store.schema import MIGRATIONS, PROJECTION_TABLES

APP_ID = "tradekit-store"


class DuckDBStore:
    """Journal + projections in one DuckDB file."""

    def __init__(self, path: Path, *, readonly: bool = False, batch_size: int = 1, lazy_projections: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.batch_size = max(1, batch_size)
        self.lazy_projections = lazy_projections  # durable commits stop at the ahead log; flush() writes DuckDB
        self._rows: list[LoggedEvent] = []  # journalled events not in DuckDB yet, in sequence order
        self._batched_bytes = 0  # payload bytes among them: a batch is flushed at BATCH_BYTES too, so memory stays flat
        self._logged = 0  # how many of them the ahead log holds
        self._log = AheadLog(self.path.with_suffix(".journal"))
        self._lock: StoreLock | None = None
        if readonly:
            self._catch_up_for_reader()
        else:
            self._lock = StoreLock(self.path)
            self._lock.acquire()
        self._connection = None  # type: ignore[assignment]
        try:
            self._connection = self._connect()
            self._check_and_migrate()
        except BaseException:
            if self._connection is not None:  # a refused file must not stay open in this process
                self._connection.close()
                self._connection = None  # type: ignore[assignment]
            if self._lock is not None:
                self._lock.release()
            raise
        self._next_seq = self._scalar("SELECT coalesce(max(seq), 0) + 1 FROM events")
        if not readonly:
            try:
                self._catch_up()
            except BaseException:
                self._log.close()
                self._connection.close()
                self._connection = None  # type: ignore[assignment]
                self._lock.release()  # type: ignore[union-attr]
                raise

    def _catch_up(self) -> None:
        """Apply what the ahead log holds beyond DuckDB's journal (a run killed between the two), then empty it."""
        if not self._log.has_records():
            return
        rows = [row for row in self._log.read() if row.seq >= self._next_seq]
        if rows:
            if rows[0].seq != self._next_seq:
                raise StoreError(f"journal log {self._log.path} starts at event {rows[0].seq} but the store ends at "
                                 f"{self._next_seq - 1}; the store was left untouched")
            book = self.load_book()
            for row in rows:
                book.apply(event_from_row(row.type, row.ts, row.account, json.loads(row.payload)))
            self._rows, self._logged = rows, len(rows)
            self._next_seq = rows[-1].seq + 1
            self.flush(book)  # one transaction; empties the log after it committed
        else:
            self._log.clear()  # everything in it reached DuckDB before the process stopped

    def _catch_up_for_reader(self) -> None:
        """A reader finding log records no writer is applying applies them first (a store left by a kill)."""
        if not self._log.has_records():
            return
        try:
            writer = DuckDBStore(self.path)
        except StoreError:
            return  # a running writer holds it (and will apply them), or the file is refused below anyway
        writer.close()

    # ---- opening -------------------------------------------------------
    def _connect(self) -> duckdb.DuckDBPyConnection:
        exists = self.path.exists()
        if self.readonly and not exists:
            raise StoreError(f"no store at {self.path} (run `tradekit run` first, or pass --home)")
        if exists and self.path.stat().st_size == 0:
            raise StoreError(f"store {self.path} is empty (0 bytes): damaged; restore a backup from {self.backup_dir}")
        if not exists:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = duckdb.connect(str(self.path), read_only=self.readonly)
        except duckdb.IOException as error:
            message = str(error).splitlines()[0]
            if "lock" in message.lower():
                raise StoreError(
                    f"store {self.path} is in use by another process ({message}); "
                    "ask the running engine (tradekit status) or stop it first"
                ) from None
            raise StoreError(
                f"store {self.path} is damaged or not a DuckDB file ({message}); it was left untouched; "
                f"restore a backup from {self.backup_dir}"
            ) from None
        except duckdb.Error as error:
            raise StoreError(f"store {self.path} cannot be opened: {str(error).splitlines()[0]}") from None
        connection.execute("SET TimeZone = 'UTC'")
        return connection

    def _check_and_migrate(self) -> None:
        try:
            self._check_and_migrate_unguarded()
        except duckdb.Error as error:  # pages missing or corrupt beyond the header (a truncated copy)
            raise StoreError(
                f"store {self.path} is damaged ({str(error).splitlines()[0]}); it was left untouched; "
                f"restore a backup from {self.backup_dir}"
            ) from None

    def _check_and_migrate_unguarded(self) -> None:
        try:
            tables = {row[0] for row in self._connection.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        except duckdb.Error as error:
            raise StoreError(f"store {self.path} is damaged ({str(error).splitlines()[0]}); restore a backup from {self.backup_dir}") from None
        if not tables:
            if self.readonly:
                raise StoreError(f"store {self.path} is empty; nothing to read")
            self._create()
            return
        if "schema_migrations" not in tables or "meta" not in tables:
            raise StoreError(f"{self.path} is a DuckDB file but not a tradekit store; refusing to touch it")
        app = self._connection.execute("SELECT value FROM meta WHERE key = 'app'").fetchone()
        if app is None or app[0] != APP_ID:
            raise StoreError(f"{self.path} is a DuckDB file but not a tradekit store; refusing to touch it")
        applied = [row[0] for row in self._connection.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]
        known = [name for name, _ in MIGRATIONS]
        unknown = sorted(set(applied) - set(known))
        if unknown:
            raise StoreError(
                f"store {self.path} was written by a newer tradekit (migration {unknown[-1]} unknown to {__version__}); "
                "upgrade tradekit; the store was left untouched"
            )
        pending = [(name, sql) for name, sql in MIGRATIONS if name not in applied]
        if pending and self.readonly:
            raise StoreNeedsMigration(f"store {self.path} needs migration {pending[0][0]}; open it once with a writing command")
        if pending:
            self._migrate(pending)

    def _create(self) -> None:
        with self._transaction():
            self._connection.execute("CREATE TABLE schema_migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)")
            for name, sql in MIGRATIONS:
                self._connection.execute(sql)
                self._connection.execute("INSERT INTO schema_migrations VALUES (?, ?)", [name, datetime.now(UTC)])
            self._connection.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [["app", APP_ID], ["store_id", secrets.token_hex(2).upper()], ["created_by", __version__]],
            )

    def _migrate(self, pending: Sequence[tuple[str, str]]) -> None:
        with self._transaction():
            for name, sql in pending:
                self._connection.execute(sql)
                self._connection.execute("INSERT INTO schema_migrations VALUES (?, ?)", [name, datetime.now(UTC)])

    def _transaction(self) -> _Transaction:
        return _Transaction(self._connection, self.path)

    def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self._connection.execute(sql, list(params)).fetchall()  # all: a half-read result blocks the connection
        return rows[0][0] if rows else None

    # ---- identity and lifecycle ---------------------------------------
    @property
    def backup_dir(self) -> Path:
        return self.path.parent / "backups"

    @property
    def store_id(self) -> str:
        """The store's id (in every order tag); written once at creation, so read once."""
        if getattr(self, "_store_id", None) is None:
            self._store_id = str(self._scalar("SELECT value FROM meta WHERE key = 'store_id'"))
        return self._store_id

    def migrations(self) -> list[str]:
        return [row[0] for row in self._connection.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]

    def checkpoint_at_close(self) -> None:
        """Let DuckDB's write-ahead log grow until close instead of checkpointing every 16 MB of it.

        A backtest writes its journal in large batches; each automatic checkpoint rewrote the
        events table's key index whole, so the n-th one cost more than the one before (a year
        of oi-momentum: 0.4 s for the first, 1.9 s for the ninth). Commits stay durable in the
        WAL; the one checkpoint happens at close.
        """
        self._connection.execute("SET checkpoint_threshold = '16GB'")

    def close(self) -> None:
        """Close; journalled events DuckDB does not hold yet stay in the ahead log for the next open."""
        if getattr(self, "_connection", None) is None:
            return
        try:
            if len(self._rows) > self._logged:
                raise StoreError("close() with unflushed events; call flush(book) first")
        finally:
            self._log.close()
            self._connection.close()
            self._connection = None  # type: ignore[assignment]
            if self._lock is not None:
                self._lock.release()

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self._drop_unlogged()  # never journalled: dropped with the failed step
        self.close()

    # ---- writing -------------------------------------------------------
    def commit(self, events: Sequence[Event], book: Book, *, durable: bool = True) -> None:
        """Journal ``events`` and the projection rows they changed in ``book``.

        The caller has already applied the events to ``book``. With
        ``durable`` (live runs, any step that sends an order) the events are
        on disk when this returns: in the ahead log, and in DuckDB too unless
        ``lazy_projections`` leaves that to the caller's next ``flush``.
        Otherwise events are batched up to ``batch_size``.
        """
        if self.readonly:
            raise StoreError(f"store {self.path} is open read-only")
        encoded = []
        for offset, event in enumerate(events):
            try:
                payload = event.payload_text()
            except (TypeError, ValueError) as error:
                self._drop_unlogged()  # the batch so far goes with it, as a failed flush would
                book.take_dirty()
                raise StoreError(
                    f"store {self.path}: {event.TYPE} event cannot be journalled (payload is not plain JSON: "
                    f"{error}); nothing of this step was written"
                ) from None
            encoded.append(LoggedEvent(self._next_seq + offset, event.ts, event.TYPE, event.account, payload))
        self._rows.extend(encoded)
        self._next_seq += len(encoded)
        self._batched_bytes += sum(len(e.payload) for e in encoded)
        if durable:
            logged_before, mark = self._logged, self._log.size()
            if len(self._rows) > self._logged:
                self._log.append(self._rows[self._logged:])
                self._logged = len(self._rows)
                crashpoint("after_log")
            if not self.lazy_projections:
                try:
                    self.flush(book)
                except BaseException:
                    # DuckDB refused the step before the caller acted: take it back out of the log too,
                    # or every later open would fail replaying it
                    self._log.truncate(mark)
                    self._logged = logged_before
                    self._drop_unlogged()
                    raise
        elif len(self._rows) >= self.batch_size or self._batched_bytes >= BATCH_BYTES:
            self.flush(book)

    def _drop_unlogged(self) -> None:
        if len(self._rows) > self._logged:
            self._next_seq = self._rows[self._logged].seq
            del self._rows[self._logged:]
            self._batched_bytes = sum(len(r.payload) for r in self._rows)  # what is left of the batch

    @property
    def behind(self) -> int:
        """Journalled events DuckDB does not hold yet (in the ahead log or batched in memory)."""
        return len(self._rows)

    def flush(self, book: Book) -> None:
        """Write the journalled events and the projection rows they changed to DuckDB, in one transaction."""
        if not self._rows and not book.dirty:
            return
        rows = self._rows
        dirty = book.take_dirty()
        now = datetime.now(UTC)
        try:
            with self._transaction():
                if len(rows) >= BULK_ROWS:
                    _insert_events(self._connection, rows, now)
                elif rows:
                    _insert(self._connection, "INSERT INTO events",
                            [[r.seq, R.utc(r.ts), now, r.type, r.account, r.payload] for r in rows])
                self._write(book, dirty)
                crashpoint("inside_transaction")
        except BaseException:
            self._drop_unlogged()  # batched, never logged: gone with the failed step, as the error says
            raise
        logged, self._rows, self._logged, self._batched_bytes = self._logged, [], 0, 0
        if logged:
            self._log.clear()

    def _write(self, book: Book, dirty: Any) -> None:
        c = self._connection
        replace_into = "INSERT OR REPLACE INTO"
        if dirty.orders:
            _insert(c, f"{replace_into} orders", [R.order_row(book.orders[k]) for k in sorted(dirty.orders)])
        if dirty.fills:
            _insert(c, f"{replace_into} fills", [R.fill_row(f) for f in dirty.fills])
        if dirty.positions:
            _insert(c, f"{replace_into} positions", [R.position_row(book, k) for k in sorted(dirty.positions)])
        if dirty.trades:
            _write_trades(c, [R.trade_row(t) for t in dirty.trades])
        accounts = set(dirty.accounts) | {a for a, _ in dirty.positions} | {book.orders[k].account for k in dirty.orders}
        if accounts:
            _insert(c, f"{replace_into} accounts", [R.account_row(book, a) for a in sorted(accounts)])
        if dirty.days:
            _insert(c, f"{replace_into} accounts_daily", [R.day_row(book, k) for k in sorted(dirty.days)])
        if dirty.strategies:
            _insert(c, f"{replace_into} strategy_state", [R.strategy_row(book, k) for k in sorted(dirty.strategies)])
        if dirty.blocks:
            _insert(c, f"{replace_into} blocks", [R.block_row(book, k) for k in sorted(dirty.blocks)])
        if dirty.risk:
            _insert(c, f"{replace_into} risk_state", [R.risk_row(book, k) for k in sorted(dirty.risk)])

    # ---- reading -------------------------------------------------------
    def load_book(self) -> Book:
        """The book as the projections hold it: a load, not a replay."""
        book = Book()
        c = self._connection
        for row in c.execute("SELECT * FROM orders").fetchall():
            order = _order_from_row(row)
            book.orders[order.client_order_id] = order
        for row in c.execute("SELECT * FROM positions").fetchall():
            account, instrument_id = row[0], row[1]
            book.positions[(account, instrument_id)] = Position(
                account=account, instrument_id=instrument_id, quantity=row[2], average_price=row[3],
                realized_pnl=row[4], costs=row[5], opened_at=row[6], strategy=row[7] or "", external=row[8],
            )  # fmt: skip
            if row[9]:
                book.open_trades[(account, instrument_id)] = OpenTrade.from_dict(json.loads(row[9]))
        for account, cash, current_day, order_count, trade_count, last_fill_ts in c.execute("SELECT * FROM accounts").fetchall():
            book.cash[account] = cash
            if current_day is not None:
                book.current_day[account] = current_day
            book.order_count[account] = order_count
            book.trade_count[account] = trade_count
            if last_fill_ts is not None:
                book.last_fill_ts[account] = last_fill_ts
        for account, day, open_cash, close_cash, close_equity in c.execute("SELECT * FROM accounts_daily").fetchall():
            book.days[(account, day)] = DayRecord(account, day, open_cash, close_cash, close_equity)
        for account, strategy, day, ts, state in c.execute("SELECT * FROM strategy_state").fetchall():
            book.strategies[(account, strategy)] = StrategyRecord(account, strategy, day, json.loads(state), ts)
        for account, strategy, day, rule, count in c.execute("SELECT * FROM blocks").fetchall():
            book.blocks[(account, strategy, day, rule)] = count
        for account, key, day, ts, value, reason in c.execute("SELECT * FROM risk_state").fetchall():
            book.risk[(account, key)] = RiskRecord(account, key, day, None if value is None else json.loads(value), reason or "", ts)
        for account, fill_id in c.execute("SELECT account, fill_id FROM fills").fetchall():
            book.fill_ids.add((account, fill_id))
        book.reindex()
        book.take_dirty()
        return book

    def events(self, since_seq: int = 0) -> Iterator[tuple[int, Event]]:
        cursor = self._connection.execute(
            "SELECT seq, type, ts, account, payload FROM events WHERE seq > ? ORDER BY seq", [since_seq]
        )
        while batch := cursor.fetchmany(10_000):
            for seq, type_name, ts, account, payload in batch:
                yield seq, event_from_row(type_name, ts, account, json.loads(payload))

    def event_count(self) -> int:
        return int(self._scalar("SELECT count(*) FROM events"))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read-only SQL for reports and listings."""
        return self._connection.execute(sql, list(params)).fetchall()

    def query_with_columns(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self._connection.execute(sql, list(params))
        return [d[0] for d in cursor.description], cursor.fetchall()

    def query_df(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._connection.execute(sql, list(params)).df()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A second connection to the same open database, for a read in another thread (DuckDB runs each
        query without the GIL, so the report's independent scans overlap). It sees committed tables, not this
        connection's temporary ones; the caller closes it before ``close()``."""
        cursor = self._connection.cursor()
        cursor.execute("SET TimeZone = 'UTC'")
        return cursor

    def table_rows(self, table: str) -> list[tuple[Any, ...]]:
        if table not in PROJECTION_TABLES:
            raise ValueError(f"not a projection table: {table}")
        return self._connection.execute(f"SELECT * FROM {table}").fetchall()

    # ---- backups -------------------------------------------------------
    def backup(self, label: str | date, keep: int = 10) -> Path:
        """Copy the store (after a checkpoint) to ``backups/store-<label>.duckdb``; keep the newest ``keep``."""
        if self._rows:
            raise StoreError("backup with unflushed events")
        self._connection.execute("CHECKPOINT")
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        target = self.backup_dir / f"{self.path.stem}-{label}.duckdb"
        temporary = target.with_suffix(".partial")
        shutil.copyfile(self.path, temporary)
        os.replace(temporary, target)
        backups = sorted(self.backup_dir.glob(f"{self.path.stem}-*.duckdb"), key=lambda p: p.stat().st_mtime)
        for old in backups[:-keep]:
            old.unlink(missing_ok=True)
        return target


class _Transaction:
    def __init__(self, connection: duckdb.DuckDBPyConnection, path: Path) -> None:
        self._connection = connection
        self._path = path

    def __enter__(self) -> None:
        self._connection.execute("BEGIN TRANSACTION")

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if exc_type is None:
            try:
                self._connection.execute("COMMIT")
            except duckdb.Error as error:
                self._connection.execute("ROLLBACK")
                raise StoreError(f"store {self._path}: commit failed: {str(error).splitlines()[0]}") from None
        else:
            self._connection.execute("ROLLBACK")
            if isinstance(exc, duckdb.Error):  # a row the schema refuses: nothing of the step was written
                raise StoreError(
                    f"store {self._path}: write failed, nothing of this step was written: {str(exc).splitlines()[0]}"
                ) from None


def _marks(count: int) -> str:
    return ", ".join("?" * count)


BATCH_BYTES = 16 << 20  # a batch holding this much journal text is flushed whatever its row count (a year's
# backtest checkpoints 82-contract states: 165 MB of JSON held to the end peaked at 1.2 GB)
INSERT_CHUNK = 256  # rows per statement: DuckDB's cost is per statement far more than per row


BULK_ROWS = 1024  # from here on, rows go in as one Arrow table (a backtest's batch): one scan instead of many statements


def _insert(connection: duckdb.DuckDBPyConnection, head: str, rows: Sequence[Sequence[Any]]) -> None:
    """``head VALUES (...), (...), ...``: one statement per chunk instead of ``executemany``'s one per row;
    a large batch as one Arrow table (DuckDB casts each column to the table's type, Decimals stay exact)."""
    if not rows:
        return
    if len(rows) >= BULK_ROWS:
        arrow.insert(connection, arrow.table({f"c{i}": column for i, column in enumerate(zip(*rows))}),
                     f"{head} SELECT * FROM _tradekit_arrow")
        return
    width = len(rows[0])
    group = f"({_marks(width)})"
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start:start + INSERT_CHUNK]
        connection.execute(f"{head} VALUES {', '.join([group] * len(chunk))}", [value for row in chunk for value in row])


def _insert_events(connection: duckdb.DuckDBPyConnection, rows: Sequence[LoggedEvent], written: datetime) -> None:
    """A large batch of journal rows as one Arrow table built column by column (times converted to UTC by Arrow)."""
    import pyarrow as pa

    stamp = pa.timestamp("us", tz="UTC")
    table = pa.table({
        "seq": pa.array([r.seq for r in rows], type=pa.int64()),
        "ts": pa.array([r.ts for r in rows], type=stamp),
        "written": pa.array([written] * len(rows), type=stamp),
        "type": pa.array([r.type for r in rows], type=pa.string()),
        "account": pa.array([r.account for r in rows], type=pa.string()),
        "payload": pa.array([r.payload for r in rows], type=pa.string()),
    })  # fmt: skip
    arrow.insert(connection, table, "INSERT INTO events SELECT * FROM _tradekit_arrow")


def _write_trades(connection: duckdb.DuckDBPyConnection, rows: Sequence[Sequence[Any]]) -> None:
    """Closed trades and their per-day summary (``trades_daily``), in the caller's transaction."""
    before = connection.execute("SELECT count(*) FROM trades").fetchall()[0][0]  # fetchall: DuckDB 2 keeps a fetchone()'s result open
    _insert(connection, "INSERT OR REPLACE INTO trades", rows)
    after = connection.execute("SELECT count(*) FROM trades").fetchall()[0][0]
    trades_daily.add(connection, rows, replaced=after - before != len({(row[0], row[1]) for row in rows}))


def _order_from_row(row: tuple[Any, ...]) -> Order:
    from tradekit.model.orders import OrderType, Side

    return Order(
        client_order_id=row[0], account=row[1], instrument_id=row[2], side=Side(row[3]), quantity=row[4],
        order_type=OrderType(row[5]), limit_price=row[6], stop_price=row[7], strategy=row[8] or "",
        reason=row[9] or "", created_at=row[10], status=OrderStatus(row[11]), broker_order_id=row[12],
        filled_quantity=row[13], average_fill_price=row[14], signal_price=row[15], status_reason=row[16] or "",
        protective_stop=row[17],
    )  # fmt: skip


def default_store_path(home: Path) -> Path:
    return home / "tradekit.duckdb"


def money(value: Decimal | None) -> Decimal | None:
    return R.money(value)
