"""Instruments: what can be traded or watched.

An instrument is identified by ``exchange:symbol`` (``NFO:NIFTY25D0925900PE``,
``SMART:TSLA``). Broker codes (CE/PE, lowercase exchanges) are translated at
the broker edge; inside tradekit an option's right is ``CALL`` or ``PUT``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from tradekit.model.money import snap_to_tick


class InstrumentKind(StrEnum):
    INDEX = "INDEX"
    EQUITY = "EQUITY"
    FUTURE = "FUTURE"
    OPTION = "OPTION"


class OptionRight(StrEnum):
    CALL = "CALL"
    PUT = "PUT"


InstrumentId = str
"""``EXCHANGE:SYMBOL``; build with ``instrument_id()``."""


def instrument_id(exchange: str, symbol: str) -> InstrumentId:
    return f"{exchange.upper()}:{symbol}"


def split_instrument_id(value: InstrumentId) -> tuple[str, str]:
    """``NFO:NIFTY25D0925900PE`` -> (``NFO``, ``NIFTY25D0925900PE``)."""
    exchange, sep, symbol = value.partition(":")
    if not sep or not exchange or not symbol:
        raise ValueError(f"instrument id must be EXCHANGE:SYMBOL, got {value!r}")
    return exchange, symbol


@dataclass(frozen=True, slots=True)
class Instrument:
    symbol: str
    exchange: str
    kind: InstrumentKind
    currency: str = "INR"
    lot_size: int = 1
    tick_size: Decimal = Decimal("0.05")
    underlying: str | None = None
    expiry: date | None = None
    strike: Decimal | None = None
    right: OptionRight | None = None
    sector: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.kind is InstrumentKind.OPTION and (
            self.expiry is None or self.strike is None or self.right is None or not self.underlying
        ):
            raise ValueError(f"option {self.symbol} needs underlying, expiry, strike and right")
        if self.lot_size < 1:
            raise ValueError(f"{self.symbol}: lot size must be >= 1, got {self.lot_size}")

    @property
    def id(self) -> InstrumentId:
        return instrument_id(self.exchange, self.symbol)

    @property
    def tradable(self) -> bool:
        return self.kind is not InstrumentKind.INDEX

    def snap(self, price: Decimal) -> Decimal:
        """The price snapped to this instrument's tick size."""
        return snap_to_tick(price, self.tick_size)

    def describe(self) -> str:
        """A label for people: ``NIFTY 25900 PUT 2025-12-09`` or the symbol."""
        if self.kind is InstrumentKind.OPTION:
            strike = self.strike.normalize() if self.strike is not None else ""
            return f"{self.underlying} {strike:f} {self.right} {self.expiry}"
        return self.symbol

    def to_dict(self) -> dict[str, object]:
        return {
            "symbol": self.symbol,
            "exchange": self.exchange,
            "kind": self.kind.value,
            "currency": self.currency,
            "lot_size": self.lot_size,
            "tick_size": str(self.tick_size),
            "underlying": self.underlying,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "strike": str(self.strike) if self.strike is not None else None,
            "right": self.right.value if self.right else None,
            "sector": self.sector,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Instrument:
        expiry = data.get("expiry")
        strike = data.get("strike")
        right = data.get("right")
        return cls(
            symbol=str(data["symbol"]),
            exchange=str(data["exchange"]),
            kind=InstrumentKind(str(data["kind"])),
            currency=str(data.get("currency") or "INR"),
            lot_size=int(data.get("lot_size") or 1),  # type: ignore[arg-type]
            tick_size=Decimal(str(data.get("tick_size") or "0.05")),
            underlying=str(data["underlying"]) if data.get("underlying") else None,
            expiry=date.fromisoformat(str(expiry)) if expiry else None,
            strike=Decimal(str(strike)) if strike not in (None, "") else None,
            right=OptionRight(str(right)) if right else None,
            sector=str(data["sector"]) if data.get("sector") else None,
        )


@dataclass(frozen=True)
class ExpirySeries:
    """The options of one underlying at one expiry, strike -> instrument, per right."""

    underlying: str
    expiry: date
    calls: dict[Decimal, Instrument]
    puts: dict[Decimal, Instrument]


def nearest_expiry(instruments: Iterable[Instrument], underlying: str, day: date,
                   strike_step: Decimal | None = None) -> ExpirySeries | None:
    """The options of ``underlying`` at the first expiry on or after ``day`` (None when there are none);
    with ``strike_step``, only strikes on that grid. A broker's chain and a strategy's chain are the same
    selection, so it lives here once."""
    options = [
        i for i in instruments
        if i.kind is InstrumentKind.OPTION and i.underlying == underlying and i.expiry is not None and i.expiry >= day
        and i.strike is not None and (strike_step is None or i.strike % strike_step == 0)
    ]  # fmt: skip
    if not options:
        return None
    expiry = min(i.expiry for i in options if i.expiry is not None)
    calls: dict[Decimal, Instrument] = {}
    puts: dict[Decimal, Instrument] = {}
    for instrument in options:
        if instrument.expiry == expiry and instrument.strike is not None:
            (calls if instrument.right is OptionRight.CALL else puts)[instrument.strike] = instrument
    return ExpirySeries(underlying, expiry, calls, puts)
