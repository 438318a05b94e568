"""The store: journal plus projections. DuckDB is the built-in implementation."""

from tradekit.store.duckdb_store import DuckDBStore, default_store_path

__all__ = ["DuckDBStore", "default_store_path"]
