from __future__ import annotations

import queue
import struct
from datetime import datetime, timedelta

from kiteconnect import KiteTicker
from tradekit.model import Quote

from tradekit_zerodha.fake import FakeKite
from tradekit_zerodha.fake.market import NIFTY_INDEX_TOKEN
from tradekit_zerodha.fake.ticks import tick_frame, tick_packet
from tradekit_zerodha.parsing import IST

SYMBOL = "NIFTY25O0725100CE"


def test_binary_frames_decode_with_the_official_parser(fake: FakeKite) -> None:
    instrument = next(i for i in fake.market.instruments() if i.tradingsymbol == SYMBOL)
    snap = fake.market.snapshot(SYMBOL, fake.now())
    index = fake.market.snapshot("NIFTY 50", fake.now())
    assert snap is not None and index is not None
    frame = tick_frame([
        tick_packet(instrument.instrument_token, "full", snap),
        tick_packet(instrument.instrument_token, "ltp", snap),
        tick_packet(NIFTY_INDEX_TOKEN, "full", index),
    ])
    assert struct.unpack(">H", frame[:2])[0] == 3
    ticks = KiteTicker("key", "token")._parse_binary(frame)
    full, ltp, spot = ticks
    assert full["mode"] == "full" and full["oi"] == snap.oi and full["volume_traded"] == snap.volume
    assert full["last_price"] == snap.last and len(full["depth"]["buy"]) == 5
    assert full["exchange_timestamp"].astimezone(IST) == fake.now()
    assert ltp == {"tradable": True, "mode": "ltp", "instrument_token": instrument.instrument_token,
                   "last_price": snap.last}
    assert spot["tradable"] is False and spot["mode"] == "full" and spot["last_price"] == round(index.last, 2)


def test_stream_delivers_full_mode_quotes_and_reconnects_after_drop(broker, fake: FakeKite, clock) -> None:
    received: queue.Queue[Quote] = queue.Queue()
    instrument_id = f"NFO:{SYMBOL}"
    stream = broker.stream([instrument_id], received.put)
    try:
        assert fake.wait_for_subscribers(1, mode="full")
        assert fake.push_ticks() == 1
        first = received.get(timeout=10)
        expected = fake.market.snapshot(SYMBOL, fake.now())
        assert expected is not None
        assert first.instrument_id == instrument_id and first.last == expected.last
        assert first.oi == expected.oi > 0 and first.bid is not None
        assert first.ts == fake.now().replace(microsecond=0)  # Kite's exchange timestamp has whole seconds

        clock.advance(60)
        assert fake.drop_streams() == 1
        assert fake.wait_for_connections(2)
        assert fake.wait_for_subscribers(1, mode="full")
        assert fake.push_ticks() == 1
        second = received.get(timeout=10)
        assert second.ts == first.ts + timedelta(seconds=60)
        assert stream.connects == 2
    finally:
        stream.close()


def test_tick_timestamp_is_india_time(fake: FakeKite) -> None:
    from tradekit_zerodha.parsing import parse_tick

    tick = {"last_price": 10.5, "exchange_timestamp": datetime.fromtimestamp(int(fake.now().timestamp())),
            "oi": 750, "volume_traded": 1500}
    quote = parse_tick(tick, "NFO:X")
    assert quote is not None and quote.ts == fake.now().replace(microsecond=0) and quote.oi == 750 and quote.volume == 1500


def test_stream_configured_off_opens_no_ticker(make_broker, fake: FakeKite, logs: list[str]) -> None:
    broker = make_broker(stream="false")
    broker.connect()
    received: list[object] = []
    handle = broker.stream([f"NFO:{SYMBOL}"], received.append)
    fake.push_ticks()
    handle.close()
    assert fake.connections_accepted == 0 and received == []
    assert any("streaming is off" in line for line in logs)


def test_fake_rest_with_kites_real_ticker_root_never_streams(make_broker) -> None:
    # asked, not called: a regression must not reach the real ticker from a test
    assert "ticker_root" in (make_broker(ticker_root="wss://ws.kite.trade").stream_refusal() or "")
    assert make_broker().stream_refusal() is None  # the fake's own ticker
    assert "stream = false" in (make_broker(stream=False).stream_refusal() or "")
