"""tradekit-oi-momentum: the ``oi-momentum`` strategy for NIFTY weekly options."""

from tradekit_oi_momentum.config import OiMomentumConfig, parse_config
from tradekit_oi_momentum.plugin import factory
from tradekit_oi_momentum.strategy import OiMomentumStrategy

__all__ = ["OiMomentumConfig", "OiMomentumStrategy", "factory", "parse_config"]
