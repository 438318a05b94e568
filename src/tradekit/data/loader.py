"""Load one market day into columnar per-instrument series, with hygiene.

Everything here is vectorised (pyarrow to read, numpy to check): a generated
NIFTY day holds ~1.9M rows and a Python loop per row would take longer than
the replay itself. Bad rows are never raised and never silently dropped: each
is counted per instrument and reason in ``MarketDay.issues`` and left out, so
the rest of the day still runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tradekit.data import cache as day_cache
from tradekit.data import format as fmt
from tradekit.errors import DataError
from tradekit.model import Instrument, InstrumentId

PRICE_COLUMNS = ("open", "high", "low", "close")

# Checked in this order; a row is counted under the first reason that hits it.
ISSUE_REASONS = (
    "unknown_instrument",
    "bad_timestamp",
    "nan_price",
    "non_positive_price",
    "inconsistent_ohlc",
    "negative_volume_or_oi",
    "outside_day",
    "out_of_order_ts",
    "duplicate_ts",
)
"""Every reason a row can be dropped for, as reported in ``DataIssue.reason``."""


@dataclass(frozen=True)
class Series:
    """One instrument's day: columnar, sorted by ``ts``, bad rows already dropped.

    ``ts`` is int64 epoch nanoseconds UTC of each bar's START, strictly
    increasing; prices are float64, ``volume`` (traded in the bar) and ``oi``
    (open interest at the bar's close, 0 where none) are int64.
    """

    instrument: Instrument
    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    oi: np.ndarray

    def __len__(self) -> int:
        return int(self.ts.shape[0])


@dataclass(frozen=True)
class DataIssue:
    """``count`` rows of ``symbol`` were dropped for ``reason`` (one of ``ISSUE_REASONS``)."""

    symbol: str
    reason: str
    count: int

    def describe(self) -> str:
        return f"{self.symbol}: {self.count} row(s) dropped ({self.reason.replace('_', ' ')})"


@dataclass(frozen=True)
class MarketDay:
    """A loaded market day; ``series`` is keyed by instrument id ``EXCHANGE:SYMBOL``."""

    market: str
    day: date
    timezone: str
    bar_seconds: int
    path: Path | None
    manifest: dict[str, object]
    series: dict[InstrumentId, Series]
    issues: tuple[DataIssue, ...]
    scanner: Path | None
    declared: dict[InstrumentId, Instrument] = field(default_factory=dict)

    @property
    def instruments(self) -> dict[InstrumentId, Instrument]:
        """Every instrument listed in instruments.csv (also those without rows)."""
        merged = dict(self.declared)
        for key, series in self.series.items():
            merged.setdefault(key, series.instrument)
        return merged

    @property
    def rows(self) -> int:
        return sum(len(series) for series in self.series.values())

    @property
    def dropped(self) -> int:
        return sum(issue.count for issue in self.issues)


_SERIES_COLUMNS = ("ts", "open", "high", "low", "close", "volume", "oi")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def bars_file(directory: Path) -> Path:
    """The day's bar file: ``bars.parquet`` wins over ``bars.csv`` when both exist."""
    for name in (fmt.BARS_PARQUET, fmt.BARS_CSV):
        if (directory / name).is_file():
            return directory / name
    raise DataError(f"{directory}: no {fmt.BARS_PARQUET} or {fmt.BARS_CSV} found")


def load_day(path: Path, *, cache: bool | None = None, cache_root: Path | None = None) -> MarketDay:
    """Load the market day in directory ``path`` (raises DataError naming the file if unreadable).

    ``cache``: None (default) keeps big days (bars files of ``day_cache.MIN_BYTES`` or more) in the
    per-day cache under tradekit's home unless ``TRADEKIT_DAY_CACHE`` is off, so the next load
    maps arrays instead of reading and checking ~2M rows; True caches any day; False never reads
    or writes the cache. ``cache_root`` overrides the cache directory (tests, benchmarks).
    """
    directory = Path(path)
    if not directory.is_dir():
        raise DataError(f"{directory}: not a market-day directory")
    manifest = fmt.read_manifest(directory)
    instruments = fmt.read_instruments(directory)
    timezone = str(manifest["timezone"])
    source = bars_file(directory)
    if cache is None:
        cache = day_cache.enabled() and _size(source) >= day_cache.MIN_BYTES
    series = issues = None
    if cache:
        root = cache_root or day_cache.default_root()
        sources = _cache_sources(directory, source)
        cached = day_cache.read(root, sources, instruments)
        if cached is not None:
            series = {item.id: Series(item, **arrays) for item, arrays in cached[0]}
            issues = [DataIssue(*issue) for issue in cached[1]]
    if series is None or issues is None:
        table = _read_bars(source, timezone)
        series, issues = _build_series(table, instruments, manifest["date"], timezone)  # type: ignore[arg-type]
        if cache:
            columns = [(item.instrument, {name: getattr(item, name) for name in _SERIES_COLUMNS}) for item in series.values()]
            day_cache.write(root, sources, instruments, columns, [(i.symbol, i.reason, i.count) for i in issues])
    scanner = directory / fmt.SCANNER
    return MarketDay(
        market=str(manifest["market"]),
        day=manifest["date"],  # type: ignore[arg-type]
        timezone=timezone,
        bar_seconds=int(manifest["bar_seconds"]),  # type: ignore[call-overload]
        path=directory,
        manifest=manifest,
        series=series,
        issues=tuple(issues),
        scanner=scanner if scanner.is_file() else None,
        declared={item.id: item for item in instruments},
    )


def read_ahead(path: Path, *, cache_root: Path | None = None) -> bool:
    """Start reading the market day at ``path`` from the day cache in the background (the kernel's
    read-ahead), so loading it later does not wait for the disk. False when it is not cached."""
    directory = Path(path)
    try:
        source = bars_file(directory)
    except DataError:
        return False
    if not day_cache.enabled():
        return False
    return day_cache.read_ahead(cache_root or day_cache.default_root(), _cache_sources(directory, source))


def _cache_sources(directory: Path, bars: Path) -> tuple[Path, Path, Path]:
    """The files a day's cache entry is keyed on (bars file first): a change to any of them is a new entry."""
    return bars, directory / fmt.INSTRUMENTS, directory / fmt.MANIFEST


# ---------------------------------------------------------------- reading


@dataclass
class _Columns:
    ts: np.ndarray  # int64 ns UTC; invalid where ts_ok is False
    ts_ok: np.ndarray  # bool
    symbol: pa.Array
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray  # float64 (NaN = missing -> 0)
    oi: np.ndarray


def _read_bars(source: Path, timezone: str) -> _Columns:
    try:
        if source.suffix == ".parquet":
            table = pq.read_table(source, read_dictionary=["symbol"])  # symbols stay dictionary-encoded
        else:
            table = _read_csv(source)
    except DataError:
        raise
    except (OSError, pa.ArrowException) as error:
        raise DataError(f"{source}: unreadable: {str(error).splitlines()[0]}") from error
    names = set(table.column_names)
    if "ts" not in names or "symbol" not in names:
        raise DataError(f"{source}: needs columns 'ts' and 'symbol', has {', '.join(table.column_names)}")
    if "price" in names and not names.issuperset(PRICE_COLUMNS):
        price = _floats(table["price"])  # one array serves as open, high, low and close
        prices = {name: price for name in PRICE_COLUMNS}
    else:
        missing = [name for name in PRICE_COLUMNS if name not in names]
        if missing:
            raise DataError(f"{source}: missing column(s) {', '.join(missing)} (or a single 'price' column)")
        prices = {name: _floats(table[name]) for name in PRICE_COLUMNS}
    count = table.num_rows
    volume = _floats(table["volume"]) if "volume" in names else np.zeros(count)
    oi = _floats(table["oi"]) if "oi" in names else np.zeros(count)
    ts, ts_ok = _timestamps(table["ts"], timezone)
    symbol = table["symbol"].combine_chunks() if count else pa.array([], pa.string())
    if pa.types.is_dictionary(symbol.type) and (symbol.null_count or not pa.types.is_string(symbol.type.value_type)):
        symbol = symbol.dictionary_decode()
    if not pa.types.is_string(symbol.type) and not pa.types.is_dictionary(symbol.type):
        symbol = pc.cast(symbol, pa.string())
    return _Columns(ts, ts_ok, symbol, prices["open"], prices["high"], prices["low"], prices["close"], volume, oi)


def _read_csv(source: Path) -> pa.Table:
    """Fast typed read; if a cell does not parse, re-read as text and coerce per cell."""
    typed = {
        "ts": pa.timestamp("ns", "UTC"),
        "symbol": pa.string(),
        **{name: pa.float64() for name in (*PRICE_COLUMNS, "price", "volume", "oi")},
    }
    try:
        return pacsv.read_csv(source, convert_options=pacsv.ConvertOptions(column_types=typed))
    except pa.ArrowInvalid:
        pass  # a malformed cell or a naive timestamp somewhere: take the slower tolerant path
    text = {name: pa.string() for name in typed}
    options = pacsv.ConvertOptions(column_types=text, strings_can_be_null=True)
    return pacsv.read_csv(source, convert_options=options)


def _floats(column: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        values = pd.to_numeric(pd.Series(column.to_numpy(zero_copy_only=False)), errors="coerce")
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    if not pa.types.is_floating(column.type):
        column = pc.cast(column, pa.float64())
    return column.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)


def _timestamps(column: pa.ChunkedArray, timezone: str) -> tuple[np.ndarray, np.ndarray]:
    """-> (int64 ns UTC, valid mask). Naive times are the exchange's local wall clock."""
    kind = column.type
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            local = pd.Series(column.to_numpy(zero_copy_only=False)).dt.tz_localize(
                ZoneInfo(timezone), ambiguous="NaT", nonexistent="NaT"
            )
            return _ns(local)
        column = pc.cast(column, pa.timestamp("ns", kind.tz))
        values = column.to_numpy(zero_copy_only=False).astype("datetime64[ns]")
        ok = ~np.isnat(values)
        return values.view(np.int64), ok
    texts = pd.Series(pc.cast(column, pa.string()).to_numpy(zero_copy_only=False), dtype="object")
    aware = pd.to_datetime(texts, format="ISO8601", utc=True, errors="coerce")
    has_zone = texts.str.contains(r"(?:Z|[+-]\d\d:?\d\d)\s*$", regex=True, na=False)
    naive_texts = texts.where(~has_zone)
    naive = pd.to_datetime(naive_texts, format="ISO8601", errors="coerce")
    if getattr(naive.dt, "tz", None) is None:
        naive = naive.dt.tz_localize(ZoneInfo(timezone), ambiguous="NaT", nonexistent="NaT")
    combined = aware.where(has_zone, naive.dt.tz_convert("UTC"))
    return _ns(combined)


def _ns(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    converted = values.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]").to_numpy()
    ok = ~np.isnat(converted)
    return converted.view(np.int64), ok


# ---------------------------------------------------------------- hygiene


def _resolve_symbols(symbols: pa.Array, instruments: list[Instrument]) -> tuple[np.ndarray, list[str]]:
    """Map each row's symbol (plain or EXCHANGE:SYMBOL) to an index into ``instruments`` (-1: unknown)."""
    lookup: dict[str, int] = {}
    plain: dict[str, list[int]] = {}
    for index, item in enumerate(instruments):
        lookup[item.id] = index
        plain.setdefault(item.symbol, []).append(index)
    for name, indices in plain.items():
        if len(indices) == 1:
            lookup.setdefault(name, indices[0])
    encoded = _encoded(symbols) if len(symbols) else None
    if encoded is None:
        return np.zeros(0, dtype=np.int64), []
    dictionary = encoded.dictionary.to_pylist()
    mapping = np.array([lookup.get(str(name).strip(), -1) for name in dictionary], dtype=np.int64)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return mapping[codes], [str(name) for name in dictionary]


def _encoded(symbols: pa.Array) -> pa.DictionaryArray:
    """Symbols as a dictionary array without nulls (a Parquet read already delivers one)."""
    if pa.types.is_dictionary(symbols.type):
        return symbols
    return pc.dictionary_encode(pc.fill_null(symbols, ""))


def _build_series(
    columns: _Columns, instruments: list[Instrument], day: date, timezone: str
) -> tuple[dict[InstrumentId, Series], list[DataIssue]]:
    index, raw_names = _resolve_symbols(columns.symbol, instruments)
    issues: list[DataIssue] = []
    alive = np.ones(index.shape[0], dtype=bool)

    def drop(mask: np.ndarray, reason: str) -> None:
        hit = mask & alive
        if not hit.any():
            return
        counts = np.bincount(index[hit], minlength=len(instruments))
        for position in np.nonzero(counts)[0]:
            issues.append(DataIssue(instruments[position].id, reason, int(counts[position])))
        alive[hit] = False

    unknown = index < 0
    if unknown.any():
        encoded = _encoded(columns.symbol)
        codes = encoded.indices.to_numpy(zero_copy_only=False)[unknown]
        counts = np.bincount(codes, minlength=len(raw_names))
        for code in np.nonzero(counts)[0]:
            issues.append(DataIssue(raw_names[code] or "<empty>", "unknown_instrument", int(counts[code])))
        alive[unknown] = False
    index = np.where(unknown, 0, index)

    finite = np.isfinite(columns.open)
    positive = columns.open > 0
    for other in (columns.high, columns.low, columns.close):
        if other is not columns.open:  # a single 'price' column serves all four
            finite &= np.isfinite(other)
            with np.errstate(invalid="ignore"):
                positive &= other > 0
    drop(~columns.ts_ok, "bad_timestamp")
    drop(~finite, "nan_price")
    with np.errstate(invalid="ignore"):
        drop(~positive, "non_positive_price")
        if columns.high is not columns.open or columns.low is not columns.open or columns.close is not columns.open:
            tolerance = 1e-9 * np.abs(columns.high)
            inconsistent = (columns.high + tolerance < np.maximum(columns.open, columns.close)) | (
                columns.low - tolerance > np.minimum(columns.open, columns.close)
            )
            drop(inconsistent, "inconsistent_ohlc")
        drop((columns.volume < 0) | (columns.oi < 0), "negative_volume_or_oi")
    start = pd.Timestamp(day, tz=ZoneInfo(timezone))
    lower = start.tz_convert("UTC").value
    upper = (start + pd.Timedelta(days=1)).tz_convert("UTC").value
    drop((columns.ts < lower) | (columns.ts >= upper), "outside_day")

    # Order checks per instrument, in file order: a row older than one already
    # seen is out of order, one equal to the newest seen is a duplicate.
    # Files written grouped by instrument skip the sort (the usual case).
    if index.size < 2 or bool((index[1:] >= index[:-1]).all()):
        order = np.arange(index.shape[0])
    else:
        order = np.argsort(index, kind="stable")
    order = order[alive[order]]
    grouped = index[order]
    ordered_ts = columns.ts[order]
    same = grouped[1:] == grouped[:-1]
    if not bool(((ordered_ts[1:] > ordered_ts[:-1]) | ~same).all()):
        bounds = np.flatnonzero(~same) + 1
        out_of_order = np.zeros(index.shape[0], dtype=bool)
        duplicate = np.zeros(index.shape[0], dtype=bool)
        for segment in np.split(order, bounds) if order.size else []:
            ts = columns.ts[segment]
            if ts.size < 2:
                continue
            newest = np.maximum.accumulate(ts)[:-1]
            out_of_order[segment[1:]] = ts[1:] < newest
            duplicate[segment[1:]] = ts[1:] == newest
        drop(out_of_order, "out_of_order_ts")
        drop(duplicate, "duplicate_ts")
        order = order[alive[order]]
        grouped = index[order]

    volume = np.nan_to_num(columns.volume).astype(np.int64)
    oi = np.nan_to_num(columns.oi).astype(np.int64)
    series: dict[InstrumentId, Series] = {}
    bounds = np.flatnonzero(np.diff(grouped)) + 1
    for segment in np.split(order, bounds) if order.size else []:
        item = instruments[int(index[segment[0]])]
        first, last = int(segment[0]), int(segment[-1]) + 1
        pick: slice | np.ndarray = slice(first, last) if last - first == segment.size else segment  # views when contiguous
        series[item.id] = Series(
            instrument=item,
            ts=np.ascontiguousarray(columns.ts[pick]),
            open=columns.open[pick],
            high=columns.high[pick],
            low=columns.low[pick],
            close=columns.close[pick],
            volume=volume[pick],
            oi=oi[pick],
        )
    issues.sort(key=lambda issue: (ISSUE_REASONS.index(issue.reason), issue.symbol))
    return series, issues
