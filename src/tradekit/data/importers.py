"""Import broker downloads into market-day directories.

- Kite: what ``kite.historical_data(token, from, to, interval, oi=True)``
  returns (dicts with date, open, high, low, close, volume, oi) saved as JSON
  or CSV, one instrument per file.
- Interactive Brokers: bar exports as written by ib_insync/ib_async
  ``util.df(bars).to_csv()`` (date, open, high, low, close, volume, average,
  barCount) or TWS's ``20251209 09:30:00`` dates.
- Generic CSV/Parquet: any columns, mapped with ``{"ts": "Datetime", ...}``.

Rows are split by exchange-local date and merged into ``<root>/<market>/<date>/``
(the instrument's earlier rows for that day are replaced, other instruments
kept). Bad rows are kept as they are: the loader reports and drops them, so
the user sees what the broker sent. An import that yields no rows for a day
never touches that day (history is never overwritten by an empty set).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tradekit.data import format as fmt
from tradekit.data.loader import PRICE_COLUMNS, _read_bars, bars_file
from tradekit.data.symbols import weekly_expiry
from tradekit.data.writer import write_bars
from tradekit.errors import DataError
from tradekit.model import Instrument, InstrumentKind, OptionRight

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_WEEKLY = re.compile(r"^(NIFTY|BANKNIFTY|FINNIFTY|MIDCPNIFTY)(\d\d)([1-9OND])(\d\d)(\d+(?:\.\d+)?)(CE|PE)$")
_MONTHLY = re.compile(r"^(NIFTY|BANKNIFTY|FINNIFTY|MIDCPNIFTY)(\d\d)(" + "|".join(_MONTHS) + r")(\d+(?:\.\d+)?)(CE|PE)$")
_FUTURE = re.compile(r"^(NIFTY|BANKNIFTY|FINNIFTY|MIDCPNIFTY)(\d\d)(" + "|".join(_MONTHS) + r")FUT$")
_LOTS = {"NIFTY": 75, "BANKNIFTY": 35, "FINNIFTY": 65, "MIDCPNIFTY": 140}


@dataclass(frozen=True)
class ImportResult:
    """Days written by an import, with the rows each received for this instrument."""

    instrument: Instrument
    days: tuple[tuple[date, Path, int], ...]


def _last_expiry_of_month(year: int, month: int) -> date:
    day = weekly_expiry(date(year, month, 1))
    while True:
        following = weekly_expiry(date.fromordinal(day.toordinal() + 1))
        if following.month != month:
            return day
        day = following


def kite_instrument(symbol: str, exchange: str | None = None, lot_size: int | None = None) -> Instrument:
    """An Instrument from a Kite trading symbol (``NFO:`` prefix allowed); CE/PE become CALL/PUT here."""
    if ":" in symbol:
        exchange, symbol = symbol.split(":", 1)
    symbol = symbol.strip()
    if match := _WEEKLY.match(symbol):
        name, year, month, day, strike, code = match.groups()
        expiry = date(2000 + int(year), "123456789OND".index(month) + 1, int(day))
    elif match := _MONTHLY.match(symbol):
        name, year, month, strike, code = match.groups()
        expiry = _last_expiry_of_month(2000 + int(year), _MONTHS.index(month) + 1)
    elif match := _FUTURE.match(symbol):
        name, year, month = match.groups()
        expiry = _last_expiry_of_month(2000 + int(year), _MONTHS.index(month) + 1)
        return Instrument(symbol, (exchange or "NFO").upper(), InstrumentKind.FUTURE, "INR",
                          lot_size or _LOTS[name], Decimal("0.05"), underlying=name, expiry=expiry)
    else:
        kind = InstrumentKind.INDEX if symbol.upper().startswith(("NIFTY ", "INDIA VIX")) else InstrumentKind.EQUITY
        return Instrument(symbol, (exchange or "NSE").upper(), kind, "INR", lot_size or 1, Decimal("0.05"))
    return Instrument(
        symbol, (exchange or "NFO").upper(), InstrumentKind.OPTION, "INR", lot_size or _LOTS[name], Decimal("0.05"),
        underlying=name, expiry=expiry, strike=Decimal(strike), right=OptionRight.CALL if code == "CE" else OptionRight.PUT,
    )


def _read_any(path: Path) -> pd.DataFrame:
    """A table from CSV, JSON (a list of records, or Kite's {"data": {"candles": [...]}}) or Parquet."""
    try:
        if path.suffix.lower() == ".parquet":
            return pq.read_table(path).to_pandas()
        if path.suffix.lower() == ".json":
            payload = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(payload, dict) and "data" in payload:  # raw Kite REST response
                candles = payload["data"]["candles"]
                names = ["date", "open", "high", "low", "close", "volume", "oi"][: len(candles[0]) if candles else 7]
                return pd.DataFrame(candles, columns=names)
            if not isinstance(payload, list):
                raise DataError(f"{path}: expected a JSON list of candles")
            return pd.DataFrame(payload)
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(strings_can_be_null=True)).to_pandas()
    except DataError:
        raise
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException) as error:
        raise DataError(f"{path}: unreadable: {str(error).splitlines()[0]}") from error


def _parse_times(values: pd.Series, timezone: str) -> pd.Series:
    """Any of: ISO with offset (+05:30 or +0530), naive local, TWS ``20251209 09:30:00 [US/Eastern]``, epoch seconds."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    elif pd.api.types.is_numeric_dtype(values):
        parsed = pd.to_datetime(values, unit="s", utc=True)
    else:
        text = values.astype("string").str.strip()
        zone = text.str.extract(r"\s([A-Za-z]+/[A-Za-z_]+)$")[0]
        text = text.str.replace(r"\s[A-Za-z]+/[A-Za-z_]+$", "", regex=True)
        text = text.str.replace(r"^(\d{4})(\d\d)(\d\d)\s+", r"\1-\2-\3 ", regex=True)
        text = text.str.replace(r"([+-]\d\d)(\d\d)$", r"\1:\2", regex=True)
        aware = text.str.contains(r"(?:Z|[+-]\d\d:\d\d)$", regex=True, na=False)
        parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
        if aware.any():
            parsed[aware] = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
        naive = ~aware
        if naive.any():
            local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
            source_zone = zone[naive].dropna().unique()
            tz = ZoneInfo(str(source_zone[0])) if len(source_zone) else ZoneInfo(timezone)
            parsed[naive] = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
        return parsed
    if getattr(parsed.dt, "tz", None) is None:
        parsed = parsed.dt.tz_localize(ZoneInfo(timezone))
    return parsed.dt.tz_convert("UTC")


def import_table(
    frame: pd.DataFrame,
    instrument: Instrument,
    market: str,
    out_root: Path,
    mapping: dict[str, str] | None = None,
    source: str = "import",
) -> ImportResult:
    """Merge one instrument's rows (columns named per ``mapping``) into day directories."""
    if market not in fmt.MARKETS:
        raise DataError(f"unknown market {market!r}; known: {', '.join(sorted(fmt.MARKETS))}")
    mapping = {**{name: name for name in ("ts", *PRICE_COLUMNS, "volume", "oi")}, **(mapping or {})}
    if mapping["ts"] not in frame.columns:
        raise DataError(f"{source}: no time column {mapping['ts']!r}; columns are {', '.join(map(str, frame.columns))}")
    missing = [mapping[name] for name in PRICE_COLUMNS if mapping[name] not in frame.columns]
    if missing:
        raise DataError(f"{source}: missing column(s) {', '.join(missing)}; map them with --map open=<column> ...")
    timezone = fmt.MARKETS[market]
    ts = _parse_times(frame[mapping["ts"]], timezone)
    local_day = ts.dt.tz_convert(ZoneInfo(timezone)).dt.date
    data = {name: pd.to_numeric(frame[mapping[name]], errors="coerce").to_numpy(np.float64) for name in PRICE_COLUMNS}
    for name in ("volume", "oi"):
        column = mapping[name]
        values = pd.to_numeric(frame[column], errors="coerce") if column in frame.columns else pd.Series(0, index=frame.index)
        data[name] = values.fillna(0).to_numpy(np.float64).round().astype(np.int64)
    ns = ts.dt.tz_localize(None).astype("datetime64[ns]").to_numpy().view(np.int64)
    days = []
    for day in sorted(d for d in local_day.dropna().unique()):
        rows = (local_day == day).to_numpy()
        if rows.any():
            days.append((day, *_merge_day(out_root, market, day, instrument, ns[rows], {k: v[rows] for k, v in data.items()}, source)))
    if not days:
        raise DataError(f"{source}: no rows with a readable time; nothing imported")
    return ImportResult(instrument, tuple(days))


def _merge_day(root: Path, market: str, day: date, instrument: Instrument, ts: np.ndarray,
               data: dict[str, np.ndarray], source: str) -> tuple[Path, int]:
    directory = Path(root) / market / day.isoformat()
    directory.mkdir(parents=True, exist_ok=True)
    timezone = fmt.MARKETS[market]
    instruments: list[Instrument] = []
    old_ts, old_symbols, old = np.zeros(0, np.int64), np.zeros(0, object), {k: np.zeros(0) for k in data}
    seconds = int(np.median(np.diff(np.unique(ts))) // 1_000_000_000) if np.unique(ts).size > 1 else 60
    if (directory / fmt.MANIFEST).is_file():
        manifest = fmt.read_manifest(directory)
        instruments = [item for item in fmt.read_instruments(directory) if item.id != instrument.id]
        existing = _read_bars(bars_file(directory), timezone)
        names = np.asarray(existing.symbol.to_pylist(), dtype=object)
        keep = (names != instrument.symbol) & (names != instrument.id)
        old_ts, old_symbols = existing.ts[keep], names[keep]
        old = {k: getattr(existing, k)[keep] for k in data}
    else:
        manifest = {"market": market, "date": day, "timezone": timezone, "bar_seconds": max(seconds, 1),
                    "regime": "imported", "description": f"imported from {source}", "exercises": []}
    instruments.append(instrument)
    symbols = np.concatenate([old_symbols, np.full(ts.size, instrument.symbol, dtype=object)])
    columns = {k: np.concatenate([old[k], data[k]]) for k in ("open", "high", "low", "close")}
    columns.update({k: np.nan_to_num(np.concatenate([old[k], data[k]])).astype(np.int64) for k in ("volume", "oi")})
    write_bars(directory, day, timezone, np.concatenate([old_ts, ts]).astype(np.int64), symbols, columns, "parquet")
    fmt.write_instruments(directory, instruments)
    fmt.write_manifest(directory, manifest)
    return directory, int(ts.size)


def import_kite(path: Path, symbol: str, out_root: Path, exchange: str | None = None, lot_size: int | None = None) -> ImportResult:
    """Import Kite ``historical_data(..., oi=True)`` candles saved as JSON or CSV."""
    frame = _read_any(Path(path))
    column = "date" if "date" in frame.columns else "ts"
    return import_table(frame, kite_instrument(symbol, exchange, lot_size), "NSE", out_root, {"ts": column}, str(path))


def import_ib(path: Path, symbol: str, out_root: Path, sector: str | None = None) -> ImportResult:
    """Import an Interactive Brokers bar export (ib_insync/ib_async ``util.df(bars)`` CSV or TWS dates)."""
    frame = _read_any(Path(path))
    frame.columns = [str(name).strip().lower() for name in frame.columns]
    column = next((c for c in ("date", "datetime", "time", "ts") if c in frame.columns), "date")
    instrument = Instrument(symbol.upper(), "SMART", InstrumentKind.EQUITY, "USD", 1, Decimal("0.01"), sector=sector)
    return import_table(frame, instrument, "NYSE", out_root, {"ts": column}, str(path))


def import_generic(path: Path, instrument: Instrument, market: str, out_root: Path, mapping: dict[str, str]) -> ImportResult:
    """Import any CSV/Parquet/JSON with a column mapping (docs/data-format.md, "Importing")."""
    return import_table(_read_any(Path(path)), instrument, market.upper(), out_root, mapping, str(path))
