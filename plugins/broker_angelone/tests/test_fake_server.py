"""The fake itself: the CLI entry, loopback only, the scrip master format, serving another price source."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import requests
from tradekit.clock import SimClock
from tradekit.data import MarketDay, Series, load_day
from tradekit.model import Instrument, InstrumentKind, OptionRight
from tradekit.ports import BrokerContext
from tradekit.testing.market import write_day

from tradekit_angelone.broker import AngelOneBroker
from tradekit_angelone.fake import FakeSmartAPI, MarketDaySource, SyntheticNiftyDay
from tradekit_angelone.fake.market import IST


def test_fake_refuses_to_bind_beyond_loopback(source) -> None:
    with pytest.raises(ValueError, match="only binds to loopback"):
        FakeSmartAPI(source, host="0.0.0.0")


def test_scrip_master_rows_are_strings_with_paise_scaled_strike_and_tick(fake) -> None:
    rows = requests.get(fake.scrip_master_url, timeout=5).json()
    option = next(row for row in rows if row["instrumenttype"] == "OPTIDX")
    assert set(option) == {"token", "symbol", "name", "expiry", "strike", "lotsize", "instrumenttype", "exch_seg", "tick_size"}
    assert all(isinstance(value, str) for value in option.values())
    assert option["tick_size"] == "5.000000"
    assert option["strike"].endswith("00.000000") and option["expiry"] == "24NOV2026"


def test_synthetic_day_is_deterministic_per_seed() -> None:
    day = date(2026, 11, 23)
    first, again, other = SyntheticNiftyDay(day, seed=3), SyntheticNiftyDay(day, seed=3), SyntheticNiftyDay(day, seed=4)
    token = first.listings()[5].token
    assert first.series(token).close == again.series(token).close
    assert first.series(token).close != other.series(token).close
    assert len(first.series(token).close) == 375  # 09:15 to 15:30 in minutes


def test_market_day_source_serves_loaded_series_through_the_real_client(tmp_path: Path) -> None:
    day = date(2026, 11, 23)
    starts = [datetime.combine(day, time(9, 15), tzinfo=IST).timestamp() + 60 * k for k in range(10)]
    ts = (np.array(starts) * 1e9).astype("int64")
    closes = np.linspace(100.0, 110.0, 10)
    option = Instrument(
        symbol="NIFTY25N2424000CE", exchange="NFO", kind=InstrumentKind.OPTION, lot_size=75, underlying="NIFTY",
        expiry=date(2026, 11, 24), strike=Decimal("24000"), right=OptionRight.CALL,
    )
    series = Series(option, ts, closes - 1, closes + 1, closes - 2, closes, np.full(10, 750), np.arange(10) * 75 + 7500)
    market_day = MarketDay(
        market="NSE", day=day, timezone="Asia/Kolkata", bar_seconds=60, path=None, manifest={},
        series={option.id: series}, issues=(), scanner=None,
    )
    source = MarketDaySource(market_day)
    assert source.day == day
    start = datetime.combine(day, time(9, 20, 30), tzinfo=IST)
    with FakeSmartAPI(source, start=start) as fake:
        context = BrokerContext(
            name="angelone", settings={"root": fake.root, "scrip_master_url": fake.scrip_master_url},
            home=tmp_path, clock=SimClock(start),
            env={"ANGELONE_API_KEY": fake.api_key, "ANGELONE_CLIENT_CODE": fake.client_code,
                 "ANGELONE_PIN": fake.pin, "ANGELONE_TOTP_SECRET": fake.totp_secret},
        )
        broker = AngelOneBroker(context)
        broker.login()
        broker.connect()
        [instrument] = broker.instruments()
        assert instrument.symbol == "NIFTY24NOV2624000CE" and instrument.right is OptionRight.CALL
        quote = broker.quotes([instrument.id])[instrument.id]
        assert quote.last == pytest.approx(closes[5]) and quote.oi == 5 * 75 + 7500


def test_market_day_written_and_loaded_by_tradekit_data_is_served(tmp_path: Path) -> None:
    day = date(2026, 11, 23)
    closes = [24000.0 + 5 * k for k in range(30)]
    directory = write_day(tmp_path / "data", "NSE", day, {"NIFTY 50": closes}, kind="INDEX")
    source = MarketDaySource(load_day(directory))
    [listing] = source.listings()
    assert (listing.symbol, listing.exchange, listing.instrumenttype) == ("Nifty 50", "NSE", "AMXIDX")
    start = datetime.combine(day, time(9, 25), tzinfo=IST)
    with FakeSmartAPI(source, start=start) as fake:
        answer = requests.post(
            f"{fake.url}/rest/secure/angelbroking/market/v1/quote",
            json={"mode": "FULL", "exchangeTokens": {"NSE": [listing.token]}},
            headers={"X-PrivateKey": fake.api_key, "Authorization": "Bearer " + fake.issue_tokens()["jwtToken"]},
            timeout=5,
        ).json()
    assert answer["status"] is True
    assert answer["data"]["fetched"][0]["ltp"] == closes[10]


def _start_fake_server(cwd: Path, *options: str) -> tuple[subprocess.Popen[str], list[str]]:
    """`tradekit angelone fake-server` in a child process, and the lines it printed up to its last export."""
    command = f"from tradekit_angelone.cli import build_app; build_app()(['fake-server', '--day', '2026-11-23', *{list(options)!r}])"
    process = subprocess.Popen([sys.executable, "-c", command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.strip())
        if line.startswith("export ANGELONE_API_KEY"):
            break
    return process, lines


def test_fake_server_command_serves_until_stopped(tmp_path: Path) -> None:
    process, lines = _start_fake_server(tmp_path, "--fixed-clock")
    try:
        scrip = next(line for line in lines if "SCRIP_MASTER_URL=" in line).split("=", 1)[1]
        assert scrip.startswith("http://127.0.0.1:")
        rows = requests.get(scrip, timeout=5).json()
        assert len(rows) == 85
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert list(tmp_path.iterdir()) == []  # the fake writes nothing either


def test_fake_server_command_follows_a_clock_file(tmp_path: Path) -> None:
    from datetime import datetime

    from tradekit.clock import FileClock

    clock_file = tmp_path / "clock"
    process, lines = _start_fake_server(tmp_path, "--clock-file", str(clock_file))
    try:
        assert f"export TRADEKIT_SIM_CLOCK={clock_file}" in lines
        root = next(line for line in lines if "ANGELONE__ROOT=" in line).split("=", 1)[1]
        clock = FileClock(clock_file)  # created by the fake at 09:00 of --day
        assert clock.now() == datetime.fromisoformat("2026-11-23T09:00:00+05:30")
        clock.set(datetime.fromisoformat("2026-11-23T11:05:00+05:30"))  # e.g. a tradekit run sleeping on it
        state = requests.get(f"{root}/_fake/state", timeout=5).json()["data"]
        assert datetime.fromisoformat(state["now"]) == datetime.fromisoformat("2026-11-23T11:05:00+05:30")
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert [path.name for path in tmp_path.iterdir()] == ["clock"]


def test_fake_follows_a_shared_clock_and_fills_a_stop_at_the_bar_that_crossed_it(source) -> None:
    from datetime import datetime, timedelta

    from tradekit.clock import SimClock

    from tradekit_angelone.fake import FakeSmartAPI
    from tradekit_angelone.fake.market import IST

    start = datetime(2026, 11, 23, 9, 20, tzinfo=IST)
    clock = SimClock(start)
    listing = next(item for item in source.listings() if item.right == "CE" and item.strike == 24000.0)
    series = source.series(listing.token)
    i = series.index_at(start)
    trigger = round(min(series.low[i + 1 : i + 120]) + 0.05, 2)  # reached within the next two hours, not now
    crossing = next(j for j in range(i + 1, len(series.starts)) if series.low[j] <= trigger)
    with FakeSmartAPI(source, clock=clock) as fake:
        assert fake.book.now == start
        order = fake.book.place({
            "variety": "STOPLOSS", "tradingsymbol": listing.symbol, "symboltoken": listing.token, "transactiontype": "SELL",
            "exchange": "NFO", "ordertype": "STOPLOSS_MARKET", "producttype": "CARRYFORWARD", "duration": "DAY",
            "quantity": "75", "triggerprice": str(trigger),
        })
        assert order.status == "trigger pending"
        clock.advance(timedelta(hours=3).total_seconds())
        requests.get(fake.scrip_master_url, timeout=5)  # any request brings the fake to the clock's time
        assert fake.book.now == clock.now()
    gapped = series.open[crossing] <= trigger
    [trade] = fake.book.trade_rows()
    assert order.status == "complete"
    assert float(trade["fillprice"]) == (series.open[crossing] if gapped else trigger)
    assert trade["filltime"] == series.starts[crossing].strftime("%H:%M:%S")
