"""``backtest``: the same engine and paper venue as ``run``, over many days at full speed, in its own store."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradekit.collector import LongLived
from tradekit.data.loader import read_ahead
from tradekit.engine.loop import discard
from tradekit.errors import ConfigError, DataError
from tradekit.services.run import Held, RunOptions, _replay_days, run
from tradekit.services.setup import Workspace
from tradekit.store import DuckDBStore


@dataclass
class BacktestSummary:
    strategy: str
    days: list[date] = field(default_factory=list)
    trades: int = 0
    wins: int = 0
    net_pnl: Decimal = Decimal(0)
    costs: Decimal = Decimal(0)
    starting_cash: Decimal | None = None
    final_cash: Decimal | None = None
    store: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "days": [d.isoformat() for d in self.days],
            "trades": self.trades,
            "win_rate_pct": round(100 * self.wins / self.trades, 2) if self.trades else None,
            "net_pnl": str(self.net_pnl),
            "costs": str(self.costs),
            "starting_cash": str(self.starting_cash),
            "final_cash": str(self.final_cash),
            "store": self.store,
        }


def backtest(
    ws: Workspace,
    strategy: str,
    start: date | None,
    end: date | None,
    *,
    data: Path | None = None,
    name: str | None = None,
    progress: Callable[[int, int, date], None] = lambda done, total, day: None,
    log: Callable[[str], None] = discard,
) -> BacktestSummary:
    """Run ``strategy`` over every market day in [start, end]; a named backtest keeps its store under
    ``<home>/backtests/<name>`` (started afresh each time), an unnamed one uses a throwaway directory."""
    market = ws.strategy(strategy).market
    listing = _replay_days(ws, market, data)
    days = [d.day for d in listing if (start is None or d.day >= start) and (end is None or d.day <= end)]
    if not days:
        raise DataError(f"no {market} market days between {start or 'the first'} and {end or 'the last'}")
    if name is not None and not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"--name: use letters, digits, - and _ only, got {name!r}")
    home = ws.home / "backtests" / name if name else Path(tempfile.mkdtemp(prefix="tradekit-backtest-"))
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    overrides = {"engine": {"replay_batch": 100000, "defer_durable": True}}  # one journal transaction per day
    if data is not None:
        overrides["data"] = {"root": str(data)}
    inner = Workspace(home=home, config=_with(ws.config, overrides), plugins=ws.plugins)
    summary = BacktestSummary(strategy=strategy, store=str(inner.store_path) if name else None)
    try:
        # one store session for the whole backtest: opened, loaded and written once, not once a day
        store = inner.open_store(batch_size=100_000, lazy_projections=True)
        store.checkpoint_at_close()
        held: Held | None = None
        long_lived = LongLived()  # what survives a day (book, journal batch, venue account) leaves the collector's passes
        try:
            held = Held(store, store.load_book(), listing)
            book = held.book
            paths = {d.day: d.path for d in listing}
            for index, day in enumerate(days):
                if index + 1 < len(days):
                    read_ahead(paths[days[index + 1]])  # the kernel reads the next day's arrays while this one trades
                outcome = run(inner, RunOptions(broker="paper", strategy=strategy, day=day, data=data), log,
                              opened=held)
                long_lived.keep()
                summary.days.append(day)
                progress(index + 1, len(days), day)
                if outcome.result is not None and summary.starting_cash is None:
                    summary.starting_cash = outcome.result.closing_cash
            store.flush(book)
        finally:
            long_lived.close()
            try:
                if held is not None and held.venue is not None:
                    held.venue.close()  # the account file, written once
            finally:
                store.close()
        with DuckDBStore(inner.store_path, readonly=True) as store:
            rows = store.query("SELECT count(*), count(*) FILTER (WHERE net_pnl > 0), coalesce(sum(net_pnl), 0), "
                               "coalesce(sum(costs), 0) FROM trades")
            summary.trades, summary.wins, summary.net_pnl, summary.costs = rows[0]
            opening = store.query("SELECT open_cash FROM accounts_daily ORDER BY day LIMIT 1")
            closing = store.query("SELECT close_cash FROM accounts_daily ORDER BY day DESC LIMIT 1")
            summary.starting_cash = opening[0][0] if opening else None
            summary.final_cash = closing[0][0] if closing else None
    finally:
        if name is None:
            shutil.rmtree(home, ignore_errors=True)
    return summary


def _with(config: Any, overrides: dict[str, Any]) -> Any:
    from types import MappingProxyType

    from tradekit.config import Config, _merge

    return Config(MappingProxyType(_merge(dict(config.data), overrides)), config.source)
