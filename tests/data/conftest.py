"""Helpers to write market days by hand, exactly as docs/data-format.md tells users to."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

NIFTY_MANIFEST = """\
market = "NSE"
date = "2025-12-09"
timezone = "Asia/Kolkata"
bar_seconds = 60
regime = "hand-written"
description = "Two NIFTY options and the index, three minutes"
exercises = []
"""

NIFTY_INSTRUMENTS = """\
symbol,exchange,kind,currency,lot_size,tick_size,underlying,expiry,strike,right,sector
NIFTY 50,NSE,INDEX,INR,1,0.05,,,,,
NIFTY25D0925900PE,NFO,OPTION,INR,75,0.05,NIFTY,2025-12-09,25900,PUT,
NIFTY25D0926000CE,NFO,OPTION,INR,75,0.05,NIFTY,2025-12-09,26000,CALL,
"""

NIFTY_BARS = """\
ts,symbol,open,high,low,close,volume,oi
2025-12-09T09:15:00+05:30,NIFTY 50,25950.10,25961.00,25940.55,25946.95,0,0
2025-12-09T09:15:00+05:30,NIFTY25D0925900PE,42.00,44.50,41.05,43.20,187500,3412500
2025-12-09T09:15:00+05:30,NIFTY25D0926000CE,61.00,61.90,57.40,58.15,240000,5126250
2025-12-09T09:16:00+05:30,NIFTY 50,25946.95,25952.00,25930.00,25931.40,0,0
2025-12-09T09:16:00+05:30,NIFTY25D0925900PE,43.20,47.00,43.00,46.65,150000,3390000
2025-12-09T09:16:00+05:30,NIFTY25D0926000CE,58.15,58.40,54.95,55.10,97500,5160000
2025-12-09T09:17:00+05:30,NIFTY 50,25931.40,25935.00,25925.20,25933.75,0,0
2025-12-09T09:17:00+05:30,NIFTY25D0925900PE,46.65,46.70,45.10,45.50,82500,3375000
2025-12-09T09:17:00+05:30,NIFTY25D0926000CE,55.10,56.30,55.00,56.05,60000,5152500
"""


def write_day(root: Path, manifest: str, instruments: str, bars: str, name: str = "bars.csv") -> Path:
    """Write a day directory from text blocks; returns its path."""
    market = "NSE" if 'market = "NSE"' in manifest else "NYSE"
    date_line = next(line for line in manifest.splitlines() if line.startswith("date"))
    directory = root / market / date_line.split('"')[1]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "day.toml").write_text(dedent(manifest))
    (directory / "instruments.csv").write_text(dedent(instruments))
    (directory / name).write_text(dedent(bars))
    return directory


@pytest.fixture
def nifty_day(tmp_path: Path) -> Path:
    return write_day(tmp_path, NIFTY_MANIFEST, NIFTY_INSTRUMENTS, NIFTY_BARS)
