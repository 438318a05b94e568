"""doctor: the projections of a real run match a rebuild from the journal; a tampered row is found."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import DAYS, example_config
from tradekit.services.doctor import check
from tradekit.services.run import RunOptions, run
from tradekit.services.setup import workspace
from tradekit.store import DuckDBStore
from tradekit.store.schema import MIGRATIONS
from tradekit.testing.market import random_walk, session_bars, write_day


@pytest.fixture(scope="module")
def ran_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real paper run of the example strategy (about 5 s), shared; tests work on copies of its store."""
    home = tmp_path_factory.mktemp("ran") / "home"
    root = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRADEKIT_HOME", str(home))
        for name in list(os.environ):
            if name.startswith("TRADEKIT__"):
                patch.delenv(name)
        bars = session_bars("NSE", 60)
        write_day(root, "NSE", DAYS[1], {"TESTCO": random_walk(12, bars, 1000.0)})
        example_config(home, root)
        lines: list[str] = []
        outcome = run(workspace(home), RunOptions(strategy="example"), lines.append)
    assert outcome.result is not None and outcome.result.fills > 0, lines
    return workspace(home).store_path


@pytest.fixture
def store_copy(ran_store: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy" / "tradekit.duckdb"
    target.parent.mkdir()
    shutil.copyfile(ran_store, target)
    return target


def test_doctor_after_real_run_clean(store_copy: Path) -> None:
    with DuckDBStore(store_copy, readonly=True) as store:
        report = check(store)
        trades = store.query("SELECT count(*) FROM trades")[0][0]
    assert report.clean, report.differences
    assert report.events > 0 and trades > 0
    assert report.migrations == [name for name, _ in MIGRATIONS]


@pytest.mark.parametrize(
    ("table", "sql"),
    [("positions", "UPDATE positions SET quantity = quantity + 1"),
     ("accounts", "UPDATE accounts SET cash = cash + 0.01"),
     ("trades", "DELETE FROM trades WHERE trade_id = (SELECT min(trade_id) FROM trades)"),
     ("orders", "UPDATE orders SET status = 'ACCEPTED' WHERE client_order_id = (SELECT min(client_order_id) FROM orders)")],
)  # fmt: skip
def test_doctor_tampered_projection_reports_difference(store_copy: Path, table: str, sql: str) -> None:
    connection = duckdb.connect(str(store_copy))
    changed = connection.execute(sql).fetchall()
    connection.close()
    assert changed and changed[0][0] >= 1  # the tamper touched a row
    with DuckDBStore(store_copy, readonly=True) as store:
        report = check(store)
    assert not report.clean
    assert set(report.differences) == {table}
    difference = report.differences[table]
    assert difference["missing_in_store"]
    if sql.startswith("UPDATE"):
        assert difference["unexpected_in_store"]
