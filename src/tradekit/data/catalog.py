"""Finding market days: the bundled samples and any ``<root>/<market>/<date>/`` tree."""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from tradekit.data import format as fmt
from tradekit.data.loader import bars_file
from tradekit.errors import DataError


@dataclass(frozen=True)
class DayInfo:
    """What ``tradekit data list`` shows for one day, read without loading the bars."""

    market: str
    day: date
    path: Path
    regime: str
    instruments: int
    rows: int
    description: str = ""
    exercises: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "market": self.market,
            "date": self.day.isoformat(),
            "path": str(self.path),
            "regime": self.regime,
            "instruments": self.instruments,
            "rows": self.rows,
            "description": self.description,
            "exercises": list(self.exercises),
        }


def bundled_root() -> Path:
    """The sample days shipped inside the package (``tradekit/data/samples``)."""
    return Path(str(importlib.resources.files("tradekit.data") / "samples"))


def _count_rows(path: Path) -> int:
    if path.suffix == ".parquet":
        return int(pq.ParquetFile(path).metadata.num_rows)
    count = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
    return max(count - 1, 0)


_INFO_MEMO: dict[Path, tuple[tuple[object, ...], DayInfo]] = {}


def day_info(directory: Path) -> DayInfo:
    """Summarise one day directory from its manifest and file metadata.

    Remembered per directory while its three files keep their size, mtime and inode: a
    backtest lists the data once per day it runs, and reading every manifest and Parquet
    footer each time made a year's backtest quadratic in its days.
    """
    try:
        bars = bars_file(directory)
        stamps = tuple((p.name, st.st_size, st.st_mtime_ns, st.st_ino)
                       for p in (directory / fmt.MANIFEST, directory / fmt.INSTRUMENTS, bars) for st in (p.stat(),))
    except (OSError, DataError):
        return _day_info(directory)  # let the real read raise its own error
    memo = _INFO_MEMO.get(directory)
    if memo is not None and memo[0] == stamps:
        return memo[1]
    info = _day_info(directory)
    _INFO_MEMO[directory] = (stamps, info)
    return info


def _day_info(directory: Path) -> DayInfo:
    manifest = fmt.read_manifest(directory)
    with (directory / fmt.INSTRUMENTS).open(encoding="utf-8") as handle:
        instruments = max(sum(1 for line in handle if line.strip()) - 1, 0)
    return DayInfo(
        market=str(manifest["market"]),
        day=manifest["date"],  # type: ignore[arg-type]
        path=directory,
        regime=str(manifest.get("regime", "")),
        instruments=instruments,
        rows=_count_rows(bars_file(directory)),
        description=str(manifest.get("description", "")),
        exercises=tuple(manifest.get("exercises", ())),  # type: ignore[arg-type]
    )


def _day_directories(root: Path) -> list[Path]:
    found = []
    for market in sorted(fmt.MARKETS):
        base = root / market
        if base.is_dir():
            found += sorted(p for p in base.iterdir() if p.is_dir() and (p / fmt.MANIFEST).is_file())
    return found


def list_days(root: Path | None = None) -> list[DayInfo]:
    """Every market day under ``root`` (None: the bundled samples), by market then date."""
    base = bundled_root() if root is None else Path(root)
    return [day_info(directory) for directory in _day_directories(base)]


def find_day(market: str, day: date | None = None, root: Path | None = None) -> Path:
    """The directory of ``market``'s day (None: the first available); DataError says what was searched."""
    base = bundled_root() if root is None else Path(root)
    market = market.upper()
    if market not in fmt.MARKETS:
        raise DataError(f"unknown market {market!r}; known: {', '.join(sorted(fmt.MARKETS))}")
    candidates = [p for p in _day_directories(base) if p.parent.name == market]
    if day is not None:
        candidates = [p for p in candidates if p.name == day.isoformat()]
    if not candidates:
        wanted = f"{market} {day.isoformat()}" if day else f"any {market} day"
        raise DataError(f"no market day found for {wanted} under {base / market}")
    return candidates[0]
