"""``tradekit ibkr ...``: the fake gateway for trying tradekit without TWS."""

from __future__ import annotations

import sys
import threading
from datetime import date
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
) -> None:
    """Run a local fake TWS that ib_async / ib_insync (and tradekit's ibkr broker) can connect to."""
    from tradekit_ibkr.fake.gateway import FakeGateway
    from tradekit_ibkr.fake.market import DEFAULT_SYMBOLS, GeneratedUSDay, MarketDaySource

    if speed <= 0:
        raise typer.BadParameter("--speed: must be positive")
    try:
        session_day = date.fromisoformat(day) if day else date.today()
    except ValueError:
        raise typer.BadParameter(f"--day: {day!r} is not YYYY-MM-DD") from None
    if data:
        from pathlib import Path

        from tradekit.data import load_day

        source = MarketDaySource(load_day(Path(data)))
    else:
        source = GeneratedUSDay(session_day, _parse_symbols(symbols) if symbols else DEFAULT_SYMBOLS, seed=seed)
    gateway = FakeGateway(source, account=account, cash=cash, port=port).start()
    print(f"fake TWS listening on {gateway.host}:{gateway.port}, account {account}, "
          f"{', '.join(source.symbols())}; Ctrl-C stops it", file=sys.stderr, flush=True)
    stop = threading.Event()
    try:
        while not stop.wait(5.0 / speed):
            gateway.advance(5)
    except KeyboardInterrupt:
        pass
    finally:
        gateway.stop()
