"""``tradekit plugins``: what is installed."""

from __future__ import annotations

from typing import Annotated

import typer

from tradekit.cli import output


def register(app: typer.Typer) -> None:
    app.command("plugins")(plugins)


def plugins(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List plugins with version and hooks, and the brokers and strategies they register."""
    from tradekit.plugins.manager import get_plugin_manager

    manager = get_plugin_manager()
    infos = manager.plugins()
    registries = {kind: sorted(r.entries) for kind, r in manager.registries.items()}
    if as_json:
        output.print_json({
            "plugins": [{"name": i.name, "version": i.version, "hooks": list(i.hooks), "builtin": i.builtin} for i in infos],
            **registries,
        })
        return
    output.table("plugins", ["name", "version", "hooks", "built-in"],
                 [(i.name, i.version or "", ", ".join(i.hooks), "yes" if i.builtin else "") for i in infos])
    for kind, names in registries.items():
        output.line(f"{kind}: {', '.join(names) or 'none'}")
