from tradekit.plugins.manager import PluginManager
from tradekit.ports.strategy import Strategy
from tradekit_oi_momentum import OiMomentumStrategy


def test_plugin_installed_entry_point_registers_oi_momentum():
    manager = PluginManager()
    registration = manager.strategy("oi-momentum")
    assert registration.plugin == "oi-momentum"
    strategy = registration.factory({"lots": 2})
    assert isinstance(strategy, OiMomentumStrategy)
    assert isinstance(strategy, Strategy)
    assert strategy.name == "oi-momentum" and strategy.market == "NSE"
    assert strategy.config.lots == 2
