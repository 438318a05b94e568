from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tradekit.clock import SimClock
from tradekit.model import InstrumentKind, OptionRight
from tradekit.ports import Broker

from tradekit_zerodha.fake import FakeKite, SyntheticNiftyDay
from tradekit_zerodha.parsing import IST

from .conftest import DAY, requests_to


def test_broker_implements_the_port(broker) -> None:
    assert isinstance(broker, Broker)
    assert broker.account == "zerodha:AB1234"


def test_instruments_dump_cached_per_day(broker, make_broker, fake: FakeKite, tmp_path: Path) -> None:
    instruments = broker.instruments()
    assert any(i.kind is InstrumentKind.INDEX and i.id == "NSE:NIFTY 50" for i in instruments)
    options = [i for i in instruments if i.kind is InstrumentKind.OPTION]
    assert len(options) == len([i for i in fake.market.instruments() if i.segment == "NFO-OPT"])
    fetched = len([p for _, p, _ in fake.requests if p.startswith("/instruments/")])
    again = make_broker()  # a new process on the same home, same day: read from the cache
    assert {i.id for i in again.instruments()} == {i.id for i in instruments}
    assert len([p for _, p, _ in fake.requests if p.startswith("/instruments/")]) == fetched
    assert list(tmp_path.glob("brokers/zerodha/instruments-2025-10-06.json"))


def test_option_chain_nearest_weekly_expiry_with_lot_and_tick(broker) -> None:
    chain = broker.option_chain()
    assert chain.underlying == "NIFTY"
    assert chain.expiry.isoformat() == "2025-10-07"
    assert chain.lot_size == 75 and chain.tick_size == Decimal("0.05")
    strikes = chain.strikes
    assert all(b - a == 50 for a, b in zip(strikes, strikes[1:]))
    call = chain.option(Decimal(25150), OptionRight.CALL)
    assert call is not None and call.symbol == "NIFTY25O0725150CE" and call.exchange == "NFO"
    put = chain.option(Decimal(25150), OptionRight.PUT)
    assert put is not None and put.symbol == "NIFTY25O0725150PE"


def test_quotes_have_oi_volume_and_skip_unknown(broker, fake: FakeKite) -> None:
    chain = broker.option_chain()
    ids = [chain.calls[s].id for s in chain.strikes[:5]] + ["NFO:NOSUCHSYMBOL", "NSE:NIFTY 50"]
    quotes = broker.quotes(ids)
    assert "NFO:NOSUCHSYMBOL" not in quotes
    assert set(quotes) == set(ids) - {"NFO:NOSUCHSYMBOL"}
    first = quotes[ids[0]]
    expected = fake.market.snapshot(ids[0].split(":")[1], fake.now())
    assert expected is not None
    assert first.last == expected.last and first.oi == expected.oi > 0 and first.volume == expected.volume > 0
    assert first.ts == DAY and first.bid is not None and first.ask is not None and first.bid < first.ask


def test_quotes_over_500_split_into_rate_limited_batches(tmp_path: Path) -> None:
    clock = SimClock(DAY)
    market = SyntheticNiftyDay(DAY.date(), strikes_each_side=60)  # 726 options
    with FakeKite(market, clock=clock, enforce_rate_limits=True) as fake:
        from tradekit.ports import BrokerContext

        from tradekit_zerodha.broker import ZerodhaBroker

        context = BrokerContext(
            name="zerodha", settings={"root": fake.root, "timeout_seconds": 30}, home=tmp_path, clock=clock,
            env={"KITE_API_KEY": fake.api_key, "KITE_ACCESS_TOKEN": fake.issue_access_token()},
        )
        broker = ZerodhaBroker(context)
        ids = [f"NFO:{i.tradingsymbol}" for i in market.instruments() if i.segment == "NFO-OPT"][:620]
        started = clock.now()
        quotes = broker.quotes(ids)
        batches = requests_to(fake, "GET", "/quote")
        assert [len(query["i"]) for query in batches] == [500, 120]
        assert len(quotes) == 620
        # the fake enforces 1 quote call per second: the limiter waited on the simulated clock instead of a 429
        assert clock.now() - started >= timedelta(seconds=1)
        assert not broker.client.retries


def test_historical_candles_with_open_interest(broker, clock: SimClock) -> None:
    chain = broker.option_chain()
    instrument = chain.puts[chain.strikes[len(chain.strikes) // 2]]
    start = datetime(2025, 10, 6, 9, 15, tzinfo=IST)
    candles = broker.historical(instrument.id, start, start + timedelta(minutes=45), 300)
    assert [c.ts for c in candles] == [start + timedelta(minutes=5 * n) for n in range(9)]
    assert all(c.oi > 0 and c.low <= c.open <= c.high and c.low <= c.close <= c.high for c in candles)
    assert all(c.interval_seconds == 300 and c.instrument_id == instrument.id for c in candles)
