"""The journal's durable edge: an append-only file of journal records, fsynced before tradekit acts.

A DuckDB transaction that appends events and updates the projections costs
milliseconds per statement (docs/performance.md, "(d)"), too slow for the
step between a tick and the order it causes. So a durable step writes its
events here first (one ``write`` and one ``fsync``); the same events and the
projection rows follow into DuckDB behind it, in one transaction, after
tradekit has acted (at the end of the step) or in the replay's batch.

Each line is one commit: ``<json>\\t<crc32 hex>\\n`` where the JSON holds the
first sequence number and the encoded events. Opening the store applies
any record DuckDB does not hold yet (sequence numbers at or above its next
one) and then empties the file. A line without its checksum, or with a
wrong one, can only be the last write of a killed process: its fsync never
returned, so nothing was acted on because of it, and it is dropped.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tradekit.errors import StoreError


@dataclass(frozen=True)
class LoggedEvent:
    """One journal row, encoded: what DuckDB's ``events`` table will hold."""

    seq: int
    ts: datetime
    type: str
    account: str
    payload: str  # JSON text


class AheadLog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return self._fd

    def append(self, rows: Sequence[LoggedEvent]) -> None:
        """Write one record and fsync it: when this returns, the events survive a kill -9 or a power cut."""
        if not rows:
            return
        body = json.dumps({"seq": rows[0].seq, "events": [[r.type, r.ts.isoformat(), r.account, r.payload] for r in rows]},
                          separators=(",", ":"))
        line = f"{body}\t{zlib.crc32(body.encode()):08x}\n".encode()
        fd = self._open()
        written = os.write(fd, line)
        if written != len(line):
            raise StoreError(f"journal log {self.path}: short write ({written} of {len(line)} bytes); disk full?")
        os.fsync(fd)

    def read(self) -> list[LoggedEvent]:
        """Every intact record, in order; a torn last line is dropped, a damaged earlier one is an error."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        rows: list[LoggedEvent] = []
        lines = data.split(b"\n")
        for number, raw in enumerate(lines, start=1):
            if not raw:
                continue
            record = _parse(raw)
            if record is None:
                if number >= len(lines) - 1:  # the last line (a file normally ends in "\n"): torn by a kill
                    break
                raise StoreError(f"journal log {self.path} is damaged at line {number}; "
                                 "the store was left untouched (move the file away to open the store without it)")
            first = int(record["seq"])
            for offset, (type_name, ts, account, payload) in enumerate(record["events"]):
                rows.append(LoggedEvent(first + offset, datetime.fromisoformat(ts), type_name, account, payload))
        return rows

    def clear(self) -> None:
        """Everything in it is in DuckDB now: start empty (the truncation is fsynced too)."""
        fd = self._open()
        os.ftruncate(fd, 0)
        os.fsync(fd)

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def truncate(self, size: int) -> None:
        """Take back what was appended after ``size`` bytes (a step the store refused before anyone acted on it)."""
        fd = self._open()
        os.ftruncate(fd, size)
        os.fsync(fd)

    def has_records(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _parse(raw: bytes) -> dict[str, Any] | None:
    body, tab, checksum = raw.rpartition(b"\t")
    if not tab or len(checksum) != 8:
        return None
    try:
        if int(checksum, 16) != zlib.crc32(body):
            return None
        record = json.loads(body)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "seq" in record and "events" in record else None
