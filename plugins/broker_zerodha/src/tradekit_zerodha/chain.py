"""The weekly option chain of the nearest expiry, built from the instrument dump.

Symbols are never formatted by hand: the chain holds the dump's own
instruments, with their lot and tick sizes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tradekit.errors import BrokerError
from tradekit.model import Instrument, InstrumentKind, OptionRight


@dataclass(frozen=True)
class OptionChain:
    underlying: str
    expiry: date
    calls: dict[Decimal, Instrument]
    puts: dict[Decimal, Instrument]

    @property
    def strikes(self) -> list[Decimal]:
        return sorted(set(self.calls) | set(self.puts))

    @property
    def lot_size(self) -> int:
        return next(iter(self.calls.values() or self.puts.values())).lot_size

    @property
    def tick_size(self) -> Decimal:
        return next(iter(self.calls.values() or self.puts.values())).tick_size

    def option(self, strike: Decimal, right: OptionRight) -> Instrument | None:
        return (self.calls if right is OptionRight.CALL else self.puts).get(Decimal(strike))


def nearest_chain(instruments: Iterable[Instrument], underlying: str, today: date) -> OptionChain:
    """Options on ``underlying`` expiring on the first expiry on or after ``today``."""
    options = [
        i for i in instruments
        if i.kind is InstrumentKind.OPTION and i.underlying == underlying and i.expiry is not None and i.expiry >= today
    ]
    if not options:
        raise BrokerError(f"no {underlying} options expiring on or after {today} in today's instrument dump")
    expiry = min(i.expiry for i in options if i.expiry is not None)
    calls: dict[Decimal, Instrument] = {}
    puts: dict[Decimal, Instrument] = {}
    for instrument in options:
        if instrument.expiry != expiry or instrument.strike is None:
            continue
        (calls if instrument.right is OptionRight.CALL else puts)[instrument.strike] = instrument
    return OptionChain(underlying, expiry, calls, puts)
