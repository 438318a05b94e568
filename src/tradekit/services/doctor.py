"""``doctor``: rebuild every projection from the journal and compare with what the store holds."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tradekit.model.book import Book
from tradekit.store import rows as R
from tradekit.store.schema import PROJECTION_TABLES


@dataclass
class DoctorReport:
    store: str
    events: int
    migrations: list[str]
    differences: dict[str, dict[str, list[Any]]] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.differences


def rebuild(store: Any) -> tuple[Book, list[Any], list[Any]]:
    book = Book()
    trades: list[Any] = []
    fills: list[Any] = []
    for _, event in store.events():
        book.apply(event)
        dirty = book.take_dirty()
        trades.extend(dirty.trades)
        fills.extend(dirty.fills)
    return book, trades, fills


def check(store: Any) -> DoctorReport:
    book, trades, fills = rebuild(store)
    expected = R.all_rows(book, trades, fills)
    report = DoctorReport(store=str(store.path), events=store.event_count(), migrations=store.migrations())
    for table in PROJECTION_TABLES:
        want = Counter(R.normalise(expected[table]))
        have = Counter(R.normalise(store.table_rows(table)))
        missing = list((want - have).elements())
        extra = list((have - want).elements())
        if missing or extra:
            report.differences[table] = {"missing_in_store": missing, "unexpected_in_store": extra}
    return report
