"""Opening a store: migrations recorded, newer/foreign/damaged files refused untouched, one writer at a time."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tradekit.errors import StoreError, StoreLockedError
from tradekit.model.book import Book
from tradekit.model.events import DayOpened, StrategyCheckpoint
from tradekit.store import DuckDBStore, default_store_path
from tradekit.store.schema import MIGRATIONS

T0 = datetime(2025, 12, 9, 3, 45, tzinfo=UTC)
TRADEKIT = Path(sys.executable).parent / "tradekit"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_store(path: Path, checkpoints: int = 3) -> None:
    book = Book()
    with DuckDBStore(path) as store:
        events = [DayOpened(ts=T0, account="paper:t", day=date(2025, 12, 9), cash=Decimal("1000"))]
        events += [StrategyCheckpoint(ts=T0, account="paper:t", strategy="s", day=date(2025, 12, 9), state={"i": i})
                   for i in range(checkpoints)]  # fmt: skip
        for event in events:
            book.apply(event)
        store.commit(events, book)


@pytest.fixture
def store_path(isolated_home: Path) -> Path:
    isolated_home.mkdir(parents=True, exist_ok=True)
    return default_store_path(isolated_home)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TRADEKIT_DEBUG"}
    return subprocess.run([str(TRADEKIT), *args], capture_output=True, text=True, env=env, timeout=60)


def test_store_fresh_records_every_migration(store_path: Path) -> None:
    with DuckDBStore(store_path) as store:
        assert store.migrations() == [name for name, _ in MIGRATIONS]
        assert "m001_initial" in store.migrations()
        assert len(store.store_id) == 4
    connection = duckdb.connect(str(store_path), read_only=True)
    try:
        assert connection.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall() == [(name,) for name, _ in MIGRATIONS]
        assert connection.execute("SELECT value FROM meta WHERE key = 'app'").fetchone() == ("tradekit-store",)
    finally:
        connection.close()


def test_store_reopened_keeps_identity_and_events(store_path: Path) -> None:
    make_store(store_path)
    with DuckDBStore(store_path) as first:
        identity, count = first.store_id, first.event_count()
    with DuckDBStore(store_path) as second:
        assert (second.store_id, second.event_count()) == (identity, count) == (identity, 4)


def test_store_with_unknown_newer_migration_refused_untouched(store_path: Path) -> None:
    make_store(store_path)
    connection = duckdb.connect(str(store_path))
    connection.execute("INSERT INTO schema_migrations VALUES ('m999_from_the_future', now())")
    connection.close()
    before = sha256(store_path)
    for readonly in (False, True):
        with pytest.raises(StoreError, match="newer") as caught:
            DuckDBStore(store_path, readonly=readonly)
        assert "m999_from_the_future" in str(caught.value) and str(store_path) in str(caught.value)
    assert sha256(store_path) == before


def test_store_duckdb_file_of_another_program_refused_untouched(store_path: Path) -> None:
    connection = duckdb.connect(str(store_path))
    connection.execute("CREATE TABLE prices (symbol VARCHAR, price DOUBLE)")
    connection.execute("INSERT INTO prices VALUES ('X', 1.5)")
    connection.close()
    before = sha256(store_path)
    with pytest.raises(StoreError, match="not a tradekit store") as caught:
        DuckDBStore(store_path)
    assert str(store_path) in str(caught.value)
    assert sha256(store_path) == before
    connection = duckdb.connect(str(store_path), read_only=True)
    assert connection.execute("SELECT * FROM prices").fetchall() == [("X", 1.5)]
    connection.close()


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 64)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("damage", [_truncate, _garbage, _empty], ids=["truncated", "garbage", "empty"])
def test_store_damaged_file_refused_naming_file_bytes_unchanged(store_path: Path, damage: object) -> None:
    make_store(store_path)
    damage(store_path)  # type: ignore[operator]
    before = sha256(store_path)
    for readonly in (False, True):
        with pytest.raises(StoreError) as caught:
            DuckDBStore(store_path, readonly=readonly)
        assert str(store_path) in str(caught.value)
        assert "\n" not in str(caught.value)
    assert sha256(store_path) == before
    # a refused writer releases its lock: the next attempt gets the same refusal, not "locked"
    with pytest.raises(StoreError) as again:
        DuckDBStore(store_path)
    assert not isinstance(again.value, StoreLockedError)


@pytest.mark.parametrize("damage", [_truncate, _garbage], ids=["truncated", "garbage"])
def test_cli_positions_damaged_store_exits_4_with_one_line_error(store_path: Path, damage: object) -> None:
    make_store(store_path)
    damage(store_path)  # type: ignore[operator]
    before = sha256(store_path)
    result = run_cli("positions")
    assert result.returncode == 4, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(store_path) in lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert sha256(store_path) == before


def test_store_second_writer_refused_naming_first_pid(store_path: Path) -> None:
    with DuckDBStore(store_path) as first:
        with pytest.raises(StoreLockedError, match=f"pid {os.getpid()}") as caught:
            DuckDBStore(store_path)
        assert str(store_path) in str(caught.value)
        assert first.event_count() == 0  # the first writer is unaffected
    with DuckDBStore(store_path) as again:  # released on close
        assert again.event_count() == 0


def test_store_writer_in_other_process_refused_naming_its_pid(store_path: Path) -> None:
    make_store(store_path)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from pathlib import Path; from tradekit.store import DuckDBStore\n"
         f"s = DuckDBStore(Path({str(store_path)!r})); print('held', flush=True); sys.stdin.read(); s.close()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreLockedError, match=f"pid {holder.pid}"):
            DuckDBStore(store_path)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    with DuckDBStore(store_path) as store:
        assert store.event_count() == 4


def test_store_backup_copy_opens_with_same_book(store_path: Path) -> None:
    make_store(store_path)
    with DuckDBStore(store_path) as store:
        target = store.backup(date(2025, 12, 9), keep=2)
        expected = store.load_book()
        for label in ("a", "b", "c"):
            store.backup(label, keep=2)
    assert target.name == "tradekit-2025-12-09.duckdb"
    assert sorted(p.name for p in target.parent.glob("*.duckdb")) == ["tradekit-b.duckdb", "tradekit-c.duckdb"]
    copy = target.parent / "tradekit-c.duckdb"
    with DuckDBStore(copy, readonly=True) as backup:
        assert backup.event_count() == 4
        loaded = backup.load_book()
    assert loaded.strategies[("paper:t", "s")].state == expected.strategies[("paper:t", "s")].state == {"i": 2}
    assert loaded.cash == expected.cash == {"paper:t": Decimal("1000")}


def test_store_readonly_missing_file_refused_without_creating_it(store_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at"):
        DuckDBStore(store_path, readonly=True)
    assert not store_path.exists()
