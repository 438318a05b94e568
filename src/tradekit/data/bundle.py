"""The bundled sample days: which generator call produced each, so they can be rebuilt.

NIFTY samples are stored as 15-second OHLC bars (spot and every option) and US
samples as 5-second bars, both Parquet with zstd, to keep the package small
(about 8 MB for all ten days); ``tradekit data generate`` writes 1-second
NIFTY quotes by default. docs/sample-days.md says which day exercises what.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tradekit.data.nifty import generate_nifty_day
from tradekit.data.us import generate_us_day

SAMPLE_SEED = 1
NIFTY_SAMPLE_BAR_SECONDS = 15
NIFTY_SAMPLES: tuple[tuple[date, str], ...] = (
    (date(2025, 12, 1), "trend_up"),
    (date(2025, 12, 2), "trend_down"),
    (date(2025, 12, 4), "chop"),
    (date(2025, 12, 5), "reversal"),
    (date(2025, 12, 8), "opening_gap"),
)
US_SAMPLES: tuple[tuple[date, str], ...] = (
    (date(2025, 12, 1), "breakouts"),
    (date(2025, 12, 2), "fakeouts"),
    (date(2025, 12, 3), "retests"),
    (date(2025, 12, 4), "partials"),
    (date(2025, 12, 5), "mixed"),
)


def build_nifty_sample(day: date, regime: str, out_root: Path) -> Path:
    return generate_nifty_day(day, SAMPLE_SEED, regime, out_root, bar_seconds=NIFTY_SAMPLE_BAR_SECONDS)


def build_us_sample(day: date, regime: str, out_root: Path) -> Path:
    return generate_us_day(day, SAMPLE_SEED, regime, out_root, file_format="parquet")


def build_samples(out_root: Path) -> list[Path]:
    """(Re)build every bundled day under ``out_root`` (the package's samples directory to refresh them)."""
    paths = [build_nifty_sample(day, regime, out_root) for day, regime in NIFTY_SAMPLES]
    return paths + [build_us_sample(day, regime, out_root) for day, regime in US_SAMPLES]
