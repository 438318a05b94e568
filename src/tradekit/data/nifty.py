"""Generate a NIFTY trading day: index spot at 1 s and its weekly option chain.

The spot path is a regime's anchor shape (minutes from the open -> points
from the open, piecewise linear, so a regime reliably does what it is named
for) plus mean-reverting noise and a little micro noise from the seed. Every
option is priced from that same path with Black-76, a smile and real time to
expiry, so premiums, parity and decay stay consistent with spot. Open
interest starts with the familiar profile (big OI at round strikes, call
writers above spot, put writers below) and moves with the market: put
writers add as spot rises and cover as it falls, call writers the other way,
strongest near the money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import numpy as np

from tradekit.data import format as fmt
from tradekit.data.pricing import SECONDS_PER_YEAR, black76, smile, snap
from tradekit.data.symbols import nifty_option_symbol, require_trading_day, weekly_expiry
from tradekit.data.writer import aggregate, local_ns, write_bars
from tradekit.errors import DataError
from tradekit.model import Instrument, InstrumentKind, OptionRight

TIMEZONE = "Asia/Kolkata"
OPEN, CLOSE = time(9, 15), time(15, 30)
LOT_SIZE, TICK, STRIKE_STEP = 75, 0.05, 50
INDEX = Instrument(symbol="NIFTY 50", exchange="NSE", kind=InstrumentKind.INDEX, currency="INR", tick_size=Decimal("0.05"))


@dataclass(frozen=True)
class NiftyRegime:
    """A day's shape. ``shape``: (minutes after 09:15, points from the open) anchors."""

    name: str
    description: str
    direction: str  # which side holds the bigger OI wall at 09:15: "PUT" day = max call OI > max put OI
    shape: tuple[tuple[float, float], ...]
    oi_beta: float = 25.0  # % OI change near the money per 1% spot move
    atm_vol: float = 0.12
    noise: float = 5.0  # points, stationary std of the mean-reverting noise
    gap: float = 0.0  # open minus previous close, points
    exercises: tuple[str, ...] = ()


REGIMES: dict[str, NiftyRegime] = {
    r.name: r
    for r in (
        NiftyRegime(
            "trend_down",
            "Slides from the open, bounces mid-morning, then grinds lower into the close",
            "PUT",
            ((0, 0), (14, -60), (40, -95), (75, -150), (95, -105), (125, -100), (170, -150), (230, -175), (300, -205), (360, -230), (375, -228)),
            exercises=("oi-momentum:direction_put", "oi-momentum:trailing_stop"),
        ),
        NiftyRegime(
            "opening_gap",
            "Gaps up 120 points and runs, drops 90 points in one minute at 09:38, then grinds back up",
            "CALL",
            ((0, 0), (14, 60), (20, 75), (23, 95), (23.3, -15), (40, -8), (90, 20), (150, 60), (200, 110), (240, 120), (260, 95), (300, 100), (375, 130)),
            gap=120.0,
            exercises=("oi-momentum:direction_call", "oi-momentum:initial_stop", "oi-momentum:trailing_stop"),
        ),
        NiftyRegime(
            "chop",
            "Range-bound swings of 20-30 points either way; writers add on every push",
            "CALL",
            ((0, 0), (14, 4), (30, 20), (55, -8), (80, 18), (110, -10), (140, 15), (170, -12), (205, 12), (240, -10), (280, 10), (330, -5), (375, 0)),
            noise=4.0,
            exercises=("oi-momentum:direction_call", "oi-momentum:trailing_stop", "oi-momentum:oi_stop"),
        ),
        NiftyRegime(
            "reversal",
            "Falls hard in the first 15 minutes, then reverses up all day while put writers pile in",
            "PUT",
            ((0, 0), (14, -95), (22, -105), (60, -80), (120, -45), (180, -20), (250, 15), (320, 35), (375, 40)),
            oi_beta=60.0,
            exercises=("oi-momentum:direction_put", "oi-momentum:oi_stop", "oi-momentum:vwap_stop"),
        ),
        NiftyRegime(
            "trend_up",
            "Quiet morning, steady rally after midday that holds into the close",
            "CALL",
            ((0, 0), (14, 3), (60, -10), (120, 5), (180, 0), (240, 40), (300, 75), (375, 120)),
            noise=3.0,
            exercises=("oi-momentum:direction_call", "oi-momentum:vwap_stop", "oi-momentum:end_of_day"),
        ),
    )
}


def _seconds_from_open(clock: time) -> int:
    return (clock.hour * 3600 + clock.minute * 60 + clock.second) - (OPEN.hour * 3600 + OPEN.minute * 60)


def spot_path(regime: NiftyRegime, rng: np.random.Generator, spot_open: float, seconds: np.ndarray) -> np.ndarray:
    """Spot at each second (seconds from 09:15): anchor shape + OU noise + micro noise."""
    minutes, points = np.array(regime.shape).T
    anchor = spot_open + np.interp(seconds / 60.0, minutes, points)
    total = int(seconds[-1]) + 1 if seconds.size else 0
    phi = np.exp(-1.0 / 90.0)  # ~1.5 minute memory
    shocks = rng.normal(0.0, regime.noise * np.sqrt(1 - phi**2), total)
    noise = np.empty(total)
    level = 0.0
    for index in range(total):  # 22,500 steps: a plain loop is a few ms
        level = level * phi + shocks[index]
        noise[index] = level
    noise -= noise[0]  # the open is the open
    micro = rng.normal(0.0, 0.6, total)
    micro[0] = 0.0
    return snap(anchor + noise[seconds] + micro[seconds], TICK)


def _initial_oi(strikes: np.ndarray, spot: float, direction: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    def profile(center: float) -> np.ndarray:
        weight = np.exp(-(((strikes - center) / 450.0) ** 2)) + 0.08
        weight *= np.where(strikes % 500 == 0, 2.3, np.where(strikes % 100 == 0, 1.45, 1.0))
        return weight * rng.uniform(0.85, 1.15, strikes.size)

    calls, puts = profile(spot + 200), profile(spot - 200)
    call_top, put_top = (1.45e7, 1.0e7) if direction == "PUT" else (1.0e7, 1.45e7)
    return calls / calls.max() * call_top, puts / puts.max() * put_top


def _round_lots(values: np.ndarray) -> np.ndarray:
    return (np.round(values / LOT_SIZE) * LOT_SIZE).astype(np.int64)


def generate_nifty_day(
    day: date,
    seed: int,
    regime: str,
    out_root: Path,
    *,
    strikes_each_side: int = 20,
    start: time = OPEN,
    end: time = CLOSE,
    bar_seconds: int = 1,
    file_format: str = "parquet",
    spot_open: float | None = None,
) -> Path:
    """Write ``<out_root>/NSE/<day>/`` and return it; the same arguments give byte-identical files."""
    if regime not in REGIMES:
        raise DataError(f"unknown NIFTY regime {regime!r}; known: {', '.join(REGIMES)}")
    require_trading_day("NSE", day)
    spec = REGIMES[regime]
    rng = np.random.default_rng([seed, day.toordinal(), 1])
    first, last = _seconds_from_open(start), _seconds_from_open(end)
    if not 0 <= first < last <= _seconds_from_open(CLOSE):
        raise DataError(f"window {start}-{end} must lie inside 09:15-15:30 and not be empty")
    seconds = np.arange(first, last, dtype=np.int64)
    level = spot_open if spot_open is not None else float(np.round(rng.uniform(25600, 26300), 1))
    spot = spot_path(spec, rng, level, np.arange(0, _seconds_from_open(CLOSE)))

    expiry = weekly_expiry(day)
    atm = round(level / STRIKE_STEP) * STRIKE_STEP
    strikes = atm + STRIKE_STEP * np.arange(-strikes_each_side, strikes_each_side + 1, dtype=np.float64)
    open_ns = local_ns(day, OPEN, TIMEZONE)
    expiry_ns = local_ns(expiry, CLOSE, TIMEZONE)
    ts_all = open_ns + np.arange(spot.size, dtype=np.int64) * 1_000_000_000
    years = (expiry_ns - ts_all) / 1e9 / SECONDS_PER_YEAR

    # Chain: rows = calls then puts, columns = seconds of the whole day.
    strike_grid = np.concatenate([strikes, strikes])[:, None]
    is_call = np.concatenate([np.ones(strikes.size, bool), np.zeros(strikes.size, bool)])[:, None]
    move = spot / level - 1.0
    atm_vol = spec.atm_vol - 2.5 * move + 0.01 * np.sin(np.linspace(0, np.pi, spot.size))  # vol rises as spot falls
    vol = smile(spot[None, :], strike_grid, atm_vol[None, :])
    premium = snap(black76(spot[None, :], strike_grid, years[None, :], vol, is_call), TICK)

    nearness = np.exp(-(((strike_grid - spot[None, :]) / 220.0) ** 2))
    day_fraction = np.linspace(0.0, 1.0, spot.size)
    activity = 1.6 - 2.4 * day_fraction * (1 - day_fraction)  # U-shaped: busy open and close
    returns = np.diff(np.log(spot), prepend=np.log(spot[0]))
    intensity = (4 + 45 * nearness) * activity[None, :] * (1 + 400 * np.abs(returns))[None, :]
    volume = rng.poisson(intensity) * LOT_SIZE

    call_oi, put_oi = _initial_oi(strikes, level, spec.direction, rng)
    side = np.where(is_call[:, 0], -1.0, 1.0)[:, None]  # put writers add as spot rises; call writers as it falls
    reaction = spec.oi_beta * side * (nearness + 0.05) * returns[None, :]
    buildup = 0.12 / spot.size * (0.4 + nearness)  # positions build through the day
    wobble = rng.normal(0.0, 0.0004, premium.shape)
    log_oi = np.cumsum(reaction + buildup + wobble, axis=1)
    oi = _round_lots(np.concatenate([call_oi, put_oi])[:, None] * np.exp(log_oi))

    symbols = [nifty_option_symbol(expiry, int(k), OptionRight.CALL) for k in strikes] + [
        nifty_option_symbol(expiry, int(k), OptionRight.PUT) for k in strikes
    ]
    instruments = [INDEX] + [
        Instrument(
            symbol=symbol,
            exchange="NFO",
            kind=InstrumentKind.OPTION,
            currency="INR",
            lot_size=LOT_SIZE,
            tick_size=Decimal("0.05"),
            underlying="NIFTY",
            expiry=expiry,
            strike=Decimal(int(strike)),
            right=OptionRight.CALL if index < strikes.size else OptionRight.PUT,
        )
        for index, (symbol, strike) in enumerate(zip(symbols, strike_grid[:, 0], strict=True))
    ]

    prices = np.vstack([spot[None, :], premium])[:, seconds]
    volumes = np.vstack([np.zeros((1, spot.size), np.int64), volume])[:, seconds]
    ois = np.vstack([np.zeros((1, spot.size), np.int64), oi])[:, seconds]
    ts = ts_all[seconds]
    names = np.array([INDEX.symbol, *symbols], dtype=object)

    directory = Path(out_root) / "NSE" / day.isoformat()
    directory.mkdir(parents=True, exist_ok=True)
    count = len(instruments)
    if bar_seconds == 1:
        columns = {"price": prices.ravel(), "volume": volumes.ravel(), "oi": ois.ravel()}
        ts_rows = np.tile(ts, count)
    else:
        bars = aggregate(ts, prices, volumes, ois, 1, bar_seconds)
        ts_rows = np.tile(bars["ts"], count)
        columns = {key: bars[key].ravel() for key in ("open", "high", "low", "close", "volume", "oi")}
    symbol_rows = np.repeat(names, ts_rows.size // count)
    write_bars(directory, day, TIMEZONE, ts_rows, symbol_rows, columns, file_format)
    fmt.write_instruments(directory, instruments)
    fmt.write_manifest(
        directory,
        {
            "market": "NSE",
            "date": day,
            "timezone": TIMEZONE,
            "bar_seconds": bar_seconds,
            "regime": regime,
            "description": spec.description,
            "seed": seed,
            "exercises": list(spec.exercises),
            "source": "tradekit data generate",
            "expiry": expiry.isoformat(),
            "previous_close": round(level - spec.gap, 2),
            "window": f"{start.strftime('%H:%M:%S')}-{end.strftime('%H:%M:%S')}",
        },
    )
    return directory

