"""The on-disk market-day format: names, manifest and instrument table.

One directory per market day, ``<root>/<market>/<YYYY-MM-DD>/``, holding
``day.toml``, ``instruments.csv``, ``bars.csv`` or ``bars.parquet`` and, for
NYSE days, ``scanner.csv``. docs/data-format.md is the user-facing contract;
this module is its single implementation so writers and readers cannot drift.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import tomlkit

from tradekit.errors import DataError
from tradekit.model import Instrument, InstrumentKind, OptionRight

MANIFEST = "day.toml"
INSTRUMENTS = "instruments.csv"
BARS_CSV = "bars.csv"
BARS_PARQUET = "bars.parquet"
SCANNER = "scanner.csv"

MARKETS: dict[str, str] = {"NSE": "Asia/Kolkata", "NYSE": "America/New_York"}
"""Known markets and their exchange time zones."""

INSTRUMENT_COLUMNS = (
    "symbol",
    "exchange",
    "kind",
    "currency",
    "lot_size",
    "tick_size",
    "underlying",
    "expiry",
    "strike",
    "right",
    "sector",
)
BAR_COLUMNS = ("ts", "symbol", "open", "high", "low", "close", "volume", "oi")
QUOTE_COLUMNS = ("ts", "symbol", "price", "volume", "oi")

# Broker codes people paste by habit; inside tradekit the right is CALL/PUT.
_RIGHT_ALIASES = {"CALL": "CALL", "PUT": "PUT", "C": "CALL", "P": "PUT"}


def read_manifest(directory: Path) -> dict[str, object]:
    """Read and check ``day.toml``; the market, date and time zone must be usable."""
    path = directory / MANIFEST
    try:
        with path.open("rb") as handle:
            manifest = tomllib.load(handle)
    except FileNotFoundError as error:
        raise DataError(f"{path}: missing (every market day needs a day.toml)") from error
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise DataError(f"{path}: unreadable: {error}") from error
    market = manifest.get("market")
    if market not in MARKETS:
        raise DataError(f"{path}: field 'market' must be one of {sorted(MARKETS)}, got {market!r}")
    raw_day = manifest.get("date")
    if isinstance(raw_day, str):
        try:
            raw_day = date.fromisoformat(raw_day)
        except ValueError as error:
            raise DataError(f"{path}: field 'date' must be YYYY-MM-DD, got {raw_day!r}") from error
    if not isinstance(raw_day, date):
        raise DataError(f"{path}: field 'date' must be a date (YYYY-MM-DD), got {raw_day!r}")
    manifest["date"] = raw_day
    manifest.setdefault("timezone", MARKETS[str(market)])
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(str(manifest["timezone"]))
    except Exception as error:  # ZoneInfoNotFoundError, ValueError
        raise DataError(f"{path}: field 'timezone' is not a known time zone: {manifest['timezone']!r}") from error
    seconds = manifest.setdefault("bar_seconds", 60)
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 1:
        raise DataError(f"{path}: field 'bar_seconds' must be a positive integer, got {seconds!r}")
    manifest.setdefault("regime", "")
    manifest.setdefault("description", "")
    exercises = manifest.setdefault("exercises", [])
    if not isinstance(exercises, list) or not all(isinstance(item, str) for item in exercises):
        raise DataError(f"{path}: field 'exercises' must be a list of strings")
    return manifest


def write_manifest(directory: Path, manifest: Mapping[str, object]) -> Path:
    """Write ``day.toml`` with a stable key order (same input, same bytes)."""
    order = ["market", "date", "timezone", "bar_seconds", "regime", "description", "seed", "exercises"]
    document = tomlkit.document()
    for key in order + sorted(k for k in manifest if k not in order):
        if key in manifest and manifest[key] is not None:
            value = manifest[key]
            document[key] = value.isoformat() if isinstance(value, date) and key == "date" else value
    path = directory / MANIFEST
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    return path


def _field(path: Path, line: int, name: str, message: str) -> DataError:
    return DataError(f"{path}:{line}: field '{name}' {message}")


def parse_instrument_row(row: Mapping[str, str], path: Path, line: int) -> Instrument:
    """One ``instruments.csv`` row -> Instrument; errors name file, line and field."""

    def text(name: str) -> str:
        return (row.get(name) or "").strip()

    symbol, exchange = text("symbol"), text("exchange").upper()
    if not symbol:
        raise _field(path, line, "symbol", "is empty")
    if not exchange:
        raise _field(path, line, "exchange", "is empty")
    try:
        kind = InstrumentKind(text("kind").upper())
    except ValueError as error:
        raise _field(path, line, "kind", f"must be INDEX/EQUITY/FUTURE/OPTION, got {text('kind')!r}") from error
    try:
        lot_size = int(text("lot_size") or "1")
    except ValueError as error:
        raise _field(path, line, "lot_size", f"must be an integer, got {text('lot_size')!r}") from error
    try:
        tick_size = Decimal(text("tick_size") or ("0.01" if exchange in {"SMART", "NYSE", "NASDAQ"} else "0.05"))
        strike = Decimal(text("strike")) if text("strike") else None
    except InvalidOperation as error:
        raise _field(path, line, "tick_size/strike", "must be numbers") from error
    try:
        expiry = date.fromisoformat(text("expiry")) if text("expiry") else None
    except ValueError as error:
        raise _field(path, line, "expiry", f"must be YYYY-MM-DD, got {text('expiry')!r}") from error
    right_text = text("right").upper()
    if right_text and right_text not in _RIGHT_ALIASES:
        raise _field(path, line, "right", f"must be CALL or PUT, got {text('right')!r}")
    right = OptionRight(_RIGHT_ALIASES[right_text]) if right_text else None
    currency = text("currency") or ("USD" if exchange in {"SMART", "NYSE", "NASDAQ"} else "INR")
    try:
        return Instrument(
            symbol=symbol,
            exchange=exchange,
            kind=kind,
            currency=currency,
            lot_size=lot_size,
            tick_size=tick_size,
            underlying=text("underlying") or None,
            expiry=expiry,
            strike=strike,
            right=right,
            sector=text("sector") or None,
        )
    except ValueError as error:
        raise DataError(f"{path}:{line}: {error}") from error


def read_instruments(directory: Path) -> list[Instrument]:
    """Read ``instruments.csv`` (a few hundred rows at most, so plain csv is fine)."""
    path = directory / INSTRUMENTS
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {"symbol", "exchange", "kind"} - set(reader.fieldnames or ())
            if missing:
                raise DataError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
            instruments = [parse_instrument_row(row, path, number) for number, row in enumerate(reader, start=2)]
    except FileNotFoundError as error:
        raise DataError(f"{path}: missing (every market day needs an instruments.csv)") from error
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{path}: unreadable: {error}") from error
    seen: set[str] = set()
    for number, instrument in enumerate(instruments, start=2):
        if instrument.id in seen:
            raise DataError(f"{path}:{number}: duplicate instrument {instrument.id}")
        seen.add(instrument.id)
    return instruments


def write_instruments(directory: Path, instruments: Iterable[Instrument]) -> Path:
    """Write ``instruments.csv`` in the documented column order."""
    path = directory / INSTRUMENTS
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(INSTRUMENT_COLUMNS)
        for item in instruments:
            writer.writerow(
                [
                    item.symbol,
                    item.exchange,
                    item.kind.value,
                    item.currency,
                    item.lot_size,
                    str(item.tick_size),
                    item.underlying or "",
                    item.expiry.isoformat() if item.expiry else "",
                    format(item.strike.normalize(), "f") if item.strike is not None else "",
                    item.right.value if item.right else "",
                    item.sector or "",
                ]
            )
    return path
