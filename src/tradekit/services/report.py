"""The report and trade exports, read from the store (read-only, so a running engine is never disturbed).

``build_report`` returns a plain structure the CLI prints as tables, as
JSON or as one HTML page; ``export_trades`` writes the per-day and all-time
trade files traders keep, with the same columns whatever the format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tradekit.data.catalog import bundled_root
from tradekit.errors import ConfigError, StoreError
from tradekit.report import benchmark as bm
from tradekit.report.metrics import Metrics, compute
from tradekit.report.query import LAST_DAY, MODE_SQL, TZ_SQL, ReportFilters
from tradekit.services.setup import Workspace

EXPORT_FORMATS = ("csv", "parquet")
EXPORT_COLUMNS = (
    "day", "trade_id", "account", "strategy", "instrument_id", "side", "quantity", "entry_ts", "entry_price", "exit_ts",
    "exit_price", "gross_pnl", "costs", "net_pnl", "pnl_pct", "exit_reason", "slippage", "partial_exits", "external",
)  # fmt: skip
"""Columns of every trade export, in order; ``day`` is the exchange-local date of the exit."""


@dataclass(frozen=True)
class Section:
    """The part of the report for one mode in one currency."""

    mode: str
    currency: str
    single: bool = True  # the mode's only currency

    @property
    def id(self) -> str:
        """``paper``; ``paper-inr`` / ``paper-usd`` when the mode holds accounts in more than one currency (chart ids, curves)."""
        if self.single:
            return self.mode
        return f"{self.mode}-{self.currency.lower() if self.currency.isalpha() else 'unknown'}"

    @property
    def title(self) -> str:
        return f"{self.mode} · {self.currency}"

    def has(self, row: dict[str, Any]) -> bool:
        return row.get("mode") == self.mode and row.get("currency") == self.currency


@dataclass
class Report:
    filters: ReportFilters
    metrics: Metrics
    benchmarks: list[dict[str, Any]] = field(default_factory=list)
    curves: dict[str, dict[str, Any]] = field(default_factory=dict)
    store: str = ""

    def scopes(self, mode: str, kind: str | None = None, currency: str | None = None) -> list[dict[str, Any]]:
        return [s for s in self.metrics.scopes
                if s["mode"] == mode and (kind is None or s["kind"] == kind) and (currency is None or s["currency"] == currency)]  # fmt: skip

    @property
    def modes(self) -> list[str]:
        return sorted({s["key"] for s in self.metrics.scopes if s["kind"] == "overall"}, key=lambda mode: mode != "paper")

    @property
    def sections(self) -> list[Section]:
        """One section per mode and currency, paper first: money is only ever added up inside one."""
        pairs = sorted({(s["key"], s["currency"]) for s in self.metrics.scopes if s["kind"] == "overall"},
                       key=lambda pair: (pair[0] != "paper", pair[1]))  # fmt: skip
        modes = [mode for mode, _ in pairs]
        return [Section(mode, currency, single=modes.count(mode) == 1) for mode, currency in pairs]

    def to_dict(self) -> dict[str, Any]:
        f = self.filters
        return {
            "store": self.store,
            "filters": {"from": f.start, "to": f.end, "strategies": list(f.strategies), "accounts": list(f.accounts),
                        "mode": f.mode, "risk_free": f.risk_free, "periods_per_year": f.periods_per_year},
            "sections": [{"id": x.id, "mode": x.mode, "currency": x.currency} for x in self.sections],
            "accounts": self.metrics.accounts,
            "scopes": self.metrics.scopes,
            "benchmarks": self.benchmarks,
            "days": self.metrics.days,
            "months": self.metrics.months,
            "exit_reasons": self.metrics.exit_reasons,
            "blocked_signals": self.metrics.blocks,
        }  # fmt: skip


def report_settings(ws: Workspace) -> dict[str, Any]:
    section = ws.config.section("report")
    try:
        return {
            "risk_free": float(section.get("risk_free", 0.0)),
            "benchmark": str(section.get("benchmark", "") or ""),
            "periods_per_year": int(section.get("periods_per_year", 252)),
        }
    except (TypeError, ValueError) as error:
        raise ConfigError(f"[report] in {ws.config.source}: {error}") from None


def data_root(ws: Workspace) -> Path:
    root = str(ws.config.get("data.root", "") or "")
    return Path(root).expanduser() if root else bundled_root()


def paper_currencies(home: Path) -> dict[str, str]:
    """``{"paper:us": "USD", ...}`` from the paper venue's own files: the currency of paper accounts that have not traded yet."""
    found: dict[str, str] = {}
    for path in sorted((home / "paper").glob("*.json")):
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a venue file being rewritten or damaged: the store's own evidence still decides
        if isinstance(state, dict) and isinstance(state.get("account"), str) and isinstance(state.get("currency"), str):
            found[state["account"]] = state["currency"]
    return found


def build_report(ws: Workspace, filters: ReportFilters, *, benchmark: str | None = None) -> Report:
    """Every metric for ``filters``, the benchmark comparison per account and the curves the charts draw (one per mode and currency)."""
    settings = report_settings(ws)
    symbol_override = benchmark or settings["benchmark"] or None
    root = data_root(ws)
    store = ws.open_store(readonly=True)
    try:
        metrics = compute(store, filters, currencies=paper_currencies(ws.home))
    finally:
        store.close()
    report = Report(filters=filters, metrics=metrics, store=str(ws.store_path))
    account_scopes = {s["key"]: s for s in metrics.scopes if s["kind"] == "account"}
    levels = bm.IndexLevels(root)
    compared = []
    for account in metrics.accounts:
        scope = account_scopes.get(account["account"])
        market = bm.market_of(account["tz"])
        if market is None or scope is None:
            continue
        symbol = symbol_override or bm.DEFAULT_BENCHMARKS[market]
        compared.append((account, scope, market, symbol))
        if account["first_day"] is not None and scope["last_day"] is not None:
            levels.want(market, symbol, account["first_day"], scope["last_day"])  # the curves ask within these ranges
    for account, scope, market, symbol in compared:
        report.benchmarks.append(bm.compare(
            account=account["account"], first_day=account["first_day"], capital=account["capital"],
            final_equity=scope["final_equity"], last_day=scope["last_day"], symbol=symbol, market=market, root=root,
            levels=levels,
        ))  # fmt: skip
    for section in report.sections:
        mode = section.mode
        rows = [d for d in metrics.days if d["kind"] == "overall" and d["key"] == mode and d["currency"] == section.currency]
        days = [d["day"] for d in rows]
        curve: dict[str, Any] = {
            "days": days,
            "equity": [d["equity"] for d in rows],
            "pnl": [d["net_pnl"] for d in rows],
            "drawdown_pct": [d["drawdown_pct"] for d in rows],
            "benchmark": None,
            "benchmark_symbol": None,
        }
        accounts = [a for a in metrics.accounts if section.has(a) and a["first_day"] is not None and a["tz"]]
        capital = sum(a["capital"] or 0 for a in accounts)
        if accounts and days and capital:
            market = bm.market_of(accounts[0]["tz"]) or "NSE"
            symbol = symbol_override or bm.DEFAULT_BENCHMARKS[market]
            found = levels.between(market, symbol, min(a["first_day"] for a in accounts), days[-1])
            if found:
                curve["benchmark"] = bm.curve(found, days, capital)
                curve["benchmark_symbol"] = symbol
        curve["months"] = [m for m in metrics.months if m["kind"] == "overall" and m["key"] == mode and m["currency"] == section.currency]
        report.curves[section.id] = curve
    return report


def export_trades(
    ws: Workspace,
    *,
    day: date | None = None,
    out: Path | None = None,
    fmt: str = "csv",
    accounts: tuple[str, ...] = (),
    strategies: tuple[str, ...] = (),
    mode: str | None = None,
) -> tuple[Path, int]:
    """Write the trades of ``day`` (None: all time) to ``out`` (default ``<home>/exports/trades-<day|all>.<fmt>``)."""
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    target = Path(out) if out is not None else ws.home / "exports" / f"trades-{day.isoformat() if day else 'all'}.{fmt}"
    if target.is_dir():
        raise StoreError(f"export target {target} is a directory; give a file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    where = ["TRUE"]
    params: list[Any] = []
    if day is not None:
        where.append("day = ?")
        params.append(day)
    if accounts:
        where.append(f"account IN ({', '.join('?' * len(accounts))})")
        params += list(accounts)
    if strategies:
        where.append(f"coalesce(strategy, '') IN ({', '.join('?' * len(strategies))})")
        params += list(strategies)
    if mode is not None:
        where.append(f"{MODE_SQL} = ?")
        params.append(mode)
    options = "FORMAT csv, HEADER" if fmt == "csv" else "FORMAT parquet, COMPRESSION zstd"
    partial = target.with_name(target.name + ".partial")
    store = ws.open_store(readonly=True)
    try:
        select = (
            f"SELECT {', '.join(EXPORT_COLUMNS)} FROM (SELECT *, CAST(timezone({TZ_SQL}, exit_ts) AS DATE) AS day FROM trades) "
            f"WHERE {' AND '.join(where)} ORDER BY exit_ts, account, trade_id"
        )
        count = int(store.query(f"SELECT count(*) FROM ({select})", params)[0][0])
        path_literal = str(partial).replace("'", "''")
        store.query(f"COPY ({select}) TO '{path_literal}' ({options})", params)
    finally:
        store.close()
    partial.replace(target)  # a reader never sees half a file
    return target, count


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option}: expected a date YYYY-MM-DD, got {text!r}") from None


__all__ = ["EXPORT_COLUMNS", "LAST_DAY", "Report", "ReportFilters", "Section", "build_report", "export_trades", "paper_currencies", "parse_day"]
