"""The weekly option chain of the nearest expiry, built from the instrument dump.

Symbols are never formatted by hand: the chain holds the dump's own
instruments, with their lot and tick sizes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from tradekit.errors import BrokerError
from tradekit.model import Instrument, OptionRight
from tradekit.model.instruments import ExpirySeries, nearest_expiry


class OptionChain(ExpirySeries):
    """The nearest expiry's options (``tradekit.model.instruments.ExpirySeries``) with what the broker asks of them."""

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
    series = nearest_expiry(instruments, underlying, today)
    if series is None:
        raise BrokerError(f"no {underlying} options expiring on or after {today} in today's instrument dump")
    return OptionChain(underlying, series.expiry, series.calls, series.puts)
