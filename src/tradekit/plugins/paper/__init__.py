"""Built-in plugin ``paper``: a paper venue with its own persisted account (see ``venue.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradekit.errors import ConfigError
from tradekit.plugins.hookspecs import hookimpl
from tradekit.plugins.paper.costs import cost_model
from tradekit.plugins.paper.venue import PaperSettings, PaperVenue
from tradekit.ports.context import BrokerContext

CURRENCY = {"NSE": "INR", "NYSE": "USD"}
DEFAULT_COSTS = {"NSE": "india_fo", "NYSE": "us_equity"}
DEFAULT_ACCOUNT = {"NSE": "default", "NYSE": "us"}


def paper_settings(section: Mapping[str, Any], market: str = "NSE") -> PaperSettings:
    """Validated ``[paper]`` settings; currency and cost preset follow the market unless set."""
    # one paper account per currency: NSE days trade "default" (INR), NYSE days "us" (USD), unless configured
    account = str(section.get("account") or DEFAULT_ACCOUNT.get(market, "default"))
    if not account.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"paper.account: use letters, digits, - and _ only, got {account!r}")
    try:
        capital = Decimal(str(section.get("capital", 100000)))
        slippage = Decimal(str(section.get("slippage_bps", 0)))
    except Exception:
        raise ConfigError("paper.capital / paper.slippage_bps: not a number") from None
    if slippage < 0:
        raise ConfigError(f"paper.slippage_bps: must be >= 0, got {slippage}")
    costs = section.get("costs") or DEFAULT_COSTS.get(market, "none")
    return PaperSettings(
        account=account,
        capital=capital,
        currency=CURRENCY.get(market, "INR"),
        slippage_bps=slippage,
        costs=cost_model(costs if not isinstance(costs, Mapping) else {"preset": DEFAULT_COSTS.get(market, "none"), **costs}),
    )


def venue_path(home: Path, account: str) -> Path:
    return home / "paper" / f"{account}.json"


def create_paper_broker(context: BrokerContext) -> PaperVenue:
    if context.market is None:
        raise ConfigError("the paper broker needs market data (a replayed day or a live broker's quotes)")
    market = getattr(context.market, "market", "NSE")
    settings = paper_settings(context.settings, market)
    return PaperVenue(venue_path(context.home, settings.account), settings, context.market, context.clock)


@hookimpl
def register_brokers(register: Any) -> None:
    register("paper", create_paper_broker)
