"""The risk gate: what stands between a strategy's Enter and the broker.

Every Enter passes ``RiskGate.review`` before it becomes an order: latches
(kill switch, daily loss, drawdown halt), a paused strategy, signal expiry,
the duplicate cooldown and attempt limit, a position the broker already
holds, max open positions, sizing, then the exposure caps. A refusal comes
back as a ``Block`` (rule + reason) that the engine journals as
``SignalBlocked``. ``watch`` runs after every step and trips the daily loss
limit and the drawdown guard.

Everything the gate remembers lives in the book as ``RiskStateSet`` items
(journalled like every other state change), so a restart, even after
kill -9, loads the same latches, day-start equity, high-water mark and entry
attempts: a restart can never reset a daily loss limit or lift a kill switch.
Exits, stops and control actions are never blocked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tradekit.errors import BrokerError
from tradekit.model.events import RiskStateSet
from tradekit.model.instruments import Instrument, InstrumentKind
from tradekit.model.intents import Block, Enter
from tradekit.model.money import to_decimal
from tradekit.model.orders import Order

KILL = "latch:KILL"
DAILY_LOSS = "latch:DAILY_LOSS"
DRAWDOWN = "latch:DRAWDOWN"
LATCHES = {"kill": KILL, "daily-loss": DAILY_LOSS, "drawdown": DRAWDOWN}
DAY_START = "equity:day_start"
PEAK = "equity:peak"
WARNED = "drawdown:warned"
LIQUIDATED = "drawdown:liquidated"
NO_DAY = date.min


def pause_key(strategy: str) -> str:
    return f"pause:{strategy}"


def entry_key(strategy: str, instrument_id: str) -> str:
    return f"entries:{strategy}:{instrument_id}"


@dataclass(frozen=True)
class Sizing:
    mode: str = "strategy"  # strategy | fixed | risk_pct
    lots: int | None = None
    quantity: int | None = None
    pct: float | None = None


@dataclass(frozen=True)
class RiskLimits:
    """The validated ``[risk]`` section; 0 switches a limit off."""

    capital: Decimal = Decimal(0)
    daily_loss_pct: float = 5.0
    drawdown_warn_pct: float = 15.0
    drawdown_halt_pct: float = 20.0
    drawdown_liquidate_pct: float = 25.0
    max_open_positions: int = 0
    options_exposure_pct: float = 0.0
    total_exposure_pct: float = 0.0
    symbol_exposure_pct: float = 0.0
    sector_exposure_pct: float = 0.0
    signal_expiry_seconds: float = 120
    cooldown_seconds: float = 60
    max_entries_per_symbol: int = 0
    sizing: Mapping[str, Sizing] = field(default_factory=dict)
    sectors: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> RiskLimits:
        """From ``Config.section("risk")`` (already validated by ``tradekit.config``)."""
        values = {k: v for k, v in section.items() if k not in ("sizing", "sectors")}
        if "capital" in values:
            values["capital"] = to_decimal(values["capital"])
        sizing = {name: Sizing(**dict(table)) for name, table in dict(section.get("sizing") or {}).items()}
        return cls(**values, sizing=sizing, sectors=dict(section.get("sectors") or {}))


def _pct(part: Decimal, whole: Decimal) -> float:
    return float(part / whole * 100) if whole > 0 else 0.0


class RiskGate:
    """Applies ``RiskLimits`` for one engine. All state is read from and written to the engine's book."""

    def __init__(self, limits: RiskLimits) -> None:
        self.limits = limits

    # ---- state in the book ---------------------------------------------
    @staticmethod
    def _value(engine: Any, key: str, *, today: bool = True) -> dict[str, Any] | None:
        return engine.book.risk_value(engine.account, key, engine.session.day if today else None)

    @staticmethod
    def set_item(engine: Any, now: datetime, key: str, value: dict[str, Any] | None, reason: str = "", *, day: date = NO_DAY) -> None:
        """Journal one risk item (durably: risk state must survive a kill -9 the moment it changes)."""
        engine._record(RiskStateSet(ts=now, account=engine.account, key=key, day=day, value=value, reason=reason), durable=True)

    def latches(self, engine: Any) -> dict[str, str]:
        """Active latches and why: ``{"kill": "...", "daily-loss": "...", "drawdown": "..."}``."""
        out = {}
        for name, key in LATCHES.items():
            value = self._value(engine, key)
            if value is not None:
                out[name] = str(value.get("reason", ""))
        return out

    def latch(self, engine: Any, now: datetime, name: str, reason: str) -> None:
        key = LATCHES[name]
        if self._value(engine, key) is None:
            day = engine.session.day if name == "daily-loss" else NO_DAY  # a daily loss latch ends with its day
            self.set_item(engine, now, key, {"reason": reason, "since": now.isoformat()}, reason, day=day)

    def unlatch(self, engine: Any, now: datetime, names: list[str]) -> list[str]:
        cleared = []
        for name in names:
            if self._value(engine, LATCHES[name]) is not None:
                self.set_item(engine, now, LATCHES[name], None, "unlatched")
                cleared.append(name)
                if name == "drawdown":  # measure from here, or the guard trips again at once
                    self.set_item(engine, now, PEAK, None, "reset by unlatch")
                    if self._value(engine, LIQUIDATED) is not None:
                        self.set_item(engine, now, LIQUIDATED, None, "reset by unlatch")
        return cleared

    def paused(self, engine: Any, strategy: str) -> bool:
        return self._value(engine, pause_key(strategy)) is not None

    def capital(self, engine: Any) -> Decimal:
        if self.limits.capital > 0:
            return self.limits.capital
        start = self._value(engine, DAY_START)
        if start is not None:
            return Decimal(start["equity"])
        return engine.book.cash.get(engine.account, Decimal(0))

    # ---- lifecycle -----------------------------------------------------
    def start(self, engine: Any, now: datetime) -> None:
        """At the start of a (resumed) day: the day-start equity is recorded once and only once per day."""
        if self._value(engine, DAY_START) is None:
            equity = engine._equity(now)
            self.set_item(engine, now, DAY_START, {"equity": str(equity)}, "day opened", day=engine.session.day)
            if self._value(engine, PEAK) is None:
                self.set_item(engine, now, PEAK, {"equity": str(equity)}, "high-water mark")
        latches = self.latches(engine)
        if latches:
            engine.log("risk latches in force: " + "; ".join(f"{k} ({v})" for k, v in latches.items()), now)

    def watch(self, engine: Any, now: datetime) -> None:
        """After a step: daily loss limit and drawdown guard."""
        limits = self.limits
        if not (limits.daily_loss_pct or limits.drawdown_warn_pct or limits.drawdown_halt_pct or limits.drawdown_liquidate_pct):
            return
        equity = engine._equity(now)
        capital = self.capital(engine)
        start = self._value(engine, DAY_START)
        if limits.daily_loss_pct and start is not None and capital > 0:
            pnl = equity - Decimal(start["equity"])
            limit = capital * Decimal(str(limits.daily_loss_pct)) / 100
            if pnl <= -limit and self._value(engine, DAILY_LOSS) is None:
                reason = f"day P&L {pnl:,.2f} reached the daily loss limit {-limit:,.2f} ({limits.daily_loss_pct}% of {capital:,.2f})"
                self.latch(engine, now, "daily-loss", reason)
                engine._commit(force_durable=True)  # durable before anyone is told
                engine.log(f"RISK daily loss limit hit: {reason}; no new entries today", now)
        peak_value = self._value(engine, PEAK)
        peak = Decimal(peak_value["equity"]) if peak_value is not None else None
        flat = not engine.book.open_positions(engine.account)
        if peak is None or (flat and equity > peak):
            self.set_item(engine, now, PEAK, {"equity": str(equity)}, "high-water mark")
            return
        drawdown = _pct(peak - equity, peak)
        if limits.drawdown_liquidate_pct and drawdown >= limits.drawdown_liquidate_pct and self._value(engine, LIQUIDATED) is None:
            reason = f"drawdown {drawdown:.1f}% from {peak:,.2f} reached {limits.drawdown_liquidate_pct}%"
            self.set_item(engine, now, LIQUIDATED, {"drawdown_pct": round(drawdown, 2)}, reason)
            self.latch(engine, now, "drawdown", reason)  # once: `tradekit unlatch` lifts both latches and resets the mark
            engine.log(f"RISK liquidating: {reason}", now)
            from tradekit.control.ops import flatten

            flatten(engine, reason=f"drawdown guard: {reason}", exit_reason="DRAWDOWN_LIQUIDATE")
        elif limits.drawdown_halt_pct and drawdown >= limits.drawdown_halt_pct and self._value(engine, DRAWDOWN) is None:
            reason = f"drawdown {drawdown:.1f}% from {peak:,.2f} reached {limits.drawdown_halt_pct}%"
            self.latch(engine, now, "drawdown", reason)
            engine._commit(force_durable=True)
            engine.log(f"RISK new entries halted: {reason} (tradekit unlatch drawdown)", now)
        elif limits.drawdown_warn_pct and drawdown >= limits.drawdown_warn_pct and self._value(engine, WARNED) is None:
            self.set_item(engine, now, WARNED, {"drawdown_pct": round(drawdown, 2)}, "warned", day=engine.session.day)
            engine.log(f"RISK warning: drawdown {drawdown:.1f}% from {peak:,.2f}", now)

    # ---- the gate ------------------------------------------------------
    def review(self, engine: Any, intent: Enter, now: datetime) -> Enter | Block:
        """The Enter as it may be sent (sizing may change its quantity), or the Block that stops it."""
        iid = intent.instrument_id
        strategy = engine.strategy.name
        latches = self.latches(engine)
        for name, rule in (("kill", "KILL_SWITCH"), ("daily-loss", "DAILY_LOSS_LIMIT"), ("drawdown", "DRAWDOWN_HALT")):
            if name in latches:
                return Block(rule, latches[name], iid)
        if self.paused(engine, strategy):
            return Block("PAUSED", f"strategy {strategy} is paused (tradekit resume {strategy})", iid)
        age = (engine.clock.now() - now).total_seconds()
        if self.limits.signal_expiry_seconds and age > self.limits.signal_expiry_seconds:
            return Block("SIGNAL_EXPIRED", f"signal is {age:.0f}s old (limit {self.limits.signal_expiry_seconds:.0f}s)", iid)
        attempts = self._value(engine, entry_key(strategy, iid))
        if attempts is not None:
            last = datetime.fromisoformat(attempts["last_ts"])
            since = (now - last).total_seconds()
            if self.limits.cooldown_seconds and attempts.get("side") == intent.side.value and since < self.limits.cooldown_seconds \
                    and not _completed_since(engine, strategy, iid, last):
                return Block("DUPLICATE_SIGNAL", f"same {intent.side.value} entry {since:.0f}s ago (cooldown {self.limits.cooldown_seconds:.0f}s)", iid)
            if self.limits.max_entries_per_symbol and attempts["count"] >= self.limits.max_entries_per_symbol:
                return Block("ATTEMPT_LIMIT", f"{attempts['count']} entries in {iid} today (limit {self.limits.max_entries_per_symbol})", iid)
        try:
            held = [p for p in engine.broker.position_reports() if p.instrument_id == iid and p.quantity != 0]
        except BrokerError as error:
            return Block("BROKER_UNKNOWN", f"cannot confirm the broker holds no {iid}: {error}", iid)
        if held:
            return Block("BROKER_HOLDS", f"the broker already holds {held[0].quantity} {iid}", iid)
        positions = engine.book.open_positions(engine.account)
        if self.limits.max_open_positions and len(positions) >= self.limits.max_open_positions:
            return Block("MAX_POSITIONS", f"{len(positions)} open positions (limit {self.limits.max_open_positions})", iid)
        sized = self._size(engine, intent, now)
        if isinstance(sized, Block):
            return sized
        block = self._exposure(engine, sized, positions)
        if block is not None:
            return block
        count = (attempts or {}).get("count", 0) + 1
        self.set_item(engine, now, entry_key(strategy, iid), {"count": count, "last_ts": now.isoformat(), "side": intent.side.value},
                  "entry", day=engine.session.day)
        return sized

    def expired_entry(self, engine: Any, order: Order, now: datetime) -> str | None:
        """Why a journalled entry order that never reached the broker must not be sent after a restart, or None."""
        limit = self.limits.signal_expiry_seconds
        if not limit or order.created_at is None:
            return None
        attempts = engine.book.risk_value(engine.account, entry_key(order.strategy, order.instrument_id))
        if attempts is None or datetime.fromisoformat(attempts["last_ts"]) != order.created_at:
            return None  # not an entry (exits and stops are always sent)
        age = (now - order.created_at).total_seconds()
        return f"{age:.0f}s old, limit {limit:.0f}s" if age > limit else None

    def _size(self, engine: Any, intent: Enter, now: datetime) -> Enter | Block:
        sizing = self.limits.sizing.get(engine.strategy.name)
        if sizing is None or sizing.mode == "strategy":
            return intent
        instrument: Instrument | None = engine._instruments.get(intent.instrument_id)
        lot = instrument.lot_size if instrument is not None else 1
        if sizing.mode == "fixed":
            quantity = int(sizing.lots) * lot if sizing.lots else int(sizing.quantity or 0)
            return replace(intent, quantity=quantity)
        if intent.stop_price is None or intent.signal_price is None:
            return Block("SIZING", "risk_pct sizing needs the signal's price and stop price", intent.instrument_id)
        per_unit = abs(to_decimal(intent.signal_price) - intent.stop_price)
        if per_unit <= 0:
            return Block("SIZING", "stop price equals the signal price", intent.instrument_id)
        budget = engine._equity(now) * Decimal(str(sizing.pct)) / 100
        lots = math.floor(budget / per_unit / lot)
        if lots < 1:
            return Block("SIZING", f"{sizing.pct}% of equity ({budget:,.2f}) is less than one lot's risk ({per_unit * lot:,.2f})",
                         intent.instrument_id)
        return replace(intent, quantity=lots * lot)

    def _symbol(self, engine: Any, instrument_id: str) -> str:
        instrument = engine._instruments.get(instrument_id)
        if instrument is not None and instrument.kind is InstrumentKind.OPTION and instrument.underlying:
            return instrument.underlying
        return instrument.symbol if instrument is not None else instrument_id

    def _sector(self, engine: Any, instrument_id: str) -> str | None:
        sectors = self.limits.sectors
        symbol = self._symbol(engine, instrument_id)
        instrument = engine._instruments.get(instrument_id)
        return sectors.get(instrument_id) or sectors.get(symbol) or (instrument.sector if instrument is not None else None)

    def _is_option(self, engine: Any, instrument_id: str) -> bool:
        instrument = engine._instruments.get(instrument_id)
        return instrument is not None and instrument.kind is InstrumentKind.OPTION

    def _exposure(self, engine: Any, intent: Enter, positions: list[Any]) -> Block | None:
        limits = self.limits
        if not (limits.total_exposure_pct or limits.options_exposure_pct or limits.symbol_exposure_pct or limits.sector_exposure_pct):
            return None
        iid = intent.instrument_id
        price = to_decimal(intent.signal_price) if intent.signal_price is not None else intent.limit_price
        if price is None:
            quote = engine.broker.quotes([iid]).get(iid)
            if quote is None:
                return Block("EXPOSURE", f"no price for {iid} to measure exposure", iid)
            price = to_decimal(quote.last)
        new = price * intent.quantity
        capital = self.capital(engine)
        held = [(p.instrument_id, abs(p.quantity) * p.average_price) for p in positions]
        symbol, sector = self._symbol(engine, iid), self._sector(engine, iid)
        checks = [
            ("TOTAL_EXPOSURE", limits.total_exposure_pct, "total", lambda i: True),
            ("OPTIONS_EXPOSURE", limits.options_exposure_pct if self._is_option(engine, iid) else 0, "options",
             lambda i: self._is_option(engine, i)),
            ("SYMBOL_EXPOSURE", limits.symbol_exposure_pct, f"symbol {symbol}", lambda i: self._symbol(engine, i) == symbol),
            ("SECTOR_EXPOSURE", limits.sector_exposure_pct if sector else 0, f"sector {sector}",
             lambda i: self._sector(engine, i) == sector),
        ]
        for rule, pct, label, member in checks:
            if not pct:
                continue
            exposure = sum((value for i, value in held if member(i)), Decimal(0)) + new
            if _pct(exposure, capital) > pct:
                return Block(rule, f"{label} exposure would be {_pct(exposure, capital):.1f}% of {capital:,.2f} (cap {pct}%)", iid)
        return None


def _completed_since(engine: Any, strategy: str, instrument_id: str, last: datetime) -> bool:
    """The entry sent at ``last`` was filled and its position has since closed: a new signal, not a duplicate."""
    if engine.book.position(engine.account, instrument_id).quantity != 0:
        return False
    return any(
        order.strategy == strategy and order.instrument_id == instrument_id and order.created_at == last
        and order.filled_quantity > 0
        for order in engine.book.orders.values()
    )
