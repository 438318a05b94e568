"""Built-in plugin ``duckdb``: the store (one DuckDB file, journal plus projections)."""

from __future__ import annotations

from typing import Any

from tradekit.plugins.hookspecs import hookimpl
from tradekit.store import DuckDBStore


@hookimpl
def register_stores(register: Any) -> None:
    register("duckdb", DuckDBStore)
