"""Rows to Arrow tables for DuckDB's bulk inserts (``INSERT ... SELECT * FROM <table>``).

Decimal columns travel as fixed-point text: pyarrow converts a Python
``Decimal`` in about 10 us (0.4 s for 40,000 of them, most of a backtest's
flush), text in a fraction of that, and DuckDB casts the text to the
column's DECIMAL type exactly (the same rounding as from a decimal array;
``tests/store/test_store.py`` compares the bulk path with the row path).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any


def table(columns: dict[str, Sequence[Any]]) -> Any:
    """A ``pyarrow.Table`` of ``columns`` (name -> values), Decimal columns as text."""
    import pyarrow as pa

    return pa.table({name: pa.array(_plain(values)) for name, values in columns.items()})


def _plain(values: Sequence[Any]) -> Sequence[Any]:
    first = next((v for v in values if v is not None), None)  # a column holds one type (and None)
    if type(first) is not Decimal:
        return values
    return [None if v is None else f"{v:f}" if type(v) is Decimal else v for v in values]


def insert(connection: Any, table: Any, sql: str) -> None:
    """Run ``sql`` (which reads the view ``_tradekit_arrow``) with ``table`` registered under that name, then drop it.

    The statement is finished (``fetchall``): DuckDB 2 streams results, and an unfinished insert is not done.
    """
    connection.register("_tradekit_arrow", table)
    try:
        connection.execute(sql).fetchall()
    finally:
        connection.unregister("_tradekit_arrow")
