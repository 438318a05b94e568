"""``tradekit ibkr ...``: the fake gateway for trying tradekit without TWS."""

from __future__ import annotations

import sys
import threading
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated

import typer

ibkr_app = typer.Typer(help="Interactive Brokers (TWS / IB Gateway) tools.", no_args_is_help=True)


def _parse_symbols(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        symbol, _, price = part.partition("=")
        try:
            out[symbol.strip().upper()] = float(price) if price else 100.0
        except ValueError:
            raise typer.BadParameter(f"--symbols: {part!r} is not SYMBOL or SYMBOL=PRICE") from None
    if not out:
        raise typer.BadParameter("--symbols: name at least one symbol")
    return out


@ibkr_app.command("fake-gateway")
def fake_gateway(
    port: Annotated[int, typer.Option(help="Port to listen on (7497 is TWS paper; 0 picks a free one).")] = 7497,
    day: Annotated[str, typer.Option(help="Trading day the generated market plays (YYYY-MM-DD).")] = "",
    seed: Annotated[int, typer.Option(help="Seed of the generated prices.")] = 7,
    symbols: Annotated[str, typer.Option(help="SYMBOL=START_PRICE,... (default: TSLA, AAPL, NVDA, AMD, MSFT).")] = "",
    account: Annotated[str, typer.Option(help="Paper account id it manages.")] = "DU1234567",
    cash: Annotated[float, typer.Option(help="Starting cash in USD.")] = 100_000.0,
    speed: Annotated[float, typer.Option(help="Market seconds per real second (1 = real time).")] = 1.0,
    data: Annotated[str, typer.Option(help="A market-day directory (tradekit's data format) to play instead of generated prices.")] = "",
    clock_file: Annotated[str, typer.Option(
        help="Follow this shared FileClock instead of pacing by --speed; tradekit run/sync with TRADEKIT_SIM_CLOCK=FILE "
             "moves it (created at 09:00 New York of --day when missing).")] = "",
) -> None:
    """Run a local fake TWS that ib_async / ib_insync (and tradekit's ibkr broker) can connect to."""
    from tradekit.clock import FileClock
    from tradekit.errors import TradekitError

    from tradekit_ibkr.fake.gateway import FakeGateway
    from tradekit_ibkr.fake.market import DEFAULT_SYMBOLS, NEW_YORK, GeneratedUSDay, MarketDaySource

    if speed <= 0:
        raise typer.BadParameter("--speed: must be positive")
    try:
        session_day = date.fromisoformat(day) if day else None
    except ValueError:
        raise typer.BadParameter(f"--day: {day!r} is not YYYY-MM-DD") from None
    clock = None
    if clock_file:
        path = Path(clock_file)
        try:
            if path.is_file():
                clock = FileClock(path)
            else:
                start_day = session_day or date.today()
                clock = FileClock(path, datetime.combine(start_day, time(9, 0), NEW_YORK))
        except (TradekitError, OSError, ValueError) as error:
            raise typer.BadParameter(f"--clock-file: {error}") from None
        session_day = session_day or clock.now().astimezone(NEW_YORK).date()
    session_day = session_day or date.today()
    if data:
        from tradekit.data import load_day

        source = MarketDaySource(load_day(Path(data)))
    else:
        source = GeneratedUSDay(session_day, _parse_symbols(symbols) if symbols else DEFAULT_SYMBOLS, seed=seed)
    gateway = FakeGateway(source, account=account, cash=cash, port=port, clock=clock).start()
    pacing = f"following the clock in {clock_file}" if clock is not None else f"market time x{speed:g}"
    print(f"fake TWS listening on {gateway.host}:{gateway.port}, account {account}, "
          f"{', '.join(source.symbols())}, {pacing}; Ctrl-C stops it", file=sys.stderr, flush=True)
    stop = threading.Event()
    try:
        if clock is not None:
            while not stop.wait(0.2):  # catch up with the shared clock: bars stream, stops fill
                gateway.sync()
        while not stop.wait(5.0 / speed):
            gateway.advance(5)
    except KeyboardInterrupt:
        pass
    finally:
        gateway.stop()
