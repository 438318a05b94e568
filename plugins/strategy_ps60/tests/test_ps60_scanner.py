"""The scanner file: parsing, and errors that name file, line and field."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tradekit_ps60 import ScannerError, read_scanner

HEADER = "symbol,resistance,support,long_target_1,long_target_2,short_target_1,short_target_2"


def test_scanner_valid_file_gives_exact_setups_with_their_lines(scanner_file: Callable[..., Path]) -> None:
    path = scanner_file(
        "# setups for 2025-03-04\n"
        "Support,Symbol,Resistance,Long_Target_1,long_target_2,short_target_1,short_target_2,notes\n"
        "\n"
        "438.50,tsla,445.00,447.00,450.00,436.00,433.00,gap up\n"
        "226,BRK.B,230,231.5,233,224.5,223,\n"
    )
    setups = read_scanner(path)
    assert [(s.symbol, s.line) for s in setups] == [("TSLA", 4), ("BRK.B", 5)]
    tsla = setups[0]
    assert (tsla.resistance, tsla.support) == (Decimal("445.00"), Decimal("438.50"))
    assert (tsla.long_target_1, tsla.long_target_2) == (Decimal("447.00"), Decimal("450.00"))
    assert (tsla.short_target_1, tsla.short_target_2) == (Decimal("436.00"), Decimal("433.00"))


def test_scanner_equal_targets_are_allowed_as_documented(scanner_file: Callable[..., Path]) -> None:
    [setup] = read_scanner(scanner_file(HEADER + "\nTSLA,445,438.5,447,447,436,436\n"))
    assert setup.long_target_2 == setup.long_target_1 and setup.short_target_2 == setup.short_target_1


def test_scanner_with_byte_order_mark_reads_like_without(scanner_file: Callable[..., Path], tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + HEADER + "\nTSLA,445,438.5,447,450,436,433\n").encode())
    assert [s.symbol for s in read_scanner(path)] == ["TSLA"]


@pytest.mark.parametrize(
    ("body", "line", "field", "problem"),
    [
        ("TSLA,abc,438.5,447,450,436,433", 3, "resistance", "'abc' is not a number"),
        ("TSLA,445,-1,447,450,436,433", 3, "support", "must be a positive price"),
        ("TSLA,445,438.5,447,450,436", 3, "short_target_2", "value is missing"),
        ("TSLA,445,,447,450,436,433", 3, "support", "value is missing"),
        ("TSLA,445,445,447,450,436,433", 3, "support", "must be below resistance 445"),
        ("TSLA,445,438.5,444,450,436,433", 3, "long_target_1", "must be above resistance 445"),
        ("TSLA,445,438.5,447,446,436,433", 3, "long_target_2", "446 must be >= long_target_1 447 (TSLA)"),
        ("TSLA,445,438.5,447,450,439,433", 3, "short_target_1", "must be below support 438.5"),
        ("TSLA,445,438.5,447,450,436,437", 3, "short_target_2", "437 must be <= short_target_1 436 (TSLA)"),
        (",445,438.5,447,450,436,433", 3, "symbol", "value is missing"),
        ("TS LA,445,438.5,447,450,436,433", 3, "symbol", "is not a ticker symbol"),
        ("AAPL,230,226,231.5,233,224.5,223\nTSLA,445,438.5,447,450,436,433\naapl,1,0.5,2,3,0.4,0.3", 5, "symbol",
         "AAPL already listed on line 3"),
        ("TSLA,445,438.5,447,450,436,NaN", 3, "short_target_2", "must be a positive price"),
    ],
)
def test_scanner_bad_row_names_file_line_and_field(
    scanner_file: Callable[..., Path], body: str, line: int, field: str, problem: str
) -> None:
    path = scanner_file(f"# comment line\n{HEADER}\n{body}\n")
    with pytest.raises(ScannerError) as raised:
        read_scanner(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:{line}: field '{field}' ")
    assert problem in message
    assert "\n" not in message


def test_scanner_header_without_a_column_names_the_missing_column(scanner_file: Callable[..., Path]) -> None:
    path = scanner_file("symbol,resistance,support,long_target_1,long_target_2,short_target_1\nTSLA,1,0.5,2,3,0.4\n")
    with pytest.raises(ScannerError, match=r":1: field 'short_target_2' column missing from the header"):
        read_scanner(path)


def test_scanner_header_only_is_an_error_naming_the_first_data_line(scanner_file: Callable[..., Path]) -> None:
    path = scanner_file(HEADER + "\n")
    with pytest.raises(ScannerError, match=r":2: field 'symbol' the scanner file lists no setups"):
        read_scanner(path)


def test_scanner_empty_file_is_an_error(scanner_file: Callable[..., Path]) -> None:
    with pytest.raises(ScannerError, match=r"the scanner file is empty"):
        read_scanner(scanner_file(""))


def test_scanner_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "scanner-2025-03-05.csv"
    with pytest.raises(ScannerError, match=rf"^{path}: scanner file not found$"):
        read_scanner(path)
