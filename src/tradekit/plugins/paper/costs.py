"""Transaction cost models with presets a trader recognises.

``india_fo`` follows a discount broker's schedule for NSE index options:
brokerage per executed order, STT on the sell side, the exchange
transaction charge, the SEBI fee, stamp duty on the buy side and GST on
brokerage plus charges. ``us_equity`` is a per-share commission with a
minimum and a cap. Every number is configurable under ``[paper.costs]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Any

from tradekit.errors import ConfigError
from tradekit.model.money import round_money
from tradekit.model.orders import Side

D = Decimal


@dataclass(frozen=True)
class CostModel:
    name: str = "none"
    brokerage_per_order: Decimal = D(0)
    brokerage_pct: Decimal = D(0)  # of turnover; the smaller of the two applies when both are set
    per_share: Decimal = D(0)
    minimum_per_order: Decimal = D(0)
    maximum_pct: Decimal = D(0)  # cap as % of turnover (0: none)
    stt_sell_pct: Decimal = D(0)
    exchange_pct: Decimal = D(0)
    sebi_per_crore: Decimal = D(0)
    stamp_buy_pct: Decimal = D(0)
    gst_pct: Decimal = D(0)

    def costs(self, side: Side, quantity: int, price: Decimal) -> Decimal:
        """Total charges for one execution, rounded to paise/cents."""
        turnover = price * quantity
        brokerage = self.brokerage_per_order
        if self.brokerage_pct:
            pct = turnover * self.brokerage_pct / 100
            brokerage = min(brokerage, pct) if brokerage else pct
        if self.per_share:
            brokerage += self.per_share * quantity
        if self.minimum_per_order and brokerage < self.minimum_per_order:
            brokerage = self.minimum_per_order
        if self.maximum_pct:
            brokerage = min(brokerage, turnover * self.maximum_pct / 100)
        stt = turnover * self.stt_sell_pct / 100 if side is Side.SELL else D(0)
        exchange = turnover * self.exchange_pct / 100
        sebi = turnover * self.sebi_per_crore / D(10_000_000)
        stamp = turnover * self.stamp_buy_pct / 100 if side is Side.BUY else D(0)
        gst = (brokerage + exchange + sebi) * self.gst_pct / 100
        return round_money(brokerage + stt + exchange + sebi + stamp + gst)


PRESETS: dict[str, CostModel] = {
    "none": CostModel(),
    "india_fo": CostModel(
        name="india_fo",
        brokerage_per_order=D(20),
        stt_sell_pct=D("0.1"),
        exchange_pct=D("0.03503"),
        sebi_per_crore=D(10),
        stamp_buy_pct=D("0.003"),
        gst_pct=D(18),
    ),
    "us_equity": CostModel(
        name="us_equity", per_share=D("0.005"), minimum_per_order=D(1), maximum_pct=D(1)
    ),
}


def cost_model(settings: Mapping[str, Any] | str | None, default: str = "none") -> CostModel:
    """A preset by name, or ``{preset = "...", <field> = <override>}``."""
    if settings is None:
        return PRESETS[default]
    if isinstance(settings, str):
        settings = {"preset": settings}
    preset_name = str(settings.get("preset", default))
    if preset_name not in PRESETS:
        raise ConfigError(f"paper.costs.preset: unknown preset {preset_name!r} (known: {', '.join(PRESETS)})")
    model = PRESETS[preset_name]
    names = {f.name for f in fields(CostModel)} - {"name"}
    overrides: dict[str, Decimal] = {}
    for key, value in settings.items():
        if key == "preset":
            continue
        if key not in names:
            raise ConfigError(f"paper.costs.{key}: unknown key (known: preset, {', '.join(sorted(names))})")
        try:
            overrides[key] = D(str(value))
        except Exception:
            raise ConfigError(f"paper.costs.{key}: not a number: {value!r}") from None
    return replace(model, **overrides)
