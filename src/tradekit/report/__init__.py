"""Reporting: performance metrics in SQL over the store, the benchmark, and the HTML page with its charts."""

from tradekit.report.metrics import Metrics, ReportFilters, compute

__all__ = ["Metrics", "ReportFilters", "compute"]
