"""End to end through the real engine, paper venue, replay market and DuckDB store.

The market day is written in the documented format (docs/data-format.md):
one-minute bars for the index and a small chain. Its path is designed so the
correct decisions are known by hand:

- 09:15 candle: max call OI 35,123,625 @ 26000 > max put OI 17,592,275 @ 26000 -> PUT;
  spot 25946.95 -> trading strike 25900 PUT.
- 25900 PUT trades 28.00 (OI 2,000,000) until 09:29, 30.00 with OI 1,980,000 in
  09:30-09:34: the 09:30 candle closes above VWAP (28.50) with OI falling ->
  entry at 09:35, filled at 30.00.
- 33.50 in 09:35-09:39, 35.00 in 09:40-09:44 (peak 35.00), 31.40 from 09:45:
  the 09:46 monitor check sees 31.40 <= 31.50 -> TRAILING_STOP @ 31.40.
- 32.00 with OI 1,950,000 in 11:00-11:04 -> entry at 11:05 @ 32.00; 31.00 with
  OI 2,200,000 from 11:10 (in loss, >= 1,950,000 x 1.10) -> OI_STOP at 11:11 @ 31.00.
- 33.00 with OI 2,100,000 from 12:00 -> entry 3 at 12:05 @ 33.00 (max 3 a day
  here); 34.00 with OI 2,050,000 at 14:00 -> blocked (in a position);
  held to the square-off: END_OF_DAY at 15:15 @ 34.00.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tradekit.calendars import session as nse_session
from tradekit.clock import SimClock
from tradekit.data import load_day
from tradekit.engine.loop import Engine, EngineSettings
from tradekit.plugins.paper.venue import PaperSettings, PaperVenue
from tradekit.plugins.replay import ReplayMarket
from tradekit.store.duckdb_store import DuckDBStore
from tradekit_oi_momentum import factory

IST = ZoneInfo("Asia/Kolkata")
DAY = date(2025, 12, 9)
STRIKES = range(25800, 26150, 50)
SETTINGS = {"max_entries_per_day": 3}


def _ist(hhmm: str) -> datetime:
    hour, minute = (int(p) for p in hhmm.split(":"))
    return datetime.combine(DAY, time(hour, minute), tzinfo=IST)


PATH = [
    ("09:15", 28.0, 2_000_000), ("09:30", 30.0, 1_980_000), ("09:35", 33.5, 1_980_000),
    ("09:40", 35.0, 1_980_000), ("09:45", 31.4, 1_980_000), ("11:00", 32.0, 1_950_000),
    ("11:05", 31.8, 1_950_000), ("11:10", 31.0, 2_200_000), ("12:00", 33.0, 2_100_000),
    ("14:00", 34.0, 2_050_000),
]


def _traded(minute: datetime, path: list[tuple[str, float, int]] = PATH) -> tuple[float, int]:
    """Price and OI of the 25900 PUT in the bar starting at ``minute``."""
    price, oi = path[0][1], path[0][2]
    for start, p, o in path:
        if minute >= _ist(start):
            price, oi = p, o
    return price, oi


def write_market_day(root: Path, path: list[tuple[str, float, int]] = PATH) -> Path:
    directory = root / "NSE" / DAY.isoformat()
    directory.mkdir(parents=True)
    (directory / "day.toml").write_text(
        'market = "NSE"\ndate = "2025-12-09"\ntimezone = "Asia/Kolkata"\nbar_seconds = 60\n'
        'regime = "hand-written"\ndescription = "oi-momentum: trailing, OI and end-of-day exits"\n'
        'exercises = ["oi-momentum:trailing_stop", "oi-momentum:oi_stop", "oi-momentum:end_of_day"]\n'
    )
    rows = ["symbol,exchange,kind,currency,lot_size,tick_size,underlying,expiry,strike,right,sector",
            "NIFTY 50,NSE,INDEX,INR,1,0.05,,,,,"]
    symbols = {}
    for strike in STRIKES:
        for right, code in (("CALL", "CE"), ("PUT", "PE")):
            symbol = f"NIFTY25D09{strike}{code}"
            symbols[(strike, right)] = symbol
            rows.append(f"{symbol},NFO,OPTION,INR,75,0.05,NIFTY,2025-12-09,{strike},{right},")
    (directory / "instruments.csv").write_text("\n".join(rows) + "\n")
    bars = ["ts,symbol,open,high,low,close,volume,oi"]
    minute = _ist("09:15")
    while minute < _ist("15:30"):
        ts = minute.isoformat()
        bars.append(f"{ts},NIFTY 50,25946.95,25946.95,25946.95,25946.95,0,0")
        for (strike, right), symbol in symbols.items():
            if (strike, right) == (25900, "PUT"):
                price, oi = _traded(minute, path)
                volume = 100
            else:
                price, volume = 50.0, 0
                oi = {(26000, "CALL"): 35_123_625, (26000, "PUT"): 17_592_275}.get((strike, right), 1_000_000)
            bars.append(f"{ts},{symbol},{price},{price},{price},{price},{volume},{oi}")
        minute += timedelta(minutes=1)
    (directory / "bars.csv").write_text("\n".join(bars) + "\n")
    return directory


class Crash(Exception):
    """Stands for kill -9: the process stops between two steps."""


class CrashingFeed:
    """The replay market as the engine's feed, dying when asked for a given candle."""

    def __init__(self, market: ReplayMarket, crash_at: datetime | None) -> None:
        self.market = market
        self.crash_at = crash_at

    def instruments(self):
        return self.market.instruments()

    def candles(self, instrument_ids, start, seconds):
        if self.crash_at is not None and start >= self.crash_at:
            raise Crash(start)
        return self.market.candles(instrument_ids, start, seconds)


def run_day(tmp: Path, crash_at: datetime | None = None, clock_start: datetime | None = None,
            settings: dict[str, object] = SETTINGS) -> tuple[list[str], DuckDBStore]:
    market = ReplayMarket(load_day(tmp / "NSE" / DAY.isoformat()))
    session = nse_session("NSE", DAY)
    assert session is not None
    clock = SimClock(clock_start or session.open - timedelta(minutes=1))
    venue = PaperVenue(tmp / "paper.json", PaperSettings(account="test", capital=Decimal(100_000)), market, clock)
    venue.connect()
    store = DuckDBStore(tmp / "store.duckdb")
    lines: list[str] = []
    engine = Engine(
        store=store, book=store.load_book(), broker=venue, feed=CrashingFeed(market, crash_at),
        strategy=factory(settings), clock=clock, session=session,
        settings=EngineSettings(account=venue.account, store_id=store.store_id), log=lines.append,
    )
    try:
        engine.run()
    except Crash:
        store.close()
        raise
    return lines, store


def trades(store: DuckDBStore) -> list[tuple[str, str, str, str]]:
    rows = store.query_df("SELECT * FROM trades ORDER BY entry_ts")
    out = []
    for row in rows.to_dict("records"):
        exit_ts = row["exit_ts"]
        exit_local = exit_ts.astimezone(IST) if hasattr(exit_ts, "astimezone") else exit_ts
        out.append((row["exit_reason"], f"{exit_local:%H:%M}", f"{Decimal(str(row['entry_price'])):.2f}",
                    f"{Decimal(str(row['exit_price'])):.2f}"))
    return out


EXPECTED = [
    ("TRAILING_STOP", "09:46", "30.00", "31.40"),
    ("OI_STOP", "11:11", "32.00", "31.00"),
    ("END_OF_DAY", "15:15", "33.00", "34.00"),
]


@pytest.fixture
def market_root(tmp_path: Path) -> Path:
    write_market_day(tmp_path)
    return tmp_path


def test_engine_paper_day_known_trades_and_log_lines(market_root: Path):
    lines, store = run_day(market_root)
    try:
        assert trades(store) == EXPECTED
        text = "\n".join(lines)
        assert "max call OI 35,123,625 @ 26000, max put OI 17,592,275 @ 26000 -> PUT" in text
        assert "trading strike 25900 PUT (spot 25946.95)" in text
        assert "09:30 NIFTY 25900 PUT: close 30.00 VWAP 28.50 OI 2,000,000 -> 1,980,000: ENTRY BUY 1 lot (75)" in text
        assert "LTP 33.50 entry 30.00 P&L +11.67% | initial stop 22.50 (48.89% away) | trailing armed peak 33.50 stop 30.15 (11.11% away)" in text
        assert "signal blocked, already in NIFTY 25900 PUT" in text
        assert " CE" not in text and " PE " not in text
    finally:
        store.close()


def test_a_broker_stop_rests_at_the_venue_while_held_and_goes_with_the_strategys_exit(market_root: Path):
    """``broker_stop_pct``: each entry's fill places a stop at the broker 40 % below the signal (protection while
    tradekit is down); the monitor's own exits (25 % initial stop, trailing, OI, end of day) act first and cancel it."""
    lines, store = run_day(market_root, settings={**SETTINGS, "broker_stop_pct": 40})
    try:
        assert trades(store) == EXPECTED
        stops = store.query("SELECT stop_price, status, quantity, side FROM orders WHERE order_type = 'STOP_MARKET' "
                            "ORDER BY created_at")
        assert [(Decimal(str(p)), status, q, side) for p, status, q, side in stops] == [
            (Decimal("18.00"), "CANCELLED", 75, "SELL"),  # 30.00 x 0.6
            (Decimal("19.20"), "CANCELLED", 75, "SELL"),  # 32.00 x 0.6
            (Decimal("19.80"), "CANCELLED", 75, "SELL"),  # 33.00 x 0.6
        ]
        assert sum("cancelled (position exit" in line for line in lines) == 3
    finally:
        store.close()


def test_killed_while_holding_the_broker_stop_sells_the_collapse_and_the_restart_is_flat(tmp_path: Path):
    """kill -9 at the 09:40 step, after the 09:35 entry; the PUT collapses to 15.00 in the 09:40 bar while tradekit
    is down. The stop resting at the venue (40 % below 30.00: 18.00) fills at the gap's open, 15.00, with nobody
    watching; the restart at 10:00 finds the fill, the strategy is flat and the day goes on (no second sell)."""
    collapse = [("09:15", 28.0, 2_000_000), ("09:30", 30.0, 1_980_000), ("09:35", 33.5, 1_980_000),
                ("09:40", 15.0, 1_980_000)]
    write_market_day(tmp_path, collapse)
    settings = {**SETTINGS, "broker_stop_pct": 40}
    with pytest.raises(Crash):
        run_day(tmp_path, crash_at=_ist("09:35"), settings=settings)  # dies asking for the 09:35-09:40 candle
    lines, store = run_day(tmp_path, clock_start=_ist("10:00"), settings=settings)
    try:
        assert trades(store) == [("STOP", "09:41", "30.00", "15.00")]
        assert store.query("SELECT side, quantity, status FROM orders WHERE order_type = 'STOP_MARKET'") == [("SELL", 75, "FILLED")]
        assert store.query("SELECT count(*) FROM orders WHERE side = 'SELL'") == [(1,)]
        assert any(line.startswith("2025-12-09 10:00:00") and "exit filled: SELL 75 NIFTY 25900 PUT @ 15.00 STOP" in line
                   for line in lines)  # learnt at the restart, not watched at 09:41
        assert store.query("SELECT count(*) FROM positions WHERE quantity <> 0") == [(0,)]
    finally:
        store.close()


def test_a_broker_stop_inside_the_strategys_own_stop_is_refused():
    from tradekit.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^strategies\.oi-momentum\.broker_stop_pct: must be wider than initial_stop_pct"):
        factory({"broker_stop_pct": 20})


def test_engine_kill_mid_trade_and_restart_gives_the_same_day(market_root: Path, tmp_path: Path):
    with pytest.raises(Crash):
        run_day(market_root, crash_at=_ist("09:40"))  # long since 09:35, peak 33.50 seen
    lines, store = run_day(market_root, clock_start=_ist("09:44"))
    try:
        assert trades(store) == EXPECTED
        assert any("resumed 2025-12-09: direction PUT, strike 25900, entries today 1, in NIFTY 25900 PUT entry 30.00" in l
                   for l in lines)
    finally:
        store.close()


def test_cli_tradekit_run_paper_day_from_the_data_directory(market_root: Path, tmp_path: Path):
    """``tradekit run --broker paper --strategy oi-momentum`` as a user types it, config from tradekit.toml."""
    import json
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    (home / "tradekit.toml").write_text("[strategies.oi-momentum]\nmax_entries_per_day = 3\n")
    tradekit = Path(sys.executable).with_name("tradekit")
    base = [str(tradekit), "--home", str(home)]
    run = subprocess.run([*base, "run", "--broker", "paper", "--strategy", "oi-momentum", "--data", str(market_root)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "max call OI 35,123,625 @ 26000, max put OI 17,592,275 @ 26000 -> PUT" in run.stdout
    assert "3 trades closed" in run.stdout
    listed = subprocess.run([*base, "trades", "--json"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    reasons = [row["exit_reason"] for row in json.loads(listed.stdout)]
    assert reasons == ["TRAILING_STOP", "OI_STOP", "END_OF_DAY"]


def test_cli_bad_strategy_config_names_the_key(tmp_path: Path):
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    (home / "tradekit.toml").write_text("[strategies.oi-momentum]\ntrail_pct = 120\n")
    tradekit = Path(sys.executable).with_name("tradekit")
    run = subprocess.run([str(tradekit), "--home", str(home), "run", "--broker", "paper", "--strategy", "oi-momentum"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "strategies.oi-momentum.trail_pct: must be below 100, got 120" in run.stderr
