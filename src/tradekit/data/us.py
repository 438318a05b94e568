"""Generate a US equities day: 5-second bars for a watchlist and its ps60 scanner file.

Each symbol follows a *script* drawn in units of its pivot width (support at
-1, resistance at +1, targets at +/-2.2 and +/-3.5): a breakout that runs, a
fakeout that fails back through the pivot, a retest that breaks three times,
a drift that never reaches target 1, or a quiet range. Anchors are joined
linearly and roughened with mean-reverting noise much smaller than the
distances between levels, so a script does what it says while bars still
look like trading. Paths are built at 1 s and folded into real 5 s OHLC bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import numpy as np

from tradekit.data import format as fmt
from tradekit.data.scanner import ScannerSetup, write_scanner
from tradekit.data.symbols import require_trading_day
from tradekit.data.writer import aggregate, local_ns, write_bars
from tradekit.errors import DataError
from tradekit.model import Instrument, InstrumentKind

TIMEZONE = "America/New_York"
OPEN, CLOSE = time(9, 30), time(16, 0)
BAR_SECONDS = 5
WATCHLIST: dict[str, tuple[float, str]] = {
    "TSLA": (430.0, "Consumer Discretionary"),
    "NVDA": (180.0, "Technology"),
    "AAPL": (280.0, "Technology"),
    "AMD": (215.0, "Technology"),
    "META": (640.0, "Communication Services"),
    "MSFT": (480.0, "Technology"),
    "AMZN": (230.0, "Consumer Discretionary"),
    "GOOGL": (315.0, "Communication Services"),
}
LEVELS = {"resistance": 1.0, "support": -1.0, "t1": 2.2, "t2": 3.5}

# Scripts: (minutes after 09:30, level in pivot widths). Shorts are mirrored longs.
_LONG_SCRIPTS: dict[str, tuple[tuple[float, float], ...]] = {
    "run": ((0, 0), (20, 0.3), (40, 0.6), (43, 1.45), (90, 1.9), (100, 2.6), (150, 3.0), (170, 3.9), (390, 3.4)),
    "breakeven": ((0, 0), (30, 0.5), (33, 1.45), (60, 1.8), (70, 2.6), (95, 1.9), (105, 0.4), (390, 0.2)),
    "fail": ((0, 0), (30, 0.6), (33, 1.35), (42, 1.45), (52, 0.3), (390, 0.1)),
    "retest": ((0, 0), (25, 0.5), (28, 1.4), (38, 1.35), (46, 0.35), (80, 0.5), (83, 1.4), (93, 1.35), (101, 0.35),
               (140, 0.5), (143, 1.45), (200, 1.8), (390, 1.6)),
    "drift": ((0, 0), (60, 0.5), (63, 1.45), (120, 1.6), (390, 1.8)),
}
SCRIPTS: dict[str, tuple[tuple[float, float], ...]] = {
    **{f"{name}_long": shape for name, shape in _LONG_SCRIPTS.items()},
    **{f"{name}_short": tuple((m, -u) for m, u in shape) for name, shape in _LONG_SCRIPTS.items()},
    "range": ((0, 0), (60, 0.5), (120, -0.4), (180, 0.45), (240, -0.5), (300, 0.3), (390, 0.0)),
}
SCRIPT_EXERCISES = {
    "run": ("ps60:partial_then_target_2",),
    "breakeven": ("ps60:partial_then_stop_break_even",),
    "fail": ("ps60:stop_at_pivot",),
    "retest": ("ps60:stop_at_pivot", "ps60:attempt_limit_reached"),
    "drift": ("ps60:end_of_day",),
    "range": (),
}


@dataclass(frozen=True)
class UsRegime:
    """Which scripts the watchlist follows today (in WATCHLIST order)."""

    name: str
    description: str
    scripts: tuple[str, ...]


REGIMES: dict[str, UsRegime] = {
    r.name: r
    for r in (
        UsRegime("breakouts", "Trend day: clean breakouts that run to target 2 on both sides",
                 ("run_long", "run_short", "drift_long", "range", "run_long", "range", "drift_short", "range")),
        UsRegime("fakeouts", "Failed breakouts: pivots break and fail straight back",
                 ("fail_long", "fail_short", "range", "fail_long", "range", "breakeven_long", "range", "fail_short")),
        UsRegime("retests", "Pivots break, fail and retest; third breaks are blocked by the attempt limit",
                 ("retest_long", "range", "retest_short", "run_long", "range", "range", "fail_long", "range")),
        UsRegime("partials", "Target 1 reached then a reversal back to entry: stops at break-even",
                 ("breakeven_long", "breakeven_short", "run_short", "range", "drift_long", "range", "range", "range")),
        UsRegime("mixed", "A bit of everything, including a position held to the close",
                 ("run_long", "fail_short", "retest_long", "breakeven_short", "drift_long", "range", "drift_short", "range")),
    )
}


def _script_path(shape: tuple[tuple[float, float], ...], seconds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    minutes, units = np.array(shape).T
    anchor = np.interp(seconds / 60.0, minutes, units)
    phi = np.exp(-1.0 / 45.0)
    shocks = rng.normal(0.0, 0.07 * np.sqrt(1 - phi**2), seconds.size)
    noise = np.empty(seconds.size)
    level = 0.0
    for index in range(seconds.size):
        level = level * phi + shocks[index]
        noise[index] = level
    return anchor + noise - noise[0] + rng.normal(0.0, 0.01, seconds.size)


def generate_us_day(
    day: date,
    seed: int,
    regime: str,
    out_root: Path,
    *,
    symbols: tuple[str, ...] | None = None,
    file_format: str = "csv",
) -> Path:
    """Write ``<out_root>/NYSE/<day>/`` with bars and scanner.csv; the same arguments give the same bytes."""
    if regime not in REGIMES:
        raise DataError(f"unknown US regime {regime!r}; known: {', '.join(REGIMES)}")
    require_trading_day("NYSE", day)
    spec = REGIMES[regime]
    chosen = symbols or tuple(WATCHLIST)
    unknown = [s for s in chosen if s not in WATCHLIST]
    if unknown:
        raise DataError(f"no generator profile for {', '.join(unknown)}; known: {', '.join(WATCHLIST)}")
    rng = np.random.default_rng([seed, day.toordinal(), 2])
    seconds = np.arange(0, 390 * 60, dtype=np.int64)
    open_ns = local_ns(day, OPEN, TIMEZONE)
    ts = open_ns + seconds * 1_000_000_000

    setups, instruments, blocks, exercises = [], [], [], set()
    for position, symbol in enumerate(WATCHLIST):
        base_price, sector = WATCHLIST[symbol]
        script = spec.scripts[position % len(spec.scripts)]
        base = round(base_price * rng.uniform(0.97, 1.03), 2)
        width = base * rng.uniform(0.0035, 0.005)
        path = _script_path(SCRIPTS[script], seconds, rng)
        if symbol not in chosen:
            continue
        exercises.update(SCRIPT_EXERCISES[script.rsplit("_", 1)[0]])
        prices = np.round(base + path * width, 2)
        returns = np.abs(np.diff(path, prepend=path[0]))
        activity = 1.5 - 2.0 * (seconds / seconds[-1]) * (1 - seconds / seconds[-1])
        volume = rng.poisson(3.0 * activity * (1 + 60 * returns)) * 10
        bars = aggregate(ts, prices[None, :], volume[None, :], np.zeros((1, seconds.size), np.int64), 1, BAR_SECONDS)
        blocks.append((symbol, bars))
        level = {name: round(base + value * width, 2) for name, value in LEVELS.items()}
        low = {name: round(base - value * width, 2) for name, value in LEVELS.items()}
        setups.append(ScannerSetup(symbol, level["resistance"], level["support"], level["t1"], level["t2"], low["t1"], low["t2"]))
        instruments.append(Instrument(symbol=symbol, exchange="SMART", kind=InstrumentKind.EQUITY, currency="USD",
                                      tick_size=Decimal("0.01"), sector=sector))

    directory = Path(out_root) / "NYSE" / day.isoformat()
    directory.mkdir(parents=True, exist_ok=True)
    ts_rows = np.concatenate([bars["ts"] for _, bars in blocks])
    symbol_rows = np.concatenate([np.full(bars["ts"].size, symbol, dtype=object) for symbol, bars in blocks])
    columns = {key: np.concatenate([bars[key].ravel() for _, bars in blocks]) for key in ("open", "high", "low", "close", "volume", "oi")}
    columns = {key: np.round(value, 2) if value.dtype.kind == "f" else value for key, value in columns.items()}
    write_bars(directory, day, TIMEZONE, ts_rows, symbol_rows, columns, file_format)
    fmt.write_instruments(directory, instruments)
    write_scanner(directory / fmt.SCANNER, setups)
    fmt.write_manifest(
        directory,
        {
            "market": "NYSE",
            "date": day,
            "timezone": TIMEZONE,
            "bar_seconds": BAR_SECONDS,
            "regime": regime,
            "description": spec.description,
            "seed": seed,
            "exercises": sorted(exercises),
            "source": "tradekit data generate",
            "scripts": {symbol: spec.scripts[i % len(spec.scripts)] for i, symbol in enumerate(WATCHLIST) if symbol in chosen},
        },
    )
    return directory
