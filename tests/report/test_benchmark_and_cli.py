"""Benchmark from index data files, the `report` command's outputs, and trade exports."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from tradekit.cli import report_cmd
from tradekit.report.metrics import ReportFilters
from tradekit.services.report import EXPORT_COLUMNS, build_report
from tradekit.services.setup import workspace
from tradekit.testing.ledger import D1, D2, D3, D4, LIVE, PAPER, Ledger
from tradekit.testing.market import write_day

app = typer.Typer()
report_cmd.register(app)
runner = CliRunner()


def index_days(root: Path) -> None:
    """NIFTY 50 opens D1 at 25,000 and closes D4 at 25,250; D3 has no file at all."""
    write_day(root, "NSE", D1, {"NIFTY 50": [25000, 25100, 25050]}, kind="INDEX")
    write_day(root, "NSE", D2, {"NIFTY 50": [25050, 24800]}, kind="INDEX")
    write_day(root, "NSE", D4, {"NIFTY 50": [24800, 25100, 25250]}, kind="INDEX")


@pytest.fixture
def configured(scenario: Ledger, isolated_home: Path, tmp_path: Path) -> Path:
    root = tmp_path / "data"
    index_days(root)
    (isolated_home / "tradekit.toml").write_text(f'[data]\nroot = "{root}"\n[report]\nrisk_free = 0.0\n')
    return root


def test_benchmark_from_first_trading_day(configured: Path) -> None:
    report = build_report(workspace(), ReportFilters())
    paper = next(b for b in report.benchmarks if b["account"] == PAPER)
    assert paper["benchmark"] == "NIFTY 50" and paper["first_trading_day"] == D1
    assert paper["benchmark_start_level"] == pytest.approx(25000) and paper["benchmark_end_level"] == pytest.approx(25250)
    assert paper["benchmark_return"] == pytest.approx(25250 / 25000 - 1)
    assert paper["account_return"] == pytest.approx(99_955 / 100_000 - 1)
    assert paper["excess_return"] == pytest.approx((99_955 / 100_000 - 1) - (25250 / 25000 - 1))
    # a narrower window does not move the start of the comparison
    later = build_report(workspace(), ReportFilters(start=D3))
    assert next(b for b in later.benchmarks if b["account"] == PAPER)["benchmark_return"] == pytest.approx(0.01)
    # the chart's benchmark line: capital invested at D1's open, valued at each close; D3 carries D2's close
    curve = report.curves["paper"]
    assert curve["benchmark"] == pytest.approx([100_000 * c / 25000 for c in (25050, 24800, 24800, 25250)])
    live = next(b for b in report.benchmarks if b["account"] == LIVE)
    assert live["benchmark_return"] == pytest.approx(25050 / 25000 - 1)


def test_benchmark_without_data_says_so(configured: Path) -> None:
    report = build_report(workspace(), ReportFilters(), benchmark="SPY")
    paper = next(b for b in report.benchmarks if b["account"] == PAPER)
    assert paper["benchmark_return"] is None and "no SPY data" in paper["note"]
    assert paper["account_return"] == pytest.approx(-0.00045)


def test_report_command_tables_json_and_html(configured: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["report"], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    for text in ("paper: results", "live: results", "strategy loser", "not recovered", "MAX_TRADES", "limit 2 reached", "NIFTY 50"):
        assert text in result.output
    assert result.output.index("paper: results") < result.output.index("live: results")
    result = runner.invoke(app, ["report", "--json", "--strategy", "momo", "--mode", "paper"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {s["key"] for s in data["scopes"]} == {"paper", PAPER, "paper/momo"}
    assert data["scopes"][0]["net_pnl"] == pytest.approx(95)
    assert data["filters"]["strategies"] == ["momo"]
    page = tmp_path / "out" / "report.html"
    result = runner.invoke(app, ["report", "--html", str(page), "--json"])
    assert result.exit_code == 0, result.output
    html = page.read_text()
    for chart in ("equity-paper", "drawdown-paper", "pnl-paper", "months-paper", "equity-live"):
        assert f'id="{chart}"' in html
    assert "<link" not in html and " src=" not in html and "https://" not in html  # nothing fetched at view time


def test_report_refuses_bad_input(configured: Path) -> None:
    result = runner.invoke(app, ["report", "--from", "2025-13-01"])
    assert result.exit_code != 0 and "--from" in str(result.exception)
    result = runner.invoke(app, ["report", "--from", "2025-12-04", "--to", "2025-12-01"])
    assert "after --to" in str(result.exception)
    result = runner.invoke(app, ["report", "--mode", "demo"])
    assert "--mode must be paper or live" in str(result.exception)


def test_export_day_and_all_time_have_the_same_columns(configured: Path, tmp_path: Path, isolated_home: Path) -> None:
    result = runner.invoke(app, ["export", "trades", "--day", "2025-12-01"])
    assert result.exit_code == 0, result.output
    day_file = isolated_home / "exports" / "trades-2025-12-01.csv"
    with day_file.open() as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert len(rows) == 4  # T1, T2, T4 on paper and T7 live
    assert sum(float(r["net_pnl"]) for r in rows) == pytest.approx(95 - 50 - 40 + 500)
    assert {r["day"] for r in rows} == {"2025-12-01"}
    target = tmp_path / "all.parquet"
    result = runner.invoke(app, ["export", "trades", "--all", "--format", "parquet", "--out", str(target), "--mode", "paper"])
    assert result.exit_code == 0 and "6 trades" in result.output
    table = pq.read_table(target)
    assert tuple(table.column_names) == EXPORT_COLUMNS
    assert table.num_rows == 6 and set(table.column("account").to_pylist()) == {PAPER}
    assert sorted(table.column("exit_reason").to_pylist()) == ["STOP"] * 4 + ["TARGET"] * 2
    result = runner.invoke(app, ["export", "trades", "--all", "--format", "xlsx"])
    assert "--format must be one of csv, parquet" in str(result.exception)
    result = runner.invoke(app, ["export", "trades"])
    assert "exactly one of --day" in str(result.exception)


def _one_migration_behind(store_path: Path) -> None:
    """The store as the tradekit before m004 left it (the table and its migration row gone)."""
    import duckdb

    connection = duckdb.connect(str(store_path))
    connection.execute("DROP TABLE trades_daily")
    connection.execute("DELETE FROM schema_migrations WHERE name = 'm004_trades_daily'")
    connection.close()


def test_report_after_an_upgrade_migrates_the_store_first(configured: Path, isolated_home: Path) -> None:
    """The morning's `report` after an upgrade: the store an older tradekit wrote is migrated (under the writer's
    lock) and read, with the same figures, instead of an error asking for some writing command first."""
    before = runner.invoke(app, ["report", "--json"])
    assert before.exit_code == 0, before.output
    _one_migration_behind(isolated_home / "tradekit.duckdb")
    after = runner.invoke(app, ["report", "--json"])
    assert after.exit_code == 0, after.output
    assert json.loads(after.stdout)["scopes"] == json.loads(before.stdout)["scopes"]
    from tradekit.store import DuckDBStore

    with DuckDBStore(isolated_home / "tradekit.duckdb", readonly=True) as store:
        assert "m004_trades_daily" in store.migrations()


def test_report_on_a_store_a_running_writer_holds_says_so_and_changes_nothing(configured: Path, isolated_home: Path) -> None:
    from tradekit.errors import StoreNeedsMigration
    from tradekit.store.lock import StoreLock

    path = isolated_home / "tradekit.duckdb"
    _one_migration_behind(path)
    writer = StoreLock(path)  # what a running (older) engine holds
    writer.acquire()
    try:
        result = runner.invoke(app, ["report"])
    finally:
        writer.release()
    assert isinstance(result.exception, StoreNeedsMigration)
    message = str(result.exception)
    assert "needs migration m004_trades_daily" in message and "being written by another tradekit process" in message
    assert "\n" not in message
