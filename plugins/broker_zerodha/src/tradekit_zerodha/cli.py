"""``tradekit zerodha login`` and ``tradekit zerodha fake-server``: thin wrappers, printing only here."""

from __future__ import annotations

import os
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from tradekit.clock import LiveClock
from tradekit.errors import TradekitError
from tradekit.paths import home_dir

from tradekit.config import load_config as load_core_config

from tradekit_zerodha.config import load_config
from tradekit_zerodha.parsing import IST
from tradekit_zerodha.session import api_key_from, exchange_request_token, login_url

group = typer.Typer(help="Zerodha Kite Connect: daily login and a local fake Kite server.", no_args_is_help=True)


def _fail(error: TradekitError) -> typer.Exit:
    typer.echo(f"error: {error}", err=True)
    return typer.Exit(error.exit_code)


@group.command()
def login(
    request_token: Annotated[str | None, typer.Option(help="The request_token from the login redirect (asked if missing).")] = None,
) -> None:
    """Log in for today: open the URL, paste the request token; the access token is stored owner-only."""
    try:
        home = home_dir()
        core = load_core_config(home)  # defaults < tradekit.toml < TRADEKIT__BROKERS__ZERODHA__* variables
        source = str(core.source) if core.source else "TRADEKIT__BROKERS__ZERODHA__* environment"
        config = load_config(core.section("brokers", "zerodha"), source=source)
        env = dict(os.environ)
        url = login_url(config, api_key_from(config, env))
        typer.echo(f"Log in to Kite at:\n  {url}")
        if request_token is None:
            request_token = typer.prompt("request_token (or the whole redirect URL)")
        state_dir = home / "brokers" / "zerodha"
        session, path = exchange_request_token(config, env, state_dir, LiveClock(), request_token)
    except TradekitError as error:
        raise _fail(error) from None
    expires = session.expires_at.astimezone(IST)
    typer.echo(f"logged in as {session.user_id or 'unknown'}; token stored in {path} (owner-only)")
    typer.echo(f"the session expires {expires:%Y-%m-%d %H:%M} IST (Kite tokens last one day): log in again after that")


@group.command("fake-server")
def fake_server(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 0,
    day: Annotated[str | None, typer.Option(help="Trading day to generate, YYYY-MM-DD (default: today).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated NIFTY day.")] = 7,
    start: Annotated[str, typer.Option(help="Session time the server starts at, HH:MM (IST).")] = "09:15",
    speed: Annotated[float, typer.Option(help="How many times faster than the wall clock the session runs.")] = 1.0,
    tick_seconds: Annotated[float, typer.Option(help="Wall seconds between ticker frames.")] = 1.0,
    market_day: Annotated[Path | None, typer.Option("--market-day", help="Serve this market-day directory (docs/data-format.md) instead of a generated day.")] = None,
    rehearsal: Annotated[bool, typer.Option("--rehearsal", help="Serve the rehearsal day with known oi-momentum trades (2025-10-06).")] = False,
    clock_file: Annotated[Path | None, typer.Option("--clock-file", help="Share a simulated clock through this file with `tradekit run` (TRADEKIT_SIM_CLOCK): time moves when tradekit waits.")] = None,
) -> None:
    """Run a fake Kite (REST + ticker) on 127.0.0.1 to try tradekit without a Zerodha account."""
    from tradekit.clock import FileClock
    from tradekit.data.loader import load_day

    from tradekit_zerodha.fake import FakeKite, SyntheticNiftyDay
    from tradekit_zerodha.fake.clock import SessionClock
    from tradekit_zerodha.fake.marketday import market_day_source
    from tradekit_zerodha.fake.scenario import REHEARSAL_DAY, write_rehearsal_day

    try:
        if rehearsal and market_day is not None:
            raise ValueError("--rehearsal and --market-day: choose one")
        trading_day = date.fromisoformat(day) if day else (REHEARSAL_DAY if rehearsal else datetime.now(IST).date())
        hour, minute = (int(part) for part in start.split(":"))
        begin = datetime(trading_day.year, trading_day.month, trading_day.day, hour, minute, tzinfo=IST)
        if rehearsal:
            market_day = write_rehearsal_day(home_dir() / "brokers" / "zerodha" / "rehearsal", trading_day)
        market = market_day_source(load_day(market_day)) if market_day is not None else SyntheticNiftyDay(trading_day, seed=seed)
        clock: object
        if clock_file is not None:
            clock = FileClock(clock_file, start=None if clock_file.is_file() else begin)
        else:
            clock = SessionClock(begin, speed)
    except (ValueError, TradekitError) as error:
        typer.echo(f"error: --day/--start/--speed/--market-day/--clock-file: {error}", err=True)
        raise typer.Exit(2) from None
    fake = FakeKite(market, clock=clock, port=port)  # type: ignore[arg-type]
    token = fake.issue_access_token()
    fake.start()
    typer.echo(f"fake Kite listening on {fake.root} (ticker {fake.ticker_root}), trading day {market.day}")
    typer.echo("point tradekit at it with:")
    typer.echo(f"  export TRADEKIT__BROKERS__ZERODHA__ROOT={fake.root}")
    typer.echo(f"  export TRADEKIT__BROKERS__ZERODHA__TICKER_ROOT={fake.ticker_root}")
    typer.echo(f"  export KITE_API_KEY={fake.api_key} KITE_API_SECRET={fake.api_secret}")
    typer.echo(f"  export KITE_ACCESS_TOKEN={token}   # or run `tradekit zerodha login`")
    if clock_file is not None:
        typer.echo(f"  export TRADEKIT_SIM_CLOCK={clock_file}   # tradekit and the fake share this clock")
    typer.echo("Ctrl-C stops it.")
    try:
        while True:
            time.sleep(tick_seconds)
            fake.push_ticks()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
