"""The report over a store the real engine wrote: three paper days of the example strategy.

Cross-checks the SQL against numbers the engine recorded itself (closing
equity per day, trade rows), not against the report's own arithmetic.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tradekit.report.metrics import ReportFilters
from tradekit.services.report import build_report
from tradekit.services.run import RunOptions, run
from tradekit.services.setup import workspace
from tradekit.store import DuckDBStore
from tradekit.testing.market import example_config


def test_report_matches_what_the_engine_recorded(isolated_home: Path, market_root: Path) -> None:
    example_config(isolated_home, market_root)
    for _ in range(3):
        run(workspace(), RunOptions(broker="paper", strategy="example"), lambda line: None)
    store = DuckDBStore(isolated_home / "tradekit.duckdb", readonly=True)
    try:
        days = store.query("SELECT day, open_cash, close_equity FROM accounts_daily ORDER BY day")
        net, count = store.query("SELECT sum(net_pnl), count(*) FROM trades")[0]
    finally:
        store.close()
    assert len(days) == 3 and count > 0
    report = build_report(workspace(), ReportFilters())
    (paper,) = [s for s in report.metrics.scopes if s["kind"] == "overall"]
    assert paper["trades"] == count
    assert paper["net_pnl"] == pytest.approx(float(net))
    assert paper["capital"] == pytest.approx(100_000)  # [paper] capital in the example config
    # the example strategy is flat at every close, so its end-of-day equity is exactly the engine's closing equity
    curve = [d for d in report.metrics.days if d["kind"] == "overall"]
    assert [d["day"] for d in curve] == [d[0] for d in days]
    assert [d["equity"] for d in curve] == pytest.approx([float(d[2]) for d in days])
    assert days[1][1] == days[0][2]  # each day opens with the previous close (carry-over), as the equity curve assumes
