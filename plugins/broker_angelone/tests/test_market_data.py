"""Scrip master cached per day, the NIFTY weekly chain, batched FULL quotes with OI, candles."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from tradekit.model import InstrumentKind, OptionRight

from tradekit_angelone.fake.market import IST

DAY = date(2026, 11, 23)  # the conftest's day

SCRIP = "OpenAPIScripMaster.json"


def test_instruments_are_downloaded_once_per_day_and_cached_on_disk(make_broker, fake, clock) -> None:
    first = make_broker()
    instruments = first.instruments()
    assert len(fake.endpoint_calls(SCRIP)) == 1
    assert len(instruments) == 1 + 2 * 21 * 2  # the index and two expiries of 21 strikes x CE/PE
    second = make_broker()  # a restart the same day reads the cache
    assert {i.id for i in second.instruments()} == {i.id for i in instruments}
    assert len(fake.endpoint_calls(SCRIP)) == 1
    clock.advance(24 * 3600)
    second.instruments()
    assert len(fake.endpoint_calls(SCRIP)) == 2
    caches = sorted(p.name for p in second.context.state_dir.glob("scrip-master-*.json"))
    assert caches == [f"scrip-master-{(DAY + timedelta(days=1)).isoformat()}.json"]


def test_nifty_weekly_chain_is_the_nearest_expiry(broker) -> None:
    chain = broker.option_chain("NIFTY")
    assert {i.expiry for i in chain} == {date(2026, 11, 24)}
    assert len(chain) == 42
    assert [i.strike for i in chain[::2]] == sorted(i.strike for i in chain[::2])
    assert {i.right for i in chain} == {OptionRight.CALL, OptionRight.PUT}
    assert all(i.lot_size == 75 and i.tick_size == Decimal("0.05") for i in chain)
    assert chain[0].symbol == f"NIFTY24NOV26{chain[0].strike}CE"
    index = [i for i in broker.instruments() if i.kind is InstrumentKind.INDEX]
    assert [i.id for i in index] == ["NSE:NIFTY 50"]


def test_quotes_are_full_mode_with_oi_in_batches_of_at_most_50(broker, fake, source) -> None:
    ids = [i.id for i in broker.instruments()]
    quotes = broker.quotes(ids)
    calls = fake.endpoint_calls("quote")
    assert [sum(len(t) for t in call["exchangeTokens"].values()) for call in calls] == [50, 35]
    assert all(call["mode"] == "FULL" for call in calls)
    assert set(quotes) == set(ids)
    listing = next(item for item in source.listings() if item.instrumenttype == "OPTIDX")
    series = source.series(listing.token)
    i = series.index_at(fake.book.now)
    quote = quotes[f"NFO:{listing.symbol}"]
    assert quote.last == series.close[i]
    assert quote.oi == series.oi[i] > 0
    assert quote.volume == sum(series.volume[: i + 1])
    assert quote.bid is not None and quote.ask is not None and quote.bid < quote.last < quote.ask


def test_quote_batch_size_setting_is_respected_and_rate_limited_on_the_sim_clock(make_broker, fake, clock) -> None:
    broker = make_broker(quote_batch_size=20)
    broker.login()
    broker.connect()
    ids = [i.id for i in broker.option_chain("NIFTY")]
    before = clock.now()
    assert len(broker.quotes(ids)) == 42
    assert len(fake.endpoint_calls("quote")) == 3
    assert clock.now() - before >= timedelta(seconds=0.2)  # 10/s: two waits of 0.1 s, slept on the SimClock


def test_unknown_instruments_are_skipped_with_a_log_line(make_broker, fake) -> None:
    log: list[str] = []
    broker = make_broker(log=log)
    broker.login()
    broker.connect()
    good = broker.option_chain("NIFTY")[0].id
    quotes = broker.quotes([good, "NFO:NOPE24NOV2699999CE"])
    assert list(quotes) == [good]
    assert any("NOPE24NOV2699999CE" in line for line in log)


def test_historical_five_minute_candles_aggregate_the_fake_minutes(broker, fake, source) -> None:
    fake.set_time(datetime.combine(DAY, time(10, 0), tzinfo=IST))
    option = broker.option_chain("NIFTY")[10]
    start = datetime.combine(DAY, time(9, 15), tzinfo=IST)
    candles = broker.historical(option.id, start, start + timedelta(minutes=30), 300)
    assert [c.ts for c in candles] == [start + timedelta(minutes=5 * k) for k in range(6)]
    listing = next(item for item in source.listings() if item.symbol == option.symbol)
    series = source.series(listing.token)
    assert candles[1].open == series.open[5] and candles[1].close == series.close[9]
    assert candles[1].high == max(series.high[5:10])
