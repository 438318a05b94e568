"""The paper venue: a broker of its own, with a persisted account.

It is deliberately separate from tradekit's book: it keeps its own cash,
positions, orders (with the client tag) and fills in a JSON file written
atomically under a file lock, so tradekit can reconcile against it exactly
as against a real broker, a manual order from another process
(``tradekit paper order``) lands in the same account, and a kill -9 of the
engine never loses what the venue did.

Market orders fill at the current quote plus slippage; limit and stop
orders fill when the price path crosses them (checked over every bar
between two visits, not only at the visit); lot size and tick are
validated; a reject names its reason.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator, Protocol

from tradekit.clock import Clock
from tradekit.errors import BrokerError, OrderRejected
from tradekit.faults import crashpoint
from tradekit.model import (
    AccountReport,
    Candle,
    Fill,
    Instrument,
    InstrumentId,
    Order,
    OrderReport,
    OrderType,
    PositionReport,
    Quote,
    Side,
)
from tradekit.model.money import is_on_tick, snap_to_tick
from tradekit.plugins.paper.costs import CostModel
from tradekit.plugins.paper.records import KINDS, OPEN, SIDES, fill_from_record, order_report

D = Decimal


class QuoteSource(Protocol):
    """Where the venue gets prices: a replayed day, or a live broker's quotes."""

    def instrument(self, instrument_id: InstrumentId) -> Instrument | None: ...

    def quote(self, instrument_id: InstrumentId, at: datetime) -> Quote | None: ...

    def first_cross(
        self, instrument_id: InstrumentId, start: datetime, end: datetime, level: float, direction: int
    ) -> tuple[datetime, float] | None:
        """First bar ending in (start, end] that trades through ``level``.

        ``direction`` -1: low <= level (a sell stop / buy limit); +1: high >= level.
        Returns (bar end time, fill price: the level, or the bar's open if it gapped through).
        """
        ...


@dataclass(frozen=True)
class PaperSettings:
    account: str = "default"
    capital: Decimal = D(100_000)
    currency: str = "INR"
    slippage_bps: Decimal = D(0)
    costs: CostModel = CostModel()


class PaperVenue:
    """Implements the Broker port over a ``QuoteSource``.

    ``persist="always"`` (runs): every change is written (fsync, atomic
    rename) before the call returns, and other processes' changes are read
    back, as a broker's own books would be. ``persist="close"`` (backtests,
    whose store is rebuilt by any rerun anyway): the account lives in memory
    and is written once by ``close()`` (or ``save()``).
    """

    name = "paper"

    def __init__(self, state_path: Path, settings: PaperSettings, quotes: QuoteSource, clock: Clock, *,
                 persist: str = "always") -> None:
        if persist not in ("always", "close"):
            raise ValueError(f"paper venue: persist must be 'always' or 'close', not {persist!r}")
        self.state_path = Path(state_path)
        self.settings = settings
        self.account = f"paper:{settings.account}"
        self._quotes = quotes
        self._clock = clock
        self._persist_always = persist == "always"
        self._unsaved = False
        self._working: dict[str, None] = {}  # broker ids of open limit/stop orders (what _advance must scan)
        self._tags: set[str] = set()
        self._indexed: int = 0  # id() of the state dict the two indexes describe
        self._recorded_upto = 0  # fills an engine in this process has recorded (fills_recorded)
        self._state: dict[str, Any] = {}
        self._stamp: tuple[int, int] | None = None
        self._parsed_fills: list[Fill] = []  # Fill objects for state["fills"][:n]; fills are append-only
        self._parsed_from: int = 0  # id() of the fills list they were parsed from (a reload starts over)
        self._lock_handle: int | None = None
        self._watermark: tuple[str, datetime] | None = None  # state["watermark"] and its parsed value (parsed once)

    # ---- persistence ---------------------------------------------------
    def _fresh_state(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "currency": self.settings.currency,
            "cash": str(self.settings.capital),
            "positions": {},
            "orders": {},
            "fills": [],
            "next_order": 1,
            "next_fill": 1,
            "watermark": None,
        }

    @contextmanager
    def _session(self, *, write: bool = True) -> Iterator[dict[str, Any]]:
        """Lock, load if changed, advance working orders to now, yield, save."""
        handle = self._lock_handle
        if handle is None:  # opened once and kept: the lock is the flock, not the open file
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            handle = self._lock_handle = os.open(self.state_path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        state = self._memory_state()
        if state is not None:
            try:
                yield state
            finally:
                self._unsaved |= write
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._load()
            changed = self._advance(self._clock.now())
            try:
                yield self._state
            except OrderRejected:
                self._save()  # a rejected order is on the venue's books too
                raise
            if write or changed or self._watermark_stale():
                self._save()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

    def _memory_state(self) -> dict[str, Any] | None:
        """In memory (``persist="close"``, once loaded): the state advanced to now, no lock, no file; else None."""
        if self._persist_always or not self._state:
            return None
        self._unsaved |= self._advance(self._clock.now())  # loaded once, written by close()
        return self._state

    def _reindex(self) -> None:
        state = self._state
        if self._indexed == id(state):
            return
        orders = state.get("orders", {})
        self._working = {k: None for k, r in orders.items() if r["status"] in OPEN and r["order_type"] != "MARKET"}
        self._tags = {r["tag"] for r in orders.values() if r.get("tag")}
        self._indexed = id(state)

    def _watermark_stale(self) -> bool:
        """Persist the venue's market time at least once a market minute, so a manual order or a report
        made between runs is priced at (nearly) the time the venue reached, at a bounded number of fsyncs."""
        current = self._state.get("watermark")
        if current is None:
            return False
        saved = getattr(self, "_saved_watermark", None)
        if saved is None or saved > current:
            return True
        return (datetime.fromisoformat(current) - datetime.fromisoformat(saved)).total_seconds() >= 60

    def _load(self) -> None:
        try:
            stat = self.state_path.stat()
        except FileNotFoundError:
            if not self._state:
                self._state = self._fresh_state()
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp and self._state:
            return
        try:
            self._state = json.loads(self.state_path.read_text())
        except (OSError, ValueError) as error:
            raise BrokerError(f"paper account {self.state_path} is unreadable ({error}); it was left untouched") from None
        self._stamp = stamp

    def _save(self) -> None:
        temporary = self.state_path.with_suffix(".tmp")
        text = json.dumps(self._state, sort_keys=True)  # one C-encoder call; json.dump streams in Python chunks
        with open(temporary, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        crashpoint("venue_before_save")
        os.replace(temporary, self.state_path)
        crashpoint("venue_after_save")
        stat = self.state_path.stat()
        self._stamp = (stat.st_mtime_ns, stat.st_size)
        self._saved_watermark = self._state.get("watermark")

    # ---- Broker port ---------------------------------------------------

    def use_market(self, quotes: QuoteSource, clock: Clock) -> None:
        """Carry on with another day's prices and clock: a backtest keeps one venue (and its account in
        memory) for all its days instead of loading and rewriting the account file every day."""
        self._quotes = quotes
        self._clock = clock

    def connect(self) -> None:
        with self._session():
            pass

    def save(self) -> None:
        """Write the in-memory account now (``persist="close"``); a no-op when nothing changed."""
        if self._unsaved and self._state:
            self._save()
            self._unsaved = False

    def close(self) -> None:
        self.save()
        if self._lock_handle is not None:
            os.close(self._lock_handle)
            self._lock_handle = None

    def __del__(self) -> None:
        handle = getattr(self, "_lock_handle", None)
        if handle is not None:
            os.close(handle)

    def submit_order(self, order: Order) -> str:
        with self._session() as state:
            self._reindex()
            if order.client_order_id and order.client_order_id in self._tags:
                raise OrderRejected(f"duplicate client tag {order.client_order_id}")
            return self._accept(state, order)

    def place_manual(self, instrument_id: InstrumentId, side: Side, quantity: int, *, order_type: OrderType = OrderType.MARKET,
                     limit_price: Decimal | None = None, stop_price: Decimal | None = None) -> str:
        """An order typed by hand into the venue (no tradekit tag), as a trader does in the broker's app."""
        order = Order(
            client_order_id="", account=self.account, instrument_id=instrument_id, side=side, quantity=quantity,
            order_type=order_type, limit_price=limit_price, stop_price=stop_price, reason="MANUAL",
        )  # fmt: skip
        with self._session() as state:
            return self._accept(state, order)

    def fill_working(self, broker_order_id: str, price: Decimal | None = None) -> None:
        """Fill a working order now, at ``price`` or the current quote: a fill that happened while tradekit was down."""
        with self._session() as state:
            record = self._working_record(state, broker_order_id, "fill")
            now = self._clock.now()
            if price is None:
                quote = self._quotes.quote(record["instrument_id"], now)
                if quote is None:
                    raise OrderRejected(f"no price for {record['instrument_id']} at {now.isoformat()}; give one")
                level = quote.last
            else:
                level = float(self._check_tick(self._instrument(record["instrument_id"]), price))
            self._execute(state, record, now, level, market=False)

    @staticmethod
    def _working_record(state: dict[str, Any], broker_order_id: str, action: str) -> dict[str, Any]:
        record = state["orders"].get(broker_order_id)
        if record is None:
            raise OrderRejected(f"unknown order {broker_order_id}")
        if record["status"] not in OPEN:
            raise OrderRejected(f"order {broker_order_id} is {record['status']}, cannot {action}")
        return record

    def cancel_order(self, broker_order_id: str) -> None:
        with self._session() as state:
            record = self._working_record(state, broker_order_id, "cancel")
            record["status"] = "CANCELLED"
            record["updated"] = self._clock.now().isoformat()

    def modify_order(self, broker_order_id: str, *, quantity: int | None = None, limit_price: Decimal | None = None,
                     stop_price: Decimal | None = None) -> None:
        with self._session() as state:
            record = state["orders"].get(broker_order_id)
            if record is None or record["status"] not in OPEN:
                raise OrderRejected(f"order {broker_order_id} is not working, cannot modify")
            instrument = self._instrument(record["instrument_id"])
            if quantity is not None:
                if quantity <= record["filled"] or quantity % instrument.lot_size:
                    raise OrderRejected(f"bad quantity {quantity} for {record['instrument_id']}")
                record["quantity"] = quantity
            if limit_price is not None:
                record["limit_price"] = str(self._check_tick(instrument, limit_price))
            if stop_price is not None:
                record["stop_price"] = str(self._check_tick(instrument, stop_price))
            self._try_fill(state, record, self._clock.now(), immediate=True)

    def order_reports(self) -> list[OrderReport]:
        with self._session(write=False) as state:
            return [order_report(r) for r in state["orders"].values()]

    def _parse_fills(self, state: dict[str, Any]) -> list[Fill]:
        records = state["fills"]
        if self._parsed_from != id(records) or len(self._parsed_fills) > len(records):
            self._parsed_fills, self._parsed_from = [], id(records)  # reloaded from disk: parse afresh
        parsed = self._parsed_fills
        parsed.extend(fill_from_record(self.account, f) for f in records[len(parsed):])
        return parsed

    def fill_reports(self, since: datetime | None = None) -> list[Fill]:
        with self._session(write=False) as state:
            fills = list(self._parse_fills(state))
        return [f for f in fills if since is None or f.ts >= since]

    def fills_after(self, cursor: int | None) -> tuple[list[Fill], int]:
        """Fills appended since ``cursor`` (a count this method returned before), and the new cursor.

        The venue's fills are append-only, so an engine asking every step reads
        each fill once instead of the whole account every time. ``None``: from
        what an engine in this process last reported recorded (``fills_recorded``),
        so the next day's engine does not read the whole history again; 0 in a
        new process.
        """
        if cursor is None:
            cursor = self._recorded_upto
        state = self._memory_state()  # a backtest asks several times a step: no context manager on that path
        if state is not None:
            parsed = self._parse_fills(state)
        else:
            with self._session(write=False) as state:
                parsed = self._parse_fills(state)
        if cursor > len(parsed):
            cursor = 0  # the account was replaced on disk: start over (the engine skips fills it has)
        return parsed[cursor:], len(parsed)

    def fills_recorded(self, cursor: int) -> None:
        """An engine recorded every fill before ``cursor`` (at the end of its day)."""
        self._recorded_upto = cursor

    def position_reports(self) -> list[PositionReport]:
        with self._session(write=False) as state:
            return [
                PositionReport(instrument_id=iid, quantity=p["quantity"], average_price=D(p["average_price"]))
                for iid, p in sorted(state["positions"].items())
                if p["quantity"]
            ]

    def account_report(self) -> AccountReport:
        now = self._clock.now()
        with self._session(write=False) as state:
            cash = D(state["cash"])
            equity = cash
            for iid, p in state["positions"].items():
                quote = self._quotes.quote(iid, now)
                mark = D(repr(quote.last)) if quote else D(p["average_price"])
                equity += mark * p["quantity"]
            return AccountReport(account=self.account, currency=state["currency"], cash=cash, equity=equity, ts=now)

    def quotes(self, instrument_ids: Iterable[InstrumentId]) -> Mapping[InstrumentId, Quote]:
        now = self._clock.now()
        result = {}
        for iid in instrument_ids:
            quote = self._quotes.quote(iid, now)
            if quote is not None:
                result[iid] = quote
        return result

    def instruments(self) -> list[Instrument]:
        listing = getattr(self._quotes, "instruments", None)
        return list(listing().values()) if callable(listing) else []

    def historical(self, instrument_id: InstrumentId, start: datetime, end: datetime, interval_seconds: int) -> list[Candle]:
        history = getattr(self._quotes, "historical", None)
        return history(instrument_id, start, end, interval_seconds) if callable(history) else []

    # ---- matching ------------------------------------------------------
    def _instrument(self, instrument_id: InstrumentId) -> Instrument:
        instrument = self._quotes.instrument(instrument_id)
        if instrument is None:
            raise OrderRejected(f"unknown instrument {instrument_id}")
        return instrument

    @staticmethod
    def _check_tick(instrument: Instrument, price: Decimal) -> Decimal:
        if price <= 0 or not is_on_tick(price, instrument.tick_size):
            raise OrderRejected(f"price {price} is not a multiple of tick {instrument.tick_size} for {instrument.id}")
        return price

    def _accept(self, state: dict[str, Any], order: Order) -> str:
        now = self._clock.now()
        number = state["next_order"]
        state["next_order"] = number + 1
        broker_id = f"PO{number:08d}"
        record = {
            "broker_order_id": broker_id,
            "tag": order.client_order_id or None,
            "instrument_id": order.instrument_id,
            "side": str(order.side),
            "quantity": order.quantity,
            "order_type": str(order.order_type),
            "limit_price": None if order.limit_price is None else str(order.limit_price),
            "stop_price": None if order.stop_price is None else str(order.stop_price),
            "status": "ACCEPTED",
            "filled": 0,
            "average_price": None,
            "reason": "",
            "created": (stamp := now.isoformat()),
            "updated": stamp,
            "scanned": stamp,
        }
        state["orders"][broker_id] = record
        self._reindex()
        if record["tag"]:
            self._tags.add(record["tag"])
        try:
            instrument = self._instrument(order.instrument_id)
            if not instrument.tradable:
                raise OrderRejected(f"{order.instrument_id} is an index, not tradable")
            if order.quantity % instrument.lot_size:
                raise OrderRejected(
                    f"bad quantity {order.quantity} for {order.instrument_id}: not a multiple of lot size {instrument.lot_size}"
                )
            for price in (order.limit_price, order.stop_price):
                if price is not None:
                    self._check_tick(instrument, price)
            self._try_fill(state, record, now, immediate=True)
            if record["status"] in OPEN and record["order_type"] != "MARKET":
                self._working[broker_id] = None
        except OrderRejected as error:
            record["status"] = "REJECTED"
            record["reason"] = str(error)
            raise OrderRejected(f"{broker_id} rejected: {error}") from None
        return broker_id

    def _advance(self, now: datetime) -> bool:
        """Fill working limit/stop orders the price path crossed since the last visit."""
        state = self._state
        previous = state.get("watermark")
        if previous is None:
            state["watermark"] = now.isoformat()
            return True
        known = self._watermark
        start = known[1] if known is not None and known[0] == previous else datetime.fromisoformat(previous)
        if now > start:
            state["watermark"] = mark = now.isoformat()
            self._watermark = (mark, now)
        else:
            self._watermark = (previous, start)
        self._reindex()
        if not self._working:
            return False  # nothing working: only the watermark moved (most visits)
        changed = False
        orders = state["orders"]
        for broker_id in list(self._working):
            record = orders.get(broker_id)
            if record is None or record["status"] not in OPEN:
                self._working.pop(broker_id, None)  # filled, cancelled or rejected since
                continue
            # each order's own scan mark: never before the order existed, never twice over the same bars
            # (an order placed by an engine replaying behind the venue is still checked from its creation)
            scanned = record.get("scanned")
            since = datetime.fromisoformat(scanned) if scanned else max(start, datetime.fromisoformat(record["created"]))
            if now <= since:
                continue  # the venue's time never runs backwards (a restarted engine may replay older steps)
            try:
                changed |= self._try_fill(state, record, now, start=since)
            except OrderRejected:
                changed = True  # the record is marked REJECTED with its reason
            record["scanned"] = now.isoformat()
        return changed  # a moved scan mark alone need not be saved: re-scanning the same path gives the same fills

    def _try_fill(self, state: dict[str, Any], record: dict[str, Any], now: datetime, *,
                  start: datetime | None = None, immediate: bool = False) -> bool:
        side = SIDES[record["side"]]
        kind = KINDS[record["order_type"]]
        iid = record["instrument_id"]
        price: float | None = None
        when = now
        if kind is OrderType.MARKET or immediate:
            quote = self._quotes.quote(iid, now)
            if quote is None:
                if kind is OrderType.MARKET:
                    raise OrderRejected(f"no price for {iid} at {now.isoformat()}")
                return False
            last = quote.last
            if kind is OrderType.MARKET:
                price = last
            elif kind is OrderType.LIMIT:
                limit = float(record["limit_price"])
                if (side is Side.BUY and last <= limit) or (side is Side.SELL and last >= limit):
                    price = last
            else:  # stops: triggered when the last price is through the stop
                stop = float(record["stop_price"])
                if (side is Side.SELL and last <= stop) or (side is Side.BUY and last >= stop):
                    price = last if kind is OrderType.STOP_MARKET else float(record["limit_price"])
        elif start is not None:
            if kind is OrderType.LIMIT:
                level = float(record["limit_price"])
                direction = -1 if side is Side.BUY else 1
            else:
                level = float(record["stop_price"])
                direction = -1 if side is Side.SELL else 1
            hit = self._quotes.first_cross(iid, start, now, level, direction)
            if hit is None:
                return False
            when, price = hit
            if kind is OrderType.LIMIT:
                price = min(price, level) if side is Side.BUY else max(price, level)
        if price is None:
            return False
        self._execute(state, record, when, price, market=kind in (OrderType.MARKET, OrderType.STOP_MARKET))
        return True

    def _execute(self, state: dict[str, Any], record: dict[str, Any], when: datetime, price: float, *, market: bool) -> None:
        instrument = self._instrument(record["instrument_id"])
        side = SIDES[record["side"]]
        quantity = record["quantity"] - record["filled"]
        fill_price = D(repr(price))
        if market and self.settings.slippage_bps:
            fill_price *= 1 + side.sign * self.settings.slippage_bps / D(10_000)
        fill_price = snap_to_tick(fill_price, instrument.tick_size)
        if fill_price <= 0:
            fill_price = instrument.tick_size
        costs = self.settings.costs.costs(side, quantity, fill_price)
        cash = D(state["cash"])
        position = state["positions"].get(record["instrument_id"], {"quantity": 0, "average_price": "0"})
        held = position["quantity"]
        opening = quantity if held == 0 or (held > 0) == (side is Side.BUY) else max(0, quantity - abs(held))
        if opening and cash - costs < fill_price * opening:
            record["status"] = "REJECTED"
            record["reason"] = f"insufficient funds: need {fill_price * opening + costs:.2f}, cash {cash:.2f}"
            raise OrderRejected(record["reason"])
        number = state["next_fill"]
        state["next_fill"] = number + 1
        fill = {
            "fill_id": f"PF{number:08d}",
            "broker_order_id": record["broker_order_id"],
            "tag": record["tag"],
            "instrument_id": record["instrument_id"],
            "side": str(side),
            "quantity": quantity,
            "price": str(fill_price),
            "costs": str(costs),
            "ts": (stamp := when.isoformat()),
        }
        state["fills"].append(fill)
        state["cash"] = str(cash - side.sign * fill_price * quantity - costs)
        new_quantity = held + side.sign * quantity
        average = D(position["average_price"])
        if new_quantity == 0:
            average = D(0)
        elif held == 0 or (held > 0) != (new_quantity > 0):
            average = fill_price
        elif (held > 0) == (side is Side.BUY):
            average = (average * abs(held) + fill_price * quantity) / abs(new_quantity)
        state["positions"][record["instrument_id"]] = {"quantity": new_quantity, "average_price": str(average.quantize(D("0.00000001")))}
        record["filled"] = record["quantity"]
        record["average_price"] = str(fill_price)
        record["status"] = "FILLED"
        record["updated"] = stamp
