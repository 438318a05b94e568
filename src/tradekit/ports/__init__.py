"""Ports: the protocols plugins implement."""

from tradekit.ports.broker import Broker
from tradekit.ports.context import BrokerContext
from tradekit.ports.strategy import (
    Decision,
    PositionView,
    SessionInfo,
    State,
    Strategy,
    StrategyContext,
    Subscription,
)

__all__ = [
    "Broker",
    "BrokerContext",
    "Decision",
    "PositionView",
    "SessionInfo",
    "State",
    "Strategy",
    "StrategyContext",
    "Subscription",
]
