"""``tradekit config``: init, show (secrets masked), set (comments kept)."""

from __future__ import annotations

from typing import Annotated

import typer

from tradekit.cli import output

app = typer.Typer(help="Create, show and edit tradekit.toml.", no_args_is_help=True)


@app.command("init")
def init(force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False) -> None:
    """Write a commented starter tradekit.toml in the home directory."""
    from tradekit.config import init_config
    from tradekit.paths import home_dir

    output.line(f"wrote {init_config(home_dir(), force=force)}")


@app.command("show")
def show(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The merged configuration (defaults < file < environment), secrets masked."""
    import tomlkit

    from tradekit.config import load_config, masked
    from tradekit.paths import home_dir

    home = home_dir()
    config = load_config(home)
    data = masked(dict(config.data))
    if as_json:
        output.print_json({"home": str(home), "file": str(config.source) if config.source else None, "config": data})
        return
    output.line(f"# home: {home}")
    output.line(f"# file: {config.source or '(none: defaults and environment only)'}")
    output.line(tomlkit.dumps(_plain(data)).rstrip())


@app.command("set")
def set_key(key: str, value: str) -> None:
    """Set KEY (dotted, e.g. paper.capital) to VALUE in tradekit.toml, keeping comments."""
    from tradekit.config import set_value
    from tradekit.paths import home_dir

    output.line(f"updated {set_value(home_dir(), key, value)}")


def _plain(data: object) -> object:
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    return data
