"""The risk_state table arrives by migration: a store written before it is upgraded in place, its history kept."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from tradekit.model.events import RiskStateSet
from tradekit.services.doctor import check
from tradekit.store import DuckDBStore


def test_store_from_before_risk_state_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "tradekit.duckdb"
    DuckDBStore(path).close()
    connection = duckdb.connect(str(path))  # make it a store as the previous release left it
    connection.execute("DROP TABLE risk_state")
    connection.execute("DELETE FROM schema_migrations WHERE name = 'm002_risk_state'")
    connection.close()

    with DuckDBStore(path) as store:
        assert store.migrations()[:2] == ["m001_initial", "m002_risk_state"]  # later migrations follow
        book = store.load_book()
        event = RiskStateSet(ts=datetime(2025, 12, 8, 4, tzinfo=UTC), account="paper:default", key="latch:KILL",
                             value={"reason": "flatten"}, reason="flatten")
        book.apply(event)
        store.commit([event], book)
    with DuckDBStore(path, readonly=True) as store:
        assert store.load_book().risk_value("paper:default", "latch:KILL", date(2025, 12, 9)) == {"reason": "flatten"}
        assert check(store).clean
