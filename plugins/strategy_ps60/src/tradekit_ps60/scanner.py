"""The day's scanner file: the setups ps60 trades.

A CSV file with a header row naming at least these columns (any order, any
case, extra columns ignored)::

    symbol,resistance,support,long_target_1,long_target_2,short_target_1,short_target_2
    TSLA,445.00,438.50,447.00,450.00,436.00,433.00

Blank lines and lines starting with ``#`` are skipped. Every problem is
reported with the file, the line and the field, because a trader fixing a
scanner export at 09:25 needs to know exactly where to look.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tradekit.data.scanner import SCANNER_COLUMNS
from tradekit.errors import StrategyError

COLUMNS = SCANNER_COLUMNS  # the day file's columns, as tradekit.data writes and checks them
PRICE_COLUMNS = COLUMNS[1:]
_SYMBOL = re.compile(r"^[A-Z][A-Z0-9.\-]{0,14}$")


class ScannerError(StrategyError):
    """The scanner file is missing or malformed; the message names file, line and field."""


@dataclass(frozen=True, slots=True)
class Setup:
    """One symbol's pivots and targets for the day."""

    symbol: str
    resistance: Decimal  # long pivot: entry on a close above, initial stop here
    support: Decimal  # short pivot: entry on a close below, initial stop here
    long_target_1: Decimal
    long_target_2: Decimal
    short_target_1: Decimal
    short_target_2: Decimal
    line: int = 0

    def to_state(self) -> dict[str, object]:
        """Prices as strings: exact, and plain JSON."""
        data: dict[str, object] = {"symbol": self.symbol, "line": self.line}
        data.update({name: str(getattr(self, name)) for name in PRICE_COLUMNS})
        return data

    @classmethod
    def from_state(cls, data: dict[str, object]) -> Setup:
        prices = {name: Decimal(str(data[name])) for name in PRICE_COLUMNS}
        return cls(symbol=str(data["symbol"]), line=int(data.get("line") or 0), **prices)  # type: ignore[arg-type]


def _where(path: Path, line: int, field: str) -> str:
    """``scanner.csv:4: field 'support'``: the shape tradekit's data errors use (docs/data-format.md)."""
    return f"{path}:{line}: field {field!r}"


def _price(path: Path, line: int, field: str, raw: str | None) -> Decimal:
    text = (raw or "").strip()
    if not text:
        raise ScannerError(f"{_where(path, line, field)} value is missing")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ScannerError(f"{_where(path, line, field)} {text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise ScannerError(f"{_where(path, line, field)} {text!r} must be a positive price")
    return value


def _check_order(path: Path, setup: Setup) -> None:
    rules = (
        ("support", setup.support < setup.resistance, f"must be below resistance {setup.resistance}"),
        ("long_target_1", setup.long_target_1 > setup.resistance, f"must be above resistance {setup.resistance}"),
        ("long_target_2", setup.long_target_2 >= setup.long_target_1, f"must be >= long_target_1 {setup.long_target_1}"),
        ("short_target_1", setup.short_target_1 < setup.support, f"must be below support {setup.support}"),
        ("short_target_2", setup.short_target_2 <= setup.short_target_1, f"must be <= short_target_1 {setup.short_target_1}"),
    )
    for field, ok, problem in rules:
        if not ok:
            value = getattr(setup, field)
            raise ScannerError(f"{_where(path, setup.line, field)} {value} {problem} ({setup.symbol})")


def parse_scanner(path: Path, text: str) -> list[Setup]:
    """Parse and validate scanner text read from ``path`` (named in every error)."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1)]
    content = [(n, line) for n, line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not content:
        raise ScannerError(f"{path}:1: field 'symbol' the scanner file is empty (no header, no setups)")
    header_line, header_text = content[0]
    header = [name.strip().lower() for name in next(csv.reader([header_text]))]
    for column in COLUMNS:
        if column not in header:
            raise ScannerError(f"{_where(path, header_line, column)} column missing from the header ({header_text.strip()!r})")
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        raise ScannerError(f"{_where(path, header_line, duplicates[0])} column appears twice in the header")
    index = {name: header.index(name) for name in COLUMNS}
    setups: list[Setup] = []
    seen: dict[str, int] = {}
    for number, line in content[1:]:
        cells = next(csv.reader([line]))
        values: dict[str, str | None] = {
            name: cells[position] if position < len(cells) else None for name, position in index.items()
        }
        symbol = (values["symbol"] or "").strip().upper()
        if not symbol:
            raise ScannerError(f"{_where(path, number, 'symbol')} value is missing")
        if not _SYMBOL.match(symbol):
            raise ScannerError(f"{_where(path, number, 'symbol')} {values['symbol']!r} is not a ticker symbol")
        if symbol in seen:
            raise ScannerError(f"{_where(path, number, 'symbol')} {symbol} already listed on line {seen[symbol]}")
        prices = {name: _price(path, number, name, values[name]) for name in PRICE_COLUMNS}
        setup = Setup(symbol=symbol, line=number, **prices)
        _check_order(path, setup)
        seen[symbol] = number
        setups.append(setup)
    if not setups:
        raise ScannerError(f"{path}:{header_line + 1}: field 'symbol' the scanner file lists no setups")
    return setups


def read_scanner(path: Path) -> list[Setup]:
    """Read the day's scanner file (the only I/O ps60 does, from ``start``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScannerError(f"{path}: scanner file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScannerError(f"{path}: cannot read the scanner file ({error})") from None
    return parse_scanner(path, text)
