"""Write a day's bars deterministically (same arrays, same bytes) as Parquet or CSV."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tradekit.data import format as fmt
from tradekit.errors import DataError

FORMATS = ("parquet", "csv")


def utc_offset(day: date, timezone: str) -> tuple[int, str]:
    """The zone's offset at noon of ``day`` as (nanoseconds, ``+05:30``); trading hours never span a DST change."""
    offset = datetime.combine(day, time(12), ZoneInfo(timezone)).utcoffset()
    assert offset is not None
    seconds = int(offset.total_seconds())
    sign = "+" if seconds >= 0 else "-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return seconds * 1_000_000_000, f"{sign}{hours:02d}:{minutes:02d}"


def local_ns(day: date, clock: time, timezone: str) -> int:
    """Epoch nanoseconds of a local wall-clock time on ``day``."""
    return int(datetime.combine(day, clock, ZoneInfo(timezone)).timestamp()) * 1_000_000_000


def iso_strings(ts: np.ndarray, day: date, timezone: str) -> np.ndarray:
    """Epoch ns -> ``2025-12-09T09:15:00+05:30`` strings, vectorised."""
    offset_ns, suffix = utc_offset(day, timezone)
    local = (ts + offset_ns).astype("datetime64[ns]")
    return np.char.add(np.datetime_as_string(local, unit="s"), suffix)


def write_bars(
    directory: Path,
    day: date,
    timezone: str,
    ts: np.ndarray,
    symbols: np.ndarray,
    columns: dict[str, np.ndarray],
    file_format: str = "parquet",
) -> Path:
    """Write ``bars.parquet`` (zstd) or ``bars.csv``; ``columns`` holds price(s), volume, oi in order."""
    if file_format not in FORMATS:
        raise DataError(f"unknown bar file format {file_format!r}; use one of {', '.join(FORMATS)}")
    for stale in (fmt.BARS_CSV, fmt.BARS_PARQUET):
        (directory / stale).unlink(missing_ok=True)
    arrays: dict[str, pa.Array] = {}
    if file_format == "csv":
        arrays["ts"] = pa.array(iso_strings(ts, day, timezone).astype(object), pa.string())
    else:
        arrays["ts"] = pa.array(ts, pa.timestamp("ns")).cast(pa.timestamp("ns", "UTC")).cast(pa.timestamp("ns", timezone))
    arrays["symbol"] = pa.array(symbols.astype(object), pa.string())
    for name, values in columns.items():
        arrays[name] = pa.array(values)
    table = pa.table(arrays)
    if file_format == "csv":
        path = directory / fmt.BARS_CSV
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
    else:
        path = directory / fmt.BARS_PARQUET
        pq.write_table(table, path, compression="zstd", compression_level=9, use_dictionary=["symbol"], write_statistics=False)
    return path


def aggregate(
    ts: np.ndarray, prices: np.ndarray, volume: np.ndarray, oi: np.ndarray, source_seconds: int, bar_seconds: int
) -> dict[str, np.ndarray]:
    """Fold one instrument's regular 1-price-per-step series into OHLC bars of ``bar_seconds``."""
    if bar_seconds % source_seconds:
        raise DataError(f"bar_seconds {bar_seconds} must be a multiple of {source_seconds}")
    step = bar_seconds // source_seconds
    count = (prices.shape[-1] // step) * step
    shape = (*prices.shape[:-1], count // step, step)
    blocks = prices[..., :count].reshape(shape)
    return {
        "ts": ts[:count:step],
        "open": blocks[..., 0],
        "high": blocks.max(axis=-1),
        "low": blocks.min(axis=-1),
        "close": blocks[..., -1],
        "volume": volume[..., :count].reshape(shape).sum(axis=-1),
        "oi": oi[..., :count].reshape(shape)[..., -1],
    }
