"""``tradekit doctor``: the store checked against its own journal."""

from __future__ import annotations

from typing import Annotated

import typer

from tradekit.cli import output


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)


def doctor(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Rebuild the projections from the journal and report any difference (exit 1 if any)."""
    from tradekit.services.doctor import check
    from tradekit.services.setup import workspace

    store = workspace().open_store(readonly=True)
    try:
        report = check(store)
    finally:
        store.close()
    if as_json:
        output.print_json({"store": report.store, "events": report.events, "migrations": report.migrations,
                           "clean": report.clean, "differences": report.differences})
    else:
        output.line(f"store {report.store}: {report.events} events, migrations {', '.join(report.migrations)}")
        if report.clean:
            output.line("projections match the journal")
        for table, diff in report.differences.items():
            output.line(f"{table}: {len(diff['missing_in_store'])} row(s) missing, {len(diff['unexpected_in_store'])} unexpected")
    if not report.clean:
        raise typer.Exit(1)
