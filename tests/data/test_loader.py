"""The loader reads hand-written days in the documented format and reports bad rows."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tradekit.data import DataIssue, load_day
from tradekit.errors import DataError
from tradekit.model import InstrumentKind, OptionRight

from .conftest import NIFTY_INSTRUMENTS, NIFTY_MANIFEST, write_day

IST = ZoneInfo("Asia/Kolkata")


def _ns(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp()) * 1_000_000_000


def test_load_day_hand_written_csv_gives_expected_series(nifty_day: Path) -> None:
    day = load_day(nifty_day)
    assert (day.market, day.day, day.timezone, day.bar_seconds) == ("NSE", date(2025, 12, 9), "Asia/Kolkata", 60)
    assert day.issues == ()
    assert sorted(day.series) == ["NFO:NIFTY25D0925900PE", "NFO:NIFTY25D0926000CE", "NSE:NIFTY 50"]
    put = day.series["NFO:NIFTY25D0925900PE"]
    assert put.instrument.right is OptionRight.PUT and put.instrument.lot_size == 75
    assert put.instrument.expiry == date(2025, 12, 9)
    assert put.ts.dtype == np.int64 and put.volume.dtype == np.int64
    assert put.ts.tolist() == [_ns("2025-12-09T09:15:00+05:30") + i * 60_000_000_000 for i in range(3)]
    assert put.close.tolist() == [43.20, 46.65, 45.50]
    assert put.oi.tolist() == [3412500, 3390000, 3375000]
    assert day.series["NSE:NIFTY 50"].instrument.kind is InstrumentKind.INDEX
    assert day.instruments["NFO:NIFTY25D0926000CE"].strike == 26000
    assert day.rows == 9


def test_load_day_quotes_file_sets_all_prices_to_price(tmp_path: Path) -> None:
    bars = "ts,symbol,price,volume,oi\n2025-12-09T09:15:00+05:30,NIFTY 50,25950.5,0,0\n2025-12-09T09:15:01+05:30,NIFTY 50,25951,0,0\n"
    day = load_day(write_day(tmp_path, NIFTY_MANIFEST, NIFTY_INSTRUMENTS, bars))
    spot = day.series["NSE:NIFTY 50"]
    for column in (spot.open, spot.high, spot.low, spot.close):
        assert column.tolist() == [25950.5, 25951.0]


def test_load_day_naive_timestamps_are_exchange_local(tmp_path: Path) -> None:
    bars = "ts,symbol,price\n2025-12-09 09:15:00,NIFTY 50,100\n2025-12-09T09:15:01+05:30,NIFTY 50,101\n"
    day = load_day(write_day(tmp_path, NIFTY_MANIFEST, NIFTY_INSTRUMENTS, bars))
    assert day.series["NSE:NIFTY 50"].ts.tolist() == [_ns("2025-12-09T09:15:00+05:30"), _ns("2025-12-09T09:15:01+05:30")]
    assert day.issues == ()


BAD_BARS = """\
ts,symbol,open,high,low,close,volume,oi
2025-12-09T09:15:00+05:30,NIFTY25D0925900PE,42,44,41,43,10,100
2025-12-09T09:16:00+05:30,NIFTY25D0925900PE,NaN,44,41,43,10,100
2025-12-09T09:17:00+05:30,NIFTY25D0925900PE,0,44,41,43,10,100
2025-12-09T09:18:00+05:30,NIFTY25D0925900PE,42,44,41,-43,10,100
2025-12-09T09:19:00+05:30,NIFTY25D0925900PE,42,44,41,43.5,10,100
2025-12-09T09:19:00+05:30,NIFTY25D0925900PE,42,44,41,43.6,10,100
2025-12-09T09:17:30+05:30,NIFTY25D0925900PE,42,44,41,43.7,10,100
2025-12-09T09:20:00+05:30,NIFTY25D0925900PE,42,44,41,,10,100
2025-12-09T09:21:00+05:30,NIFTY25D0925900PE,42,44,41,oops,10,100
2025-12-09T09:15:00+05:30,BANKNIFTY25D0950000CE,42,44,41,43,10,100
2025-12-09T09:16:00+05:30,BANKNIFTY25D0950000CE,42,44,41,43,10,100
2025-12-09T09:15:00+05:30,NIFTY 50,25950,25960,25940,25946,0,0
2025-12-09T09:16:00+05:30,NIFTY 50,25946,25950,25930,25931,0,0
2025-12-09T09:17:00+05:30,NIFTY 50,25931,25935,25925,0,0,0
not-a-time,NIFTY 50,25931,25935,25925,25930,0,0
2025-12-10T09:15:00+05:30,NIFTY 50,25931,25935,25925,25930,0,0
2025-12-09T09:20:00+05:30,NIFTY 50,25931,25920,25925,25930,0,0
"""


@pytest.mark.parametrize("name", ["bars.csv", "bars.parquet"])
def test_load_day_bad_rows_are_counted_per_instrument_and_skipped(tmp_path: Path, name: str) -> None:
    directory = write_day(tmp_path, NIFTY_MANIFEST, NIFTY_INSTRUMENTS, BAD_BARS, "bars.csv")
    if name == "bars.parquet":
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        table = pacsv.read_csv(directory / "bars.csv", convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in ("ts", "close")}))
        pq.write_table(table, directory / "bars.parquet")
        (directory / "bars.csv").unlink()
    day = load_day(directory)
    issues = {(issue.symbol, issue.reason): issue.count for issue in day.issues}
    assert issues == {
        ("BANKNIFTY25D0950000CE", "unknown_instrument"): 2,
        ("NSE:NIFTY 50", "bad_timestamp"): 1,
        ("NFO:NIFTY25D0925900PE", "nan_price"): 3,  # NaN, empty, unparseable text
        ("NFO:NIFTY25D0925900PE", "non_positive_price"): 2,
        ("NSE:NIFTY 50", "non_positive_price"): 1,
        ("NSE:NIFTY 50", "inconsistent_ohlc"): 1,
        ("NSE:NIFTY 50", "outside_day"): 1,
        ("NFO:NIFTY25D0925900PE", "out_of_order_ts"): 1,
        ("NFO:NIFTY25D0925900PE", "duplicate_ts"): 1,
    }
    put = day.series["NFO:NIFTY25D0925900PE"]
    assert put.close.tolist() == [43.0, 43.5]  # the first of the duplicates is kept
    assert day.series["NSE:NIFTY 50"].close.tolist() == [25946.0, 25931.0]
    assert all(isinstance(issue, DataIssue) for issue in day.issues)
    assert day.dropped == sum(issues.values())


def test_load_day_missing_manifest_raises_data_error_naming_file(tmp_path: Path) -> None:
    directory = write_day(tmp_path, NIFTY_MANIFEST, NIFTY_INSTRUMENTS, "ts,symbol,price\n")
    (directory / "day.toml").unlink()
    with pytest.raises(DataError, match="day.toml"):
        load_day(directory)


def test_load_day_bad_instrument_row_names_line_and_field(tmp_path: Path) -> None:
    instruments = NIFTY_INSTRUMENTS.replace("25900,PUT", "25900,PE2")
    directory = write_day(tmp_path, NIFTY_MANIFEST, instruments, "ts,symbol,price\n")
    with pytest.raises(DataError, match=r"instruments.csv:3: field 'right'"):
        load_day(directory)


def test_load_day_missing_price_columns_raises(tmp_path: Path) -> None:
    directory = write_day(tmp_path, NIFTY_MANIFEST, NIFTY_INSTRUMENTS, "ts,symbol,open\n2025-12-09T09:15:00+05:30,NIFTY 50,1\n")
    with pytest.raises(DataError, match="bars.csv: missing column"):
        load_day(directory)


def test_load_day_empty_bars_gives_no_series(tmp_path: Path) -> None:
    day = load_day(write_day(tmp_path, NIFTY_MANIFEST, NIFTY_INSTRUMENTS, "ts,symbol,price\n"))
    assert day.series == {} and day.issues == ()
    assert len(day.instruments) == 3
