"""A fake Kite Connect server for tests and for trying tradekit without an account."""

from tradekit_zerodha.fake.faults import Faults
from tradekit_zerodha.fake.market import FakeInstrument, MarketSource, Snapshot, SyntheticNiftyDay
from tradekit_zerodha.fake.app import KiteApp
from tradekit_zerodha.fake.server import FakeKite

__all__ = ["FakeInstrument", "FakeKite", "Faults", "KiteApp", "MarketSource", "Snapshot", "SyntheticNiftyDay"]
