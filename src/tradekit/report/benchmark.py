"""Benchmark: an index (NIFTY 50, SPY) read from market-day files, compared from the account's first trading day.

The index comes from the same data files tradekit replays
(``<root>/<market>/<date>/bars.*``, docs/data-format.md); only the rows of
the index symbol are read, by DuckDB, so a NIFTY day with a million option
rows costs milliseconds. The comparison always starts at the account's first
trading day (the first ``DayOpened`` in the journal), whatever ``--from``
says, so a later run or a narrower report never moves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from tradekit.data import format as fmt
from tradekit.errors import DataError

DEFAULT_BENCHMARKS = {"NSE": "NIFTY 50", "NYSE": "SPY"}
"""The index each market's accounts are compared with unless ``[report] benchmark`` says otherwise."""


def market_of(tz: str | None) -> str | None:
    """The market of an account from its instruments' time zone (query.TZ_SQL)."""
    if tz is None:
        return None
    return "NSE" if tz == "Asia/Kolkata" else "NYSE"


@dataclass(frozen=True)
class IndexDay:
    day: date
    open: float  # first bar's open: the level when the session (and the account's day) began
    close: float  # last bar's close


def _day_directories(root: Path, market: str, start: date, end: date) -> list[tuple[date, Path]]:
    base = root / market
    if not base.is_dir():
        return []
    found = []
    for path in base.iterdir():
        try:
            day = date.fromisoformat(path.name)
        except ValueError:
            continue
        if start <= day <= end and (path / fmt.MANIFEST).is_file():
            found.append((day, path))
    return sorted(found)


def index_days(root: Path, market: str, symbol: str, start: date, end: date) -> list[IndexDay]:
    """The index's open and close on every day between ``start`` and ``end`` that has data for it."""
    days = _day_directories(root, market, start, end)
    groups: dict[str, list[tuple[date, Path]]] = {"parquet": [], "csv": []}
    for day, path in days:
        if (path / fmt.BARS_PARQUET).is_file():
            groups["parquet"].append((day, path / fmt.BARS_PARQUET))
        elif (path / fmt.BARS_CSV).is_file():
            groups["csv"].append((day, path / fmt.BARS_CSV))
    result: dict[date, IndexDay] = {}
    connection = duckdb.connect()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        for kind, files in groups.items():
            if not files:
                continue
            by_name = {str(path): day for day, path in files}
            reader = "read_parquet" if kind == "parquet" else "read_csv"
            source = f"{reader}(?, filename = true, union_by_name = true)"
            try:
                columns = {row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM {source}", [list(by_name)]).fetchall()}
                open_col = "open" if "open" in columns else "price"
                close_col = "close" if "close" in columns else "price"
                rows = connection.execute(
                    f"SELECT filename, arg_min({open_col}, CAST(ts AS TIMESTAMPTZ)), arg_max({close_col}, CAST(ts AS TIMESTAMPTZ)) "
                    f"FROM {source} WHERE CAST(symbol AS VARCHAR) = ? OR CAST(symbol AS VARCHAR) LIKE ? GROUP BY filename",
                    [list(by_name), symbol, f"%:{symbol}"],
                ).fetchall()
            except duckdb.Error as error:
                raise DataError(f"benchmark {symbol}: cannot read bars under {root / market}: {str(error).splitlines()[0]}") from None
            for filename, first_open, last_close in rows:
                day = by_name[filename]
                if first_open is not None and last_close is not None:
                    result[day] = IndexDay(day, float(first_open), float(last_close))
    finally:
        connection.close()
    return [result[day] for day in sorted(result)]


class IndexLevels:
    """Index levels for one report: each (market, symbol) is read from the files once, over the widest range asked for.

    Reading the bars files costs far more than the arithmetic (0.4 s of a
    1,000,000-trade report went to reading the same NIFTY days five times);
    ``want`` announces the ranges, ``between`` answers from one read.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._wanted: dict[tuple[str, str], tuple[date, date]] = {}
        self._read: dict[tuple[str, str], tuple[date, date, list[IndexDay]]] = {}

    def want(self, market: str, symbol: str, start: date, end: date) -> None:
        low, high = self._wanted.get((market, symbol), (start, end))
        self._wanted[(market, symbol)] = (min(low, start), max(high, end))

    def between(self, market: str, symbol: str, start: date, end: date) -> list[IndexDay]:
        key = (market, symbol)
        cached = self._read.get(key)
        if cached is None or not (cached[0] <= start and end <= cached[1]):
            low, high = self._wanted.get(key, (start, end))
            low, high = min(low, start), max(high, end)
            cached = self._read[key] = (low, high, index_days(self.root, market, symbol, low, high))
        return [level for level in cached[2] if start <= level.day <= end]


def compare(
    *,
    account: str,
    first_day: date | None,
    capital: float | None,
    final_equity: float | None,
    last_day: date | None,
    symbol: str,
    market: str,
    root: Path,
    levels: IndexLevels | None = None,
) -> dict[str, Any]:
    """Account return vs the index from the account's first trading day to ``last_day``; the excess is the difference."""
    row: dict[str, Any] = {
        "account": account, "benchmark": symbol, "market": market, "first_trading_day": first_day, "last_day": last_day,
        "benchmark_start": None, "benchmark_end": None, "benchmark_start_level": None, "benchmark_end_level": None,
        "benchmark_return": None, "account_return": None, "excess_return": None, "note": "",
    }  # fmt: skip
    if first_day is None or last_day is None or capital in (None, 0) or final_equity is None:
        row["note"] = "no trading days"
        return row
    row["account_return"] = final_equity / capital - 1
    found = (levels or IndexLevels(root)).between(market, symbol, first_day, last_day)
    if not found:
        row["note"] = f"no {symbol} data under {root / market} between {first_day} and {last_day}"
        return row
    first, last = found[0], found[-1]
    if first.day != first_day:
        row["note"] = f"{symbol} has no data on {first_day}; compared from {first.day}"
    row.update(
        benchmark_start=first.day, benchmark_end=last.day, benchmark_start_level=first.open, benchmark_end_level=last.close,
        benchmark_return=last.close / first.open - 1,
    )
    row["excess_return"] = row["account_return"] - row["benchmark_return"]
    return row


def curve(levels: list[IndexDay], days: list[date], capital: float) -> list[float | None]:
    """The benchmark as money: ``capital`` invested at the first level, valued at each day's close (None before data)."""
    if not levels:
        return [None] * len(days)
    start = levels[0].open
    closes = {level.day: level.close for level in levels}
    values: list[float | None] = []
    last: float | None = None
    for day in days:
        if day in closes:
            last = capital * closes[day] / start
        elif day < levels[0].day:
            last = None
        values.append(last)
    return values
