"""ps60: pivot breakouts on US equities, a tradekit strategy plugin."""

from tradekit_ps60.analytics import report_lines, summarize
from tradekit_ps60.config import Ps60Config, parse_config
from tradekit_ps60.plugin import factory
from tradekit_ps60.scanner import ScannerError, Setup, parse_scanner, read_scanner
from tradekit_ps60.strategy import Ps60Strategy

__all__ = [
    "Ps60Config",
    "Ps60Strategy",
    "ScannerError",
    "Setup",
    "factory",
    "parse_config",
    "parse_scanner",
    "read_scanner",
    "report_lines",
    "summarize",
]
