"""Generators: deterministic bytes, Kite symbols, consistent chains, sane scanner files."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from tradekit.data import load_day, read_scanner
from tradekit.data.nifty import generate_nifty_day
from tradekit.data.symbols import is_monthly_expiry, nifty_option_symbol, weekly_expiry
from tradekit.data.us import generate_us_day
from tradekit.errors import DataError
from tradekit.model import OptionRight


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


SMALL = dict(strikes_each_side=3, start=time(9, 15), end=time(9, 25))


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_generate_nifty_same_seed_gives_same_bytes(tmp_path: Path, file_format: str) -> None:
    first = generate_nifty_day(date(2025, 12, 3), 42, "chop", tmp_path / "a", file_format=file_format, **SMALL)
    second = generate_nifty_day(date(2025, 12, 3), 42, "chop", tmp_path / "b", file_format=file_format, **SMALL)
    third = generate_nifty_day(date(2025, 12, 3), 43, "chop", tmp_path / "c", file_format=file_format, **SMALL)
    assert _files(first) == _files(second)
    assert _files(first)[f"bars.{file_format}"] != _files(third)[f"bars.{file_format}"]


def test_generate_us_same_seed_gives_same_bytes(tmp_path: Path) -> None:
    first = generate_us_day(date(2025, 12, 3), 5, "mixed", tmp_path / "a", symbols=("TSLA", "NVDA"))
    second = generate_us_day(date(2025, 12, 3), 5, "mixed", tmp_path / "b", symbols=("TSLA", "NVDA"))
    assert _files(first) == _files(second)
    assert set(_files(first)) == {"bars.csv", "day.toml", "instruments.csv", "scanner.csv"}


def test_generate_nifty_chain_is_consistent_with_spot(tmp_path: Path) -> None:
    directory = generate_nifty_day(date(2025, 12, 3), 1, "trend_down", tmp_path, spot_open=25946.95, **SMALL)
    day = load_day(directory)
    assert day.issues == () and day.bar_seconds == 1
    spot = day.series["NSE:NIFTY 50"]
    assert spot.close[0] == pytest.approx(25946.95) and len(spot) == 600
    assert np.all(np.diff(spot.ts) == 1_000_000_000)
    call = day.series["NFO:NIFTY25D0925950CE"]
    put = day.series["NFO:NIFTY25D0925950PE"]
    assert call.instrument.lot_size == 75 and call.instrument.tick_size == Decimal("0.05")
    # Put-call parity (undiscounted): C - P = S - K, within a few ticks of rounding and smile.
    assert np.abs((call.close - put.close) - (spot.close - 25950)).max() < 1.0
    # Prices sit on the 0.05 tick; OI in whole lots; volume only where trades happen.
    assert np.allclose(np.round(call.close * 20), call.close * 20)
    assert np.all(call.oi % 75 == 0) and np.all(call.volume % 75 == 0) and call.volume.sum() > 0
    assert len(day.series) == 1 + 2 * 7


def test_generate_refuses_holidays_and_unknown_regimes(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a NSE trading day"):
        generate_nifty_day(date(2025, 12, 25), 1, "chop", tmp_path)
    with pytest.raises(DataError, match="unknown NIFTY regime 'sideways'"):
        generate_nifty_day(date(2025, 12, 3), 1, "sideways", tmp_path)
    with pytest.raises(DataError, match="not a NYSE trading day"):
        generate_us_day(date(2025, 11, 27), 1, "mixed", tmp_path)


def test_nifty_symbols_follow_kite_weekly_and_monthly_forms() -> None:
    assert weekly_expiry(date(2025, 12, 3)) == date(2025, 12, 9)
    assert weekly_expiry(date(2025, 12, 9)) == date(2025, 12, 9)
    assert weekly_expiry(date(2025, 8, 25)) == date(2025, 8, 28)  # Thursdays before September 2025
    assert nifty_option_symbol(date(2025, 12, 9), 25900, OptionRight.PUT) == "NIFTY25D0925900PE"
    assert is_monthly_expiry(date(2025, 12, 30))
    assert nifty_option_symbol(date(2025, 12, 30), 25900, OptionRight.PUT) == "NIFTY25DEC25900PE"
    assert nifty_option_symbol(date(2025, 10, 7), 25150, OptionRight.CALL) == "NIFTY25O0725150CE"


def test_generate_us_scanner_levels_are_valid_and_some_pivots_break(tmp_path: Path) -> None:
    day = load_day(generate_us_day(date(2025, 12, 4), 9, "breakouts", tmp_path))
    setups = read_scanner(day.scanner)
    assert [s.symbol for s in setups] == ["TSLA", "NVDA", "AAPL", "AMD", "META", "MSFT", "AMZN", "GOOGL"]
    assert day.bar_seconds == 5 and all(len(series) == 4680 for series in day.series.values())
    broke = [s.symbol for s in setups if day.series[f"SMART:{s.symbol}"].close.max() > s.resistance]
    held = [s.symbol for s in setups if s.support < day.series[f"SMART:{s.symbol}"].close.min() and s.symbol not in broke]
    assert broke and held
