"""What every report query shares: the store it reads, the filters, and SQL for an account's mode and an
instrument's market (time zone, currency), from the id prefixes the store keeps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from tradekit.store.trades_daily import INDIA_EXCHANGES  # one list for the store's summary and the report

_INDIA = "(" + ", ".join(f"'{e}'" for e in INDIA_EXCHANGES) + ")"
TZ_SQL = f"CASE WHEN split_part(instrument_id, ':', 1) IN {_INDIA} THEN 'Asia/Kolkata' ELSE 'America/New_York' END"
"""The exchange time zone of an instrument id, from its exchange prefix."""
INDIA_SQL = f"split_part(instrument_id, ':', 1) IN {_INDIA}"
"""Whether an instrument id is on an Indian exchange (Indian time, rupees)."""


def mode_sql(column: str = "account") -> str:
    """paper or live, from the account prefix."""
    return f"CASE WHEN {column} LIKE 'paper:%' THEN 'paper' ELSE 'live' END"


MODE_SQL = mode_sql()

FIRST_DAY = date(1, 1, 1)
LAST_DAY = date(9999, 12, 31)


class Queryable(Protocol):
    def query_with_columns(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]: ...

    def cursor(self) -> Any: ...


@dataclass(frozen=True)
class ReportFilters:
    """What the report covers. Dates are exchange-local trading days, both ends included."""

    start: date | None = None
    end: date | None = None
    strategies: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    mode: str | None = None  # "paper" | "live" | None for both (still reported apart)
    risk_free: float = 0.0  # annual rate, 0.065 for 6.5 %
    periods_per_year: int = 252

    def __post_init__(self) -> None:
        if self.mode not in (None, "paper", "live"):
            raise ValueError(f"mode must be paper or live, got {self.mode!r}")
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"--from {self.start} is after --to {self.end}")
        if self.periods_per_year <= 0:
            raise ValueError(f"periods_per_year must be positive, got {self.periods_per_year}")


def in_clause(column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
    if not values:
        return "TRUE", []
    return f"{column} IN ({', '.join('?' * len(values))})", list(values)


def where_clause(filters: ReportFilters, *, strategy_column: str | None = "strategy", account_column: str = "account") -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    clause, extra = in_clause(account_column, filters.accounts)
    parts.append(clause)
    params += extra
    if strategy_column is not None:
        clause, extra = in_clause(f"coalesce({strategy_column}, '')", filters.strategies)
        parts.append(clause)
        params += extra
    if filters.mode is not None:
        parts.append(f"{mode_sql(account_column)} = ?")
        params.append(filters.mode)
    return " AND ".join(parts), params


def fetch_rows(store: Queryable, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    columns, rows = store.query_with_columns(sql, params)
    return [dict(zip(columns, row)) for row in rows]


def execute(store: Queryable, sql: str, params: Sequence[Any] = ()) -> None:
    store.query_with_columns(sql, params)
