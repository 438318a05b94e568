"""Market data: the on-disk day format, loading with hygiene, samples, generators, importers.

See docs/data-format.md for the file format and docs/sample-days.md for the
bundled days.
"""

from tradekit.data.catalog import DayInfo, bundled_root, find_day, list_days
from tradekit.data.loader import ISSUE_REASONS, DataIssue, MarketDay, Series, load_day
from tradekit.data.nifty import generate_nifty_day
from tradekit.data.scanner import ScannerSetup, read_scanner
from tradekit.data.us import generate_us_day

__all__ = [
    "ISSUE_REASONS",
    "DataIssue",
    "DayInfo",
    "MarketDay",
    "ScannerSetup",
    "Series",
    "bundled_root",
    "find_day",
    "generate_nifty_day",
    "generate_us_day",
    "list_days",
    "load_day",
    "read_scanner",
]
