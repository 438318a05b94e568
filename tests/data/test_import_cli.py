"""Importers on small hand-written broker files, and the `tradekit data` commands."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from tradekit.cli.data import app
from tradekit.data import load_day
from tradekit.data.importers import import_ib, import_kite, kite_instrument
from tradekit.model import InstrumentKind, OptionRight

runner = CliRunner()

KITE_JSON = [  # what historical_data(..., oi=True) returns, json.dump(default=str)-ed
    {"date": "2025-12-09 09:15:00+05:30", "open": 42.0, "high": 44.5, "low": 41.05, "close": 43.2, "volume": 187500, "oi": 3412500},
    {"date": "2025-12-09 09:16:00+05:30", "open": 43.2, "high": 47.0, "low": 43.0, "close": 46.65, "volume": 150000, "oi": 3390000},
    {"date": "2025-12-10 09:15:00+05:30", "open": 40.0, "high": 40.5, "low": 0, "close": 0, "volume": 1, "oi": 3300000},
]
KITE_RAW = {"status": "success", "data": {"candles": [["2025-12-09T09:15:00+0530", 61.0, 61.9, 57.4, 58.15, 240000, 5126250],
                                                       ["2025-12-09T09:16:00+0530", 58.15, 58.4, 54.95, 55.1, 97500, 5160000]]}}
IB_CSV = """\
date,open,high,low,close,volume,average,barCount
2025-12-09 09:30:00-05:00,445.10,445.40,444.90,445.25,1200,445.2,31
2025-12-09 09:30:05-05:00,445.25,445.80,445.20,445.70,900,445.5,22
2025-12-09 09:30:10-05:00,445.70,445.75,445.30,nan,700,445.5,18
"""


def test_kite_symbols_parse_to_call_put_instruments() -> None:
    weekly = kite_instrument("NFO:NIFTY25D0925900PE")
    assert (weekly.exchange, weekly.kind, weekly.right, weekly.strike, weekly.expiry, weekly.lot_size) == (
        "NFO", InstrumentKind.OPTION, OptionRight.PUT, Decimal("25900"), date(2025, 12, 9), 75)
    monthly = kite_instrument("NIFTY25DEC26000CE")
    assert monthly.right is OptionRight.CALL and monthly.expiry == date(2025, 12, 30)
    assert kite_instrument("NIFTY 50").kind is InstrumentKind.INDEX


def test_import_kite_json_splits_days_and_loader_reports_bad_rows(tmp_path: Path) -> None:
    source = tmp_path / "candles.json"
    source.write_text(json.dumps(KITE_JSON))
    result = import_kite(source, "NIFTY25D0925900PE", tmp_path / "data")
    assert [(d, rows) for d, _, rows in result.days] == [(date(2025, 12, 9), 2), (date(2025, 12, 10), 1)]
    day = load_day(tmp_path / "data" / "NSE" / "2025-12-09")
    put = day.series["NFO:NIFTY25D0925900PE"]
    assert put.close.tolist() == [43.2, 46.65] and put.oi.tolist() == [3412500, 3390000]
    assert day.bar_seconds == 60
    later = load_day(tmp_path / "data" / "NSE" / "2025-12-10")
    assert [(i.symbol, i.reason, i.count) for i in later.issues] == [("NFO:NIFTY25D0925900PE", "non_positive_price", 1)]


def test_import_kite_raw_response_merges_with_existing_day(tmp_path: Path) -> None:
    first, second = tmp_path / "pe.json", tmp_path / "ce.json"
    first.write_text(json.dumps(KITE_JSON[:2]))
    second.write_text(json.dumps(KITE_RAW))
    import_kite(first, "NIFTY25D0925900PE", tmp_path / "data")
    import_kite(second, "NIFTY25D0926000CE", tmp_path / "data")
    import_kite(first, "NIFTY25D0925900PE", tmp_path / "data")  # re-import replaces, never duplicates
    day = load_day(tmp_path / "data" / "NSE" / "2025-12-09")
    assert day.issues == ()
    assert day.series["NFO:NIFTY25D0926000CE"].close.tolist() == [58.15, 55.1]
    assert len(day.series["NFO:NIFTY25D0925900PE"]) == 2


def test_import_kite_csv_and_ib_export(tmp_path: Path) -> None:
    kite_csv = tmp_path / "kite.csv"
    kite_csv.write_text("date,open,high,low,close,volume,oi\n2025-12-09 09:15:00+05:30,42,44.5,41.05,43.2,187500,3412500\n")
    import_kite(kite_csv, "NIFTY25D0925900PE", tmp_path / "data")
    assert load_day(tmp_path / "data" / "NSE" / "2025-12-09").series["NFO:NIFTY25D0925900PE"].close.tolist() == [43.2]
    ib_csv = tmp_path / "tsla.csv"
    ib_csv.write_text(IB_CSV)
    import_ib(ib_csv, "TSLA", tmp_path / "data")
    day = load_day(tmp_path / "data" / "NYSE" / "2025-12-09")
    tsla = day.series["SMART:TSLA"]
    assert tsla.close.tolist() == [445.25, 445.70] and tsla.volume.tolist() == [1200, 900]
    assert day.bar_seconds == 5 and [(i.reason, i.count) for i in day.issues] == [("nan_price", 1)]


def test_import_ib_tws_dates_in_exchange_zone(tmp_path: Path) -> None:
    source = tmp_path / "aapl.csv"
    source.write_text("date,open,high,low,close,volume\n20251209 09:30:00 US/Eastern,280,281,279.5,280.5,100\n")
    import_ib(source, "AAPL", tmp_path / "data")
    aapl = load_day(tmp_path / "data" / "NYSE" / "2025-12-09").series["SMART:AAPL"]
    assert aapl.ts.tolist() == [1765290600 * 1_000_000_000]  # 2025-12-09 14:30 UTC


def test_cli_generic_import_with_mapping_then_show(tmp_path: Path) -> None:
    source = tmp_path / "yahoo.csv"
    source.write_text("Datetime,Open,High,Low,Close,Volume\n2025-12-09 09:30:00-05:00,230,231,229,230.5,10\n2025-12-09 09:31:00-05:00,230.5,232,230,231.5,12\n")
    maps = ["--map", "ts=Datetime", "--map", "open=Open", "--map", "high=High", "--map", "low=Low", "--map", "close=Close", "--map", "volume=Volume"]
    result = runner.invoke(app, ["import", str(source), "--symbol", "AMZN", "--market", "NYSE", "--root", str(tmp_path / "d"), *maps])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["show", "NYSE", "2025-12-09", "--root", str(tmp_path / "d"), "--json"])
    assert shown.exit_code == 0, shown.output
    payload = json.loads(shown.stdout)
    assert payload["series"][0]["instrument"] == "SMART:AMZN" and payload["series"][0]["last_close"] == 231.5


def test_cli_list_shows_bundled_days() -> None:
    result = runner.invoke(app, ["list", "--json"], env={"TRADEKIT_HOME": "/nonexistent-home-for-test"})
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {(r["market"], r["regime"]) for r in rows} >= {("NSE", "opening_gap"), ("NYSE", "retests")}
    human = runner.invoke(app, ["list", "--root", str(Path(rows[0]["path"]).parents[1])])
    assert "opening_gap" in human.stdout


def test_cli_show_reports_issues_and_missing_day(tmp_path: Path) -> None:
    from .conftest import NIFTY_INSTRUMENTS, NIFTY_MANIFEST, write_day

    write_day(tmp_path, NIFTY_MANIFEST, NIFTY_INSTRUMENTS, "ts,symbol,price\n2025-12-09T09:15:00+05:30,NIFTY 50,-1\n2025-12-09T09:15:01+05:30,NIFTY 50,25900\n")
    result = runner.invoke(app, ["show", "NSE", "--root", str(tmp_path)])
    assert result.exit_code == 0 and "1 row(s) dropped (non positive price)" in result.output
    missing = runner.invoke(app, ["show", "NYSE", "2020-01-02", "--root", str(tmp_path)])
    assert missing.exit_code == 9 and "no market day found for NYSE 2020-01-02" in missing.output


def test_cli_generate_writes_a_loadable_day(tmp_path: Path) -> None:
    result = runner.invoke(app, ["generate", "--market", "NYSE", "--date", "2025-12-09", "--regime", "fakeouts", "--seed", "3", "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert load_day(tmp_path / "NYSE" / "2025-12-09").scanner is not None
    bad = runner.invoke(app, ["generate", "--market", "NSE", "--date", "2025-12-25", "--regime", "chop", "--root", str(tmp_path)])
    assert bad.exit_code == 9 and "not a NSE trading day" in bad.output
