"""``tradekit ps60 report``: the day's ps60 analytics, read from the store.

The analytics travel inside the strategy state, which the engine journals
with every checkpoint; the last checkpoint of a day therefore holds that
day's final numbers, for any past day, without running the strategy.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Optional

import typer

from tradekit_ps60.analytics import report_lines, summarize

app = typer.Typer(help="ps60 (pivot breakouts): analytics of the days it traded.", no_args_is_help=True)

LAST_STATE_PER_DAY = (
    "SELECT account, payload->>'day' AS day, payload->'state' AS state FROM events "
    "WHERE type = 'StrategyCheckpoint' AND payload->>'strategy' = ? "
    "QUALIFY row_number() OVER (PARTITION BY account, payload->>'day' ORDER BY seq DESC) = 1 "
    "ORDER BY day, account"
)


def day_states(store: Any, strategy: str = "ps60") -> list[tuple[str, str, dict[str, Any]]]:
    """(account, day, last saved state) for every day the strategy ran, oldest first."""
    rows = store.query(LAST_STATE_PER_DAY, (strategy,))
    return [(account, day, json.loads(state) if isinstance(state, str) else state) for account, day, state in rows]


@app.command("report")
def report_command(
    day: Annotated[Optional[str], typer.Option(help="Trading day YYYY-MM-DD (default: the latest).")] = None,
    all_days: Annotated[bool, typer.Option("--all", help="Every day, oldest first.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Entry blocks by rule, entries by path, daily P&L and trade count, and each trade."""
    from tradekit.cli import output
    from tradekit.errors import ConfigError
    from tradekit.services.setup import workspace

    if day is not None:
        try:
            date.fromisoformat(day)
        except ValueError:
            raise ConfigError(f"--day: expected YYYY-MM-DD, got {day!r}") from None
    store = workspace().open_store(readonly=True)
    try:
        states = day_states(store)
    finally:
        store.close()
    if day is not None:
        states = [item for item in states if item[1] == day]
    elif not all_days:
        states = states[-1:]
    if as_json:
        output.print_json([{"account": a, "day": d, **summarize(s)} for a, d, s in states])
        return
    if not states:
        output.line(f"ps60 has no saved day{' ' + day if day else ''} in this store")
        return
    for account, _, state in states:
        for text in report_lines(state):
            output.line(f"{account} {text}" if text.startswith("ps60") else text)
