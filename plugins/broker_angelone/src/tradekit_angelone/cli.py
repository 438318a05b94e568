"""``tradekit angelone login`` and ``tradekit angelone fake-server``: thin wrappers, only this module prints."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from tradekit.errors import TradekitError

ENV_PREFIX = "TRADEKIT__BROKERS__ANGELONE__"


def _broker() -> Any:
    from tradekit.clock import session_clock
    from tradekit.config import load_config
    from tradekit.paths import home_dir
    from tradekit.ports import BrokerContext

    from tradekit_angelone.broker import AngelOneBroker

    home = home_dir()
    context = BrokerContext(
        name="angelone", settings=load_config(home).section("brokers", "angelone"), home=home, clock=session_clock(), env=dict(os.environ),
        log=lambda message: print(message, file=sys.stderr, flush=True),
    )
    return AngelOneBroker(context)


def _fail(error: TradekitError) -> typer.Exit:
    if os.environ.get("TRADEKIT_DEBUG") == "1":
        raise error
    print(f"error: {error}", file=sys.stderr, flush=True)
    return typer.Exit(error.exit_code)


def login(
    refresh: Annotated[bool, typer.Option("--refresh", help="Renew the jwt with the saved refresh token instead of logging in.")] = False,
) -> None:
    """Log in to SmartAPI (client code, PIN and TOTP from the env vars the config names) and save the session."""
    try:
        broker = _broker()
        session = broker.refresh_session() if refresh else broker.login()
    except TradekitError as error:
        raise _fail(error) from None
    action = "refreshed the session of" if refresh else "logged in as"
    print(f"angelone: {action} {session.client_code}; session saved under {broker.context.state_dir}", flush=True)


def fake_server(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 0,
    day: Annotated[str | None, typer.Option(help="Trading day to generate (YYYY-MM-DD); today by default.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated NIFTY day.")] = 7,
    market_day: Annotated[Path | None, typer.Option(help="Serve a day file written by tradekit's data generator.")] = None,
    api_key: Annotated[str, typer.Option(help="API key the fake accepts.")] = "fake-api-key",
    client_code: Annotated[str, typer.Option(help="Client code the fake accepts.")] = "F12345",
    pin: Annotated[str, typer.Option(help="PIN the fake accepts.")] = "1234",
    totp_secret: Annotated[str | None, typer.Option(help="TOTP secret (base32); a random one when omitted.")] = None,
    fixed_clock: Annotated[bool, typer.Option("--fixed-clock", help="Keep the fake's time at 09:20 until set over /_fake/time.")] = False,
    clock_file: Annotated[Path | None, typer.Option("--clock-file", help="Follow the simulated clock in FILE (tradekit's FileClock; created at 09:00 of --day when missing); run tradekit with TRADEKIT_SIM_CLOCK=FILE.")] = None,
) -> None:
    """Serve a fake SmartAPI on 127.0.0.1 for dry runs: prints the settings and env vars to point tradekit at it."""
    from tradekit_angelone.fake import FakeSmartAPI, MarketDaySource, SyntheticNiftyDay

    try:
        if market_day is not None:
            from tradekit.data import load_day

            source: Any = MarketDaySource(load_day(market_day))
        else:
            source = SyntheticNiftyDay(date.fromisoformat(day) if day else date.today(), seed=seed)
    except (ValueError, TradekitError) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        raise typer.Exit(2) from None
    clock: Any = None
    if clock_file is not None:
        from datetime import datetime, time

        from tradekit.clock import FileClock

        from tradekit_angelone.fake.market import IST

        try:
            start = None if clock_file.is_file() else datetime.combine(source.day, time(9, 0), tzinfo=IST)
            clock = FileClock(clock_file, start)
        except (OSError, TradekitError) as error:
            print(f"error: --clock-file: {error}", file=sys.stderr, flush=True)
            raise typer.Exit(2) from None
    fake = FakeSmartAPI(
        source, api_key=api_key, client_code=client_code, pin=pin, totp_secret=totp_secret, port=port,
        follow_wall_clock=not fixed_clock and clock is None, clock=clock,
    )
    with fake:
        print(f"fake SmartAPI for {source.day} listening on {fake.url}", flush=True)
        print(f"export {ENV_PREFIX}ROOT={fake.root}", flush=True)
        print(f"export {ENV_PREFIX}SCRIP_MASTER_URL={fake.scrip_master_url}", flush=True)
        if clock_file is not None:
            print(f"export TRADEKIT_SIM_CLOCK={clock_file.resolve()}", flush=True)
        print(f"export ANGELONE_API_KEY={api_key} ANGELONE_CLIENT_CODE={client_code} ANGELONE_PIN={pin} ANGELONE_TOTP_SECRET={fake.totp_secret}", flush=True)
        print("then: tradekit angelone login; app trades: POST /_fake/app/trade; faults: POST /_fake/faults; Ctrl-C stops", flush=True)
        try:
            import threading

            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr, flush=True)


def build_app() -> typer.Typer:
    group = typer.Typer(no_args_is_help=True, add_completion=False)
    group.command("login")(login)
    group.command("fake-server")(fake_server)
    return group
