"""Fixtures for the report tests: a Ledger on the isolated home's store, and the hand-computed scenario."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tradekit.testing.ledger import Ledger, write_scenario


@pytest.fixture
def ledger(isolated_home: Path) -> Iterator[Ledger]:
    """A Ledger on the isolated home's own store (``tradekit.duckdb``), closed after the test."""
    book = Ledger(isolated_home / "tradekit.duckdb")
    yield book
    book.close()


@pytest.fixture
def scenario(ledger: Ledger) -> Ledger:
    write_scenario(ledger)
    ledger.close()
    return ledger
