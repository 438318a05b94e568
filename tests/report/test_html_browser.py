"""The HTML report opened in a real headless Chromium: the charts are laid out and drawn, not just present as text.

The page's own script records, after layout, each chart's rendered size and
the length of every drawn path (``getTotalLength`` only answers in a real
rendering engine); ``--dump-dom`` hands that back. Without a Chromium
(a machine without apt) the test is skipped with the reason; CI installs
Debian's ``chromium`` package in .ci/run.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tradekit.report.html import render
from tradekit.report.metrics import ReportFilters
from tradekit.services.report import build_report
from tradekit.services.setup import workspace
from tradekit.testing.ledger import D1, D2, D4, Ledger
from tradekit.testing.market import write_day

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-dev-shm-usage")  # fmt: skip


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it when CI=true)")


def dump_dom(page: Path, profile: Path) -> str:
    done = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_report_page_renders_charts_in_chromium(scenario: Ledger, isolated_home: Path, tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_day(root, "NSE", D1, {"NIFTY 50": [25000, 25100]}, kind="INDEX")
    write_day(root, "NSE", D2, {"NIFTY 50": [25100, 24900]}, kind="INDEX")
    write_day(root, "NSE", D4, {"NIFTY 50": [24900, 25250]}, kind="INDEX")
    (isolated_home / "tradekit.toml").write_text(f'[data]\nroot = "{root}"\n')
    page = tmp_path / "report.html"
    page.write_text(render(build_report(workspace(), ReportFilters())), encoding="utf-8")

    dom = dump_dom(page, tmp_path / "profile")
    assert 'data-rendered="yes"' in dom, "the page's script did not run after layout"
    found = re.search(r'<pre id="render-check">(.*?)</pre>', dom, re.S)
    assert found is not None
    check = json.loads(html.unescape(found.group(1)))
    charts = {c["id"]: c for c in check["charts"]}
    assert set(charts) == {f"{kind}-{mode}" for kind in ("equity", "drawdown", "pnl") for mode in ("paper", "live")}
    for chart in charts.values():
        assert chart["width"] > 300 and chart["height"] > 80, chart
    # paper: the equity line and the NIFTY line, both drawn with real length
    assert len(charts["equity-paper"]["paths"]) == 2 and min(charts["equity-paper"]["paths"]) > 100
    assert charts["drawdown-paper"]["paths"][0] > 100
    assert charts["pnl-paper"]["bars"] == 4  # one bar per trading day, the day without trades included
    assert charts["pnl-live"]["bars"] == 1
    grids = {g["id"]: g for g in check["grids"]}
    assert grids["months-paper"]["cells"] == 1 and grids["months-paper"]["height"] > 20
    # and the tables a trader reads are there too
    text = re.sub(r"<[^>]+>", " ", dom)
    assert "not recovered" in text and "MAX_TRADES" in text and "strategy loser" in text
