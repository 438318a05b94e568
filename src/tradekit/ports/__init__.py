"""Ports: the protocols plugins implement."""

from tradekit.ports.broker import Broker
from tradekit.ports.context import BrokerContext

__all__ = ["Broker", "BrokerContext"]
