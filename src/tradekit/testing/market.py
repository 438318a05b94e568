"""Write small market days in the documented on-disk format (docs/data-format.md) for tests.

Deterministic: the same arguments give the same files.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

SESSIONS = {"NSE": ("Asia/Kolkata", (9, 15), (15, 30)), "NYSE": ("America/New_York", (9, 30), (16, 0))}


def random_walk(seed: int, count: int, start: float, volatility: float = 0.002) -> list[float]:
    """A seeded geometric random walk with a few sharp moves, rounded to 0.05."""
    generator = np.random.default_rng(seed)
    steps = generator.normal(0, volatility, count)
    jumps = generator.random(count) < 0.02
    steps[jumps] += generator.choice([-1, 1], jumps.sum()) * volatility * 6
    path = start * np.exp(np.cumsum(steps))
    return [round(round(p / 0.05) * 0.05, 2) for p in path]


def write_day(
    root: Path,
    market: str,
    day: date,
    closes: Mapping[str, Sequence[float]],
    *,
    bar_seconds: int = 60,
    kind: str = "EQUITY",
    exchange: str | None = None,
    lot_size: int = 1,
    tick: str = "0.05",
    oi: Mapping[str, Sequence[int]] | None = None,
    scanner: str | None = None,
    extra_rows: Sequence[str] = (),
) -> Path:
    """One day directory: each symbol's closes become bars from the session open (open = previous close)."""
    timezone, (open_h, open_m), _ = SESSIONS[market]
    tz = ZoneInfo(timezone)
    exchange = exchange or ("NSE" if market == "NSE" else "SMART")
    currency = "INR" if market == "NSE" else "USD"
    directory = root / market / day.isoformat()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "day.toml").write_text(
        f'market = "{market}"\ndate = "{day.isoformat()}"\ntimezone = "{timezone}"\nbar_seconds = {bar_seconds}\n'
        f'regime = "test"\ndescription = "written by tradekit.testing.market"\nexercises = []\n'
    )
    with (directory / "instruments.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["symbol", "exchange", "kind", "currency", "lot_size", "tick_size", "underlying", "expiry", "strike", "right", "sector"])
        for symbol in closes:
            writer.writerow([symbol, exchange, kind, currency, lot_size, tick, "", "", "", "", ""])
    start = datetime(day.year, day.month, day.day, open_h, open_m, tzinfo=tz)
    with (directory / "bars.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ts", "symbol", "open", "high", "low", "close", "volume", "oi"])
        for symbol, series in closes.items():
            previous = series[0]
            for index, close in enumerate(series):
                moment = start + timedelta(seconds=index * bar_seconds)
                high, low = max(previous, close), min(previous, close)
                open_interest = oi[symbol][index] if oi and symbol in oi else 0
                writer.writerow([moment.isoformat(), symbol, f"{previous:.2f}", f"{high:.2f}", f"{low:.2f}", f"{close:.2f}", 1000 + index, open_interest])
                previous = close
        for row in extra_rows:
            handle.write(row.rstrip("\n") + "\n")
    if scanner is not None:
        (directory / "scanner.csv").write_text(scanner)
    return directory


def session_bars(market: str, bar_seconds: int = 60) -> int:
    """How many bars of ``bar_seconds`` fill the regular session."""
    _, (open_h, open_m), (close_h, close_m) = SESSIONS[market]
    return ((close_h * 60 + close_m) - (open_h * 60 + open_m)) * 60 // bar_seconds


def example_config(home: Path, root: Path, **extra: str) -> None:
    """A tradekit.toml in ``home`` that trades the built-in ``example`` strategy on the days under ``root``."""
    home.mkdir(parents=True, exist_ok=True)
    lines = [
        "[data]", f'root = "{root}"',
        "[paper]", "capital = 100000", 'costs = { preset = "india_fo" }',
        "[strategies.example]", 'instrument = "NSE:TESTCO"', "quantity = 50", "entry_move_pct = 0.15", "stop_pct = 0.6",
    ]
    lines += [f"{key} = {value}" for key, value in extra.items()]
    (home / "tradekit.toml").write_text("\n".join(lines) + "\n")
