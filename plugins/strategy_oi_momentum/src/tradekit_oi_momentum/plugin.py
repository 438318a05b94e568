"""Registers the ``oi-momentum`` strategy with tradekit (entry point group ``tradekit``)."""

from __future__ import annotations

from collections.abc import Mapping

from tradekit.plugins.hookspecs import Register, hookimpl
from tradekit_oi_momentum.config import parse_config
from tradekit_oi_momentum.strategy import NAME, OiMomentumStrategy


def factory(settings: Mapping[str, object] | None = None) -> OiMomentumStrategy:
    """Build the strategy from its ``[strategies.oi-momentum]`` section; raises ConfigError naming a bad key."""
    return OiMomentumStrategy(parse_config(settings))


@hookimpl
def register_strategies(register: Register) -> None:
    register(NAME, factory)
