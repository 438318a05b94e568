"""The ps60 scanner file: one pivot setup per symbol per day.

Columns: symbol, resistance, support, long_target_1, long_target_2,
short_target_1, short_target_2. A setup that cannot make sense (targets on
the wrong side of their pivot, support above resistance) is refused with the
file, line and field, because trading a mistyped pivot loses real money.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tradekit.errors import DataError

SCANNER_COLUMNS = (
    "symbol",
    "resistance",
    "support",
    "long_target_1",
    "long_target_2",
    "short_target_1",
    "short_target_2",
)


@dataclass(frozen=True)
class ScannerSetup:
    """One symbol's pivots and targets for the day."""

    symbol: str
    resistance: float
    support: float
    long_target_1: float
    long_target_2: float
    short_target_1: float
    short_target_2: float

    def to_row(self) -> list[str]:
        return [self.symbol] + [f"{getattr(self, name):.2f}" for name in SCANNER_COLUMNS[1:]]


def read_scanner(path: Path) -> list[ScannerSetup]:
    """Read and validate a scanner file; raises DataError naming file, line and field."""
    try:
        with Path(path).open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [name for name in SCANNER_COLUMNS if name not in (reader.fieldnames or ())]
            if missing:
                raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
            setups = [_parse(row, Path(path), line) for line, row in enumerate(reader, start=2)]
    except FileNotFoundError as error:
        raise DataError(f"{path}: scanner file not found") from error
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DataError(f"{path}: unreadable: {error}") from error
    seen: dict[str, int] = {}
    for line, setup in enumerate(setups, start=2):
        if setup.symbol in seen:
            raise DataError(f"{path}:{line}: field 'symbol' {setup.symbol} repeats line {seen[setup.symbol]}")
        seen[setup.symbol] = line
    return setups


def _parse(row: dict[str, str], path: Path, line: int) -> ScannerSetup:
    symbol = (row.get("symbol") or "").strip()
    if not symbol:
        raise DataError(f"{path}:{line}: field 'symbol' is empty")
    values: dict[str, float] = {}
    for name in SCANNER_COLUMNS[1:]:
        text = (row.get(name) or "").strip()
        try:
            value = float(text)
        except ValueError as error:
            raise DataError(f"{path}:{line}: field '{name}' must be a number, got {text!r}") from error
        if not math.isfinite(value) or value <= 0:
            raise DataError(f"{path}:{line}: field '{name}' must be a positive price, got {text!r}")
        values[name] = value
    checks = [
        ("support", values["support"] < values["resistance"], "must be below resistance"),
        ("long_target_1", values["long_target_1"] > values["resistance"], "must be above resistance"),
        ("long_target_2", values["long_target_2"] >= values["long_target_1"], "must be >= long_target_1"),
        ("short_target_1", values["short_target_1"] < values["support"], "must be below support"),
        ("short_target_2", values["short_target_2"] <= values["short_target_1"], "must be <= short_target_1"),
    ]
    for name, ok, message in checks:
        if not ok:
            raise DataError(f"{path}:{line}: field '{name}' {message} ({symbol})")
    return ScannerSetup(symbol=symbol, **values)


def write_scanner(path: Path, setups: Iterable[ScannerSetup]) -> Path:
    """Write a scanner file in the documented column order."""
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(SCANNER_COLUMNS)
        for setup in setups:
            writer.writerow(setup.to_row())
    return Path(path)
