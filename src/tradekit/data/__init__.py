"""Market data: the on-disk day format, loading with hygiene, samples, generators, importers.

See docs/data-format.md for the file format and docs/sample-days.md for the
bundled days.

The names below are imported on first use (PEP 562): importing one light
submodule (``tradekit.data.scanner``, ``tradekit.data.format``) must not pull
in pandas and pyarrow through this package. A strategy plugin that reads the
scanner format made every ``workspace()`` (each CLI command, each recovery)
0.5 s slower when this file imported everything eagerly.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "DayInfo": "catalog", "bundled_root": "catalog", "find_day": "catalog", "list_days": "catalog",
    "ISSUE_REASONS": "loader", "DataIssue": "loader", "MarketDay": "loader", "Series": "loader", "load_day": "loader",
    "generate_nifty_day": "nifty", "ScannerSetup": "scanner", "read_scanner": "scanner", "generate_us_day": "us",
}  # fmt: skip

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'tradekit.data' has no attribute {name!r}")
    value = getattr(import_module(f"tradekit.data.{module}"), name)
    globals()[name] = value  # found once
    return value
