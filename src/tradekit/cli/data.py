"""``tradekit data``: generate, import, list and inspect market days (thin wrappers over tradekit.data)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from tradekit.errors import TradekitError

app = typer.Typer(name="data", help="Market days: generate, import, list and show (see docs/data-format.md).", no_args_is_help=True)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _default_root() -> Path:
    from tradekit.paths import home_dir

    return home_dir() / "data"


def _fail(error: TradekitError) -> None:
    err.print(f"error: {error}")
    raise typer.Exit(error.exit_code)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM-DD, got {text!r}") from None


@app.command()
def generate(
    market: Annotated[str, typer.Option(help="NSE (NIFTY chain) or NYSE (US watchlist)")],
    day: Annotated[str, typer.Option("--date", help="trading date YYYY-MM-DD")],
    regime: Annotated[str, typer.Option(help="NSE: trend_up, trend_down, chop, opening_gap, reversal; NYSE: breakouts, fakeouts, retests, partials, mixed")],
    seed: Annotated[int, typer.Option(help="same seed, same bytes")] = 1,
    root: Annotated[Optional[Path], typer.Option(help="output root (default: <home>/data)")] = None,
    file_format: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
    bar_seconds: Annotated[int, typer.Option(help="NSE only: 1 = quotes every second, else OHLC bars")] = 1,
    strikes: Annotated[int, typer.Option(help="NSE only: strikes each side of spot")] = 20,
) -> None:
    """Generate a seeded trading day."""
    from tradekit.data import generate_nifty_day, generate_us_day

    target = root or _default_root()
    try:
        if market.upper() == "NSE":
            path = generate_nifty_day(_date(day), seed, regime, target, strikes_each_side=strikes, bar_seconds=bar_seconds, file_format=file_format)
        elif market.upper() == "NYSE":
            path = generate_us_day(_date(day), seed, regime, target, file_format=file_format)
        else:
            raise typer.BadParameter(f"market must be NSE or NYSE, got {market!r}")
    except TradekitError as error:
        _fail(error)
    out.print(f"wrote {path}")


@app.command("import")
def import_(
    source: Annotated[Path, typer.Argument(help="the downloaded file (CSV, JSON or Parquet)", exists=True, dir_okay=False)],
    symbol: Annotated[str, typer.Option(help="trading symbol, e.g. NIFTY25D0925900PE, NFO:NIFTY25D0925900PE or TSLA")],
    kind: Annotated[str, typer.Option("--from", help="kite, ib or generic")] = "generic",
    root: Annotated[Optional[Path], typer.Option(help="data root (default: <home>/data)")] = None,
    market: Annotated[str, typer.Option(help="generic only: NSE or NYSE")] = "NSE",
    exchange: Annotated[Optional[str], typer.Option(help="exchange of the instrument (kite/generic)")] = None,
    lot_size: Annotated[Optional[int], typer.Option(help="override the lot size")] = None,
    mapping: Annotated[Optional[list[str]], typer.Option("--map", help="generic: FIELD=COLUMN, e.g. ts=Datetime close=Close")] = None,
) -> None:
    """Import a broker download into market-day directories."""
    from tradekit.data.importers import import_generic, import_ib, import_kite, kite_instrument

    target = root or _default_root()
    try:
        if kind == "kite":
            result = import_kite(source, symbol, target, exchange, lot_size)
        elif kind == "ib":
            result = import_ib(source, symbol, target)
        elif kind == "generic":
            pairs = dict(item.split("=", 1) for item in (mapping or []) if "=" in item)
            bad = [item for item in (mapping or []) if "=" not in item]
            if bad:
                raise typer.BadParameter(f"--map needs FIELD=COLUMN, got {bad[0]!r}")
            instrument = kite_instrument(symbol, exchange or ("SMART" if market.upper() == "NYSE" else None), lot_size)
            if market.upper() == "NYSE":
                from decimal import Decimal

                from tradekit.model import Instrument, InstrumentKind

                instrument = Instrument(instrument.symbol, exchange or "SMART", InstrumentKind.EQUITY, "USD", lot_size or 1, Decimal("0.01"))
            result = import_generic(source, instrument, market, target, pairs)
        else:
            raise typer.BadParameter(f"--from must be kite, ib or generic, got {kind!r}")
    except TradekitError as error:
        _fail(error)
    for day, path, rows in result.days:
        out.print(f"{result.instrument.id}: {rows} rows -> {path}")


def _resolve_roots(root: Optional[Path]) -> list[Optional[Path]]:
    if root is not None:
        return [root]
    user = _default_root()
    return [None, user] if user.is_dir() else [None]


@app.command("list")
def list_(
    root: Annotated[Optional[Path], typer.Option(help="data root (default: bundled samples and <home>/data)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """List market days: market, date, regime, instruments, rows."""
    from tradekit.data import list_days

    try:
        days = [info for base in _resolve_roots(root) for info in list_days(base)]
    except TradekitError as error:
        _fail(error)
    if as_json:
        print(json.dumps([info.to_dict() for info in days], indent=2), flush=True)
        return
    table = Table("market", "date", "regime", "instruments", "rows", "path")
    for info in days:
        table.add_row(info.market, info.day.isoformat(), info.regime, str(info.instruments), f"{info.rows:,}", str(info.path))
    out.print(table)


@app.command()
def show(
    market: Annotated[str, typer.Argument(help="NSE or NYSE")],
    day: Annotated[Optional[str], typer.Argument(help="YYYY-MM-DD (default: the first day)")] = None,
    root: Annotated[Optional[Path], typer.Option(help="data root (default: bundled samples)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Show one day: its manifest, instruments with first/last prices, and data issues."""
    from tradekit.data import find_day, load_day, read_scanner

    try:
        day_obj = load_day(find_day(market, _date(day) if day else None, root))
        setups = read_scanner(day_obj.scanner) if day_obj.scanner else []
    except TradekitError as error:
        _fail(error)
    series = []
    for key, item in sorted(day_obj.series.items()):
        series.append({"instrument": key, "rows": len(item), "first_close": float(item.close[0]), "last_close": float(item.close[-1]),
                       "high": float(item.high.max()), "low": float(item.low.min()), "volume": int(item.volume.sum()), "last_oi": int(item.oi[-1])})
    summary = {
        "market": day_obj.market, "date": day_obj.day.isoformat(), "path": str(day_obj.path), "timezone": day_obj.timezone,
        "bar_seconds": day_obj.bar_seconds, "regime": day_obj.manifest.get("regime", ""), "description": day_obj.manifest.get("description", ""),
        "exercises": list(day_obj.manifest.get("exercises", [])), "rows": day_obj.rows, "series": series,
        "issues": [{"symbol": i.symbol, "reason": i.reason, "count": i.count} for i in day_obj.issues],
        "scanner": [vars(s) for s in setups],
    }
    if as_json:
        print(json.dumps(summary, indent=2), flush=True)
        return
    out.print(f"{summary['market']} {summary['date']} ({summary['regime']}): {summary['description']}")
    out.print(f"{day_obj.rows:,} rows, {len(series)} instruments, bar {day_obj.bar_seconds}s, {day_obj.timezone}, {day_obj.path}")
    if summary["exercises"]:
        out.print("exercises: " + ", ".join(summary["exercises"]))
    table = Table("instrument", "rows", "first", "last", "low", "high", "volume", "last OI")
    for row in series:
        table.add_row(row["instrument"], f"{row['rows']:,}", f"{row['first_close']:.2f}", f"{row['last_close']:.2f}", f"{row['low']:.2f}",
                      f"{row['high']:.2f}", f"{row['volume']:,}", f"{row['last_oi']:,}")
    out.print(table)
    for setup in setups:
        out.print(f"scanner {setup.symbol}: resistance {setup.resistance:.2f} support {setup.support:.2f} "
                  f"long {setup.long_target_1:.2f}/{setup.long_target_2:.2f} short {setup.short_target_1:.2f}/{setup.short_target_2:.2f}")
    if day_obj.issues:
        err.print(f"{day_obj.dropped} row(s) dropped:")
        for issue in day_obj.issues:
            err.print(f"  {issue.describe()}")
