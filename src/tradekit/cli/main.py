"""The ``tradekit`` command: global options, error handling, command groups."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from tradekit import __version__
from tradekit.errors import TradekitError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Paper and live algorithmic trading that never forgets a position.",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tradekit {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    home: Annotated[Optional[Path], typer.Option("--home", envvar="TRADEKIT_HOME", help="Directory holding config, store and tokens.")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    if home is not None:
        os.environ["TRADEKIT_HOME"] = str(home)


def _register() -> None:
    from tradekit.cli import config_cmd, control_cmd, data, doctor, listings, paper, plugins_cmd, report_cmd, run_cmd, sync_cmd

    run_cmd.register(app)
    control_cmd.register(app)
    listings.register(app)
    report_cmd.register(app)
    plugins_cmd.register(app)
    doctor.register(app)
    sync_cmd.register(app)
    app.add_typer(config_cmd.app, name="config")
    app.add_typer(data.app, name="data")
    app.add_typer(paper.app, name="paper")


def main() -> None:
    _register()
    try:
        from tradekit.plugins.manager import get_plugin_manager

        get_plugin_manager().register_commands(app)
    except TradekitError as error:
        _fail(error)
    try:
        app()  # standalone: usage errors and --help handled by typer, our errors come through
    except TradekitError as error:
        _fail(error)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)


def _fail(error: TradekitError) -> None:
    if os.environ.get("TRADEKIT_DEBUG") == "1":
        raise error
    sys.stderr.write(f"error: {error}\n")
    sys.exit(error.exit_code)
