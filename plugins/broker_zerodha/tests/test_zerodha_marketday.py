from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from tradekit.clock import SimClock
from tradekit.data.loader import load_day
from tradekit.ports import BrokerContext
from tradekit.testing.market import write_day

from tradekit_zerodha.broker import ZerodhaBroker
from tradekit_zerodha.fake import FakeKite
from tradekit_zerodha.fake.marketday import market_day_source
from tradekit_zerodha.parsing import IST


def test_fake_serves_a_loaded_market_day(tmp_path: Path) -> None:
    day = date(2025, 10, 6)
    closes = [25000.0 + 5 * n for n in range(30)]
    directory = write_day(tmp_path / "data", "NSE", day, {"NIFTY 50": closes}, kind="INDEX")
    clock = SimClock(datetime(2025, 10, 6, 9, 25, 30, tzinfo=IST))
    with FakeKite(market_day_source(load_day(directory)), clock=clock) as fake:
        context = BrokerContext(name="zerodha", settings={"root": fake.root, "segments": ""}, home=tmp_path,
                                clock=clock, env={"KITE_API_KEY": fake.api_key,
                                                  "KITE_ACCESS_TOKEN": fake.issue_access_token()})
        broker = ZerodhaBroker(context)
        assert [i.id for i in broker.instruments()] == ["NSE:NIFTY 50"]
        quote = broker.quotes(["NSE:NIFTY 50"])["NSE:NIFTY 50"]
        assert quote.last == closes[9]  # the 09:24 bar's close: the 09:25 bar is still forming at 09:25:30
        start = datetime(2025, 10, 6, 9, 15, tzinfo=IST)
        candles = broker.historical("NSE:NIFTY 50", start, start + timedelta(minutes=10), 300)
        assert [c.close for c in candles] == [closes[4], closes[9]]
        assert candles[0].open == closes[0] and candles[1].high == closes[9]
