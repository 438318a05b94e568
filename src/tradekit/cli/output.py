"""Output rules: rich tables for people, JSON for scripts, diagnostics to stderr, always line-buffered."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

for stream in (sys.stdout, sys.stderr):
    try:
        stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        pass

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_default, indent=2, sort_keys=False) + "\n")
    sys.stdout.flush()


def line(text: str) -> None:
    """One log line, shown at once even through a pipe."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def note(text: str) -> None:
    errors.print(text)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column)
    count = 0
    for row in rows:
        grid.add_row(*("" if value is None else f"{value:,.2f}" if isinstance(value, Decimal) else str(value) for value in row))
        count += 1
    if count == 0:
        console.print(f"{title}: none")
    else:
        console.print(grid)
