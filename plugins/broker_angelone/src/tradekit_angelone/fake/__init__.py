"""A fake Angel One SmartAPI for tests and dry runs: ``FakeSmartAPI`` on 127.0.0.1."""

from tradekit_angelone.fake.faults import FaultPlan
from tradekit_angelone.fake.market import Listing, MarketDaySource, MinuteSeries, PriceSource, SyntheticNiftyDay
from tradekit_angelone.fake.server import FakeSmartAPI

__all__ = ["FakeSmartAPI", "FaultPlan", "Listing", "MarketDaySource", "MinuteSeries", "PriceSource", "SyntheticNiftyDay"]
