"""The option chain the strategy trades, and the two strike choices it makes.

Two different strikes matter and the field reports show they get confused:
the *reference* strikes (largest call OI, largest put OI) only decide the
day's direction; the *trading* strike is the nearest out-of-the-money strike
to spot and is what gets bought. Labels use CALL/PUT; CE/PE never appear here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tradekit.model import Instrument, InstrumentId, InstrumentKind, OptionRight
from tradekit.model.instruments import nearest_expiry


@dataclass(frozen=True)
class Chain:
    """Options of one underlying and one expiry: strike -> instrument id, per right."""

    underlying: str
    expiry: date
    calls: Mapping[Decimal, InstrumentId]
    puts: Mapping[Decimal, InstrumentId]
    members: frozenset[InstrumentId] = frozenset()

    def side(self, right: OptionRight) -> Mapping[Decimal, InstrumentId]:
        return self.calls if right is OptionRight.CALL else self.puts

    def ids(self) -> tuple[InstrumentId, ...]:
        """Every contract, sorted (computed once: the engine asks for the subscription every step)."""
        cached: tuple[InstrumentId, ...] | None = self.__dict__.get("_ids")
        if cached is None:
            cached = tuple(sorted({*self.calls.values(), *self.puts.values()}))
            object.__setattr__(self, "_ids", cached)
        return cached

    def contains(self, instrument: InstrumentId) -> bool:
        return instrument in self.members


def build_chain(
    instruments: Mapping[InstrumentId, Instrument], underlying: str, day: date, strike_step: Decimal
) -> Chain | None:
    """The nearest expiry on or after ``day``; only strikes on the ``strike_step`` grid.

    Returns None when the instrument list has no live option of the underlying.
    """
    series = nearest_expiry(instruments.values(), underlying, day, strike_step)
    if series is None:
        return None
    expiry = series.expiry
    calls = {strike: instrument.id for strike, instrument in series.calls.items()}
    puts = {strike: instrument.id for strike, instrument in series.puts.items()}
    members = frozenset(calls.values()) | frozenset(puts.values())
    return Chain(underlying=underlying, expiry=expiry, calls=calls, puts=puts, members=members)


def trading_strike(strikes: Iterable[Decimal], right: OptionRight, spot: float) -> Decimal | None:
    """Nearest OTM: CALL the smallest strike >= spot, PUT the largest strike < spot (None if off the chain)."""
    listed = sorted(strikes)
    exact_spot = Decimal(repr(float(spot)))
    if right is OptionRight.CALL:
        above = [strike for strike in listed if strike >= exact_spot]
        return above[0] if above else None
    below = [strike for strike in listed if strike < exact_spot]
    return below[-1] if below else None


@dataclass(frozen=True, slots=True)
class DirectionChoice:
    call_strike: Decimal
    call_oi: int
    put_strike: Decimal
    put_oi: int

    @property
    def right(self) -> OptionRight:
        """Call writers heavier than put writers cap the upside: PUT day; otherwise CALL."""
        return OptionRight.PUT if self.call_oi > self.put_oi else OptionRight.CALL

    def describe(self) -> str:
        return (
            f"max call OI {format_oi(self.call_oi)} @ {format_strike(self.call_strike)}, "
            f"max put OI {format_oi(self.put_oi)} @ {format_strike(self.put_strike)} -> {self.right.value}"
        )


def choose_direction(call_oi: Mapping[Decimal, int], put_oi: Mapping[Decimal, int]) -> DirectionChoice | None:
    """Largest OI per right (ties: the lower strike); None unless both rights have OI."""
    if not call_oi or not put_oi:
        return None
    call_strike = min(call_oi, key=lambda strike: (-call_oi[strike], strike))
    put_strike = min(put_oi, key=lambda strike: (-put_oi[strike], strike))
    return DirectionChoice(call_strike, call_oi[call_strike], put_strike, put_oi[put_strike])


def format_strike(strike: Decimal) -> str:
    """``Decimal('25900.00')`` -> ``25900``; keeps a real fraction (``17512.5``)."""
    return f"{strike.normalize():f}"


def format_oi(value: int) -> str:
    return f"{value:,}"


def contract_label(instrument: Instrument) -> str:
    """``NIFTY 25900 PUT``: what a trader reads; never the broker's CE/PE symbol."""
    if instrument.kind is InstrumentKind.OPTION and instrument.strike is not None and instrument.right is not None:
        return f"{instrument.underlying} {format_strike(instrument.strike)} {instrument.right.value}"
    return instrument.symbol
