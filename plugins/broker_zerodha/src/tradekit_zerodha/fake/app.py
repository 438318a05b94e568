"""The "Kite app": what the user does by hand in Kite while tradekit runs (trades without tradekit's tag)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from tradekit_zerodha.fake.book import Overnight

if TYPE_CHECKING:
    from tradekit_zerodha.fake.server import FakeKite


class KiteApp:
    """What the user does by hand in Kite's own app while tradekit runs."""

    def __init__(self, fake: FakeKite) -> None:
        self._fake = fake

    def trade(self, tradingsymbol: str, side: str, quantity: int, *, exchange: str = "NFO", product: str = "NRML") -> str:
        """A market order placed (and filled) in the Kite app: no tradekit tag. Returns the order id."""
        return self._fake.book.place("regular", {
            "exchange": exchange, "tradingsymbol": tradingsymbol, "transaction_type": side.upper(),
            "quantity": str(quantity), "product": product, "order_type": "MARKET", "market_protection": "-1",
        })

    def hold_overnight(self, tradingsymbol: str, quantity: int, average_price: float, *, exchange: str = "NFO",
                       product: str = "NRML") -> None:
        """A position carried from an earlier day (in ``net``, not in ``day``)."""
        with self._fake.book.lock:
            self._fake.book.instrument(exchange, tradingsymbol)
            self._fake.book.overnight.append(Overnight(exchange, tradingsymbol, product, quantity, average_price))

    def net_quantity(self, tradingsymbol: str) -> int:
        return sum(row["quantity"] for row in self._fake.book.positions()["net"] if row["tradingsymbol"] == tradingsymbol)

    def square_off(self, tradingsymbol: str, *, product: str = "NRML") -> str | None:
        """Close the whole net position in the Kite app."""
        return self.reduce_to(tradingsymbol, 0, product=product)

    def reduce_to(self, tradingsymbol: str, quantity: int, *, product: str = "NRML") -> str | None:
        """Trade in the Kite app until the net position is ``quantity`` (525 -> 300)."""
        held = self.net_quantity(tradingsymbol)
        difference = quantity - held
        if difference == 0:
            return None
        return self.trade(tradingsymbol, "BUY" if difference > 0 else "SELL", abs(difference), product=product)

    def fill(self, order_id: str, price: float | None = None) -> None:
        """The exchange fills a working order (a stop hit) at ``price`` or the last price."""
        self._fake.book.fill(order_id, price)

    def reject(self, order_id: str, message: str = "RMS: margin exceeds") -> None:
        self._fake.book.reject(order_id, message)

    def at(self, moment: datetime, action: Callable[[], object]) -> None:
        """Do ``action`` (e.g. ``lambda: app.trade(...)``) at ``moment``: run by the first request the fake
        answers at or after it, before answering (a trade by hand while tradekit runs on a simulated clock)."""
        with self._fake._lock:
            self._fake._scheduled.append((moment, action))
            self._fake._scheduled.sort(key=lambda item: item[0])
