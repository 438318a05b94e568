"""A per-day columnar cache of loaded market days: the second load of a day maps arrays.

Reading a generated NIFTY day (1.87M rows of Parquet) and running the hygiene
checks costs about a quarter of a CPU-second; a backtest over a year does it
250 times, on every rerun. The result of that work (each instrument's clean
series and the list of dropped rows) is a handful of flat arrays, so it is
kept as ``.npy`` files and the next load memory-maps them: a few milliseconds,
and the pages are shared with any other process replaying the same day.

Where: ``<tradekit home>/cache/days/<source dir hash>/<key hash>/`` (safe to
delete at any time). The key is the cache format version and the resolved
path, size, mtime and inode of the day's bars file, ``instruments.csv`` and
``day.toml``: any change to one of them (a rewrite, ``touch``, a replaced file)
makes a new key, and writing it removes the entries of older keys for that
day. An entry is written to a temporary directory and renamed into place, so
a reader never sees half an entry; a damaged or foreign entry is a miss, never
an error. Cached arrays are read-only.

Set ``TRADEKIT_DAY_CACHE=off`` to load every day from its source.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tradekit.model import Instrument

CACHE_VERSION = 1  # bump when the loader's hygiene or the layout below changes
MIN_BYTES = 1 << 20  # smaller bars files load faster than the cache would pay back
_COLUMNS = ("ts", "open", "high", "low", "close", "volume", "oi")
_META = "meta.json"


def enabled() -> bool:
    """False when ``TRADEKIT_DAY_CACHE`` is off/0/no/false."""
    return os.environ.get("TRADEKIT_DAY_CACHE", "on").strip().lower() not in ("off", "0", "no", "false")


def default_root() -> Path:
    from tradekit.paths import home_dir

    return home_dir() / "cache" / "days"


def _stamp(path: Path) -> list[Any]:
    info = path.stat()
    return [str(path.resolve()), info.st_size, info.st_mtime_ns, info.st_ino]


def entry_dir(root: Path, sources: Sequence[Path]) -> Path:
    """Where the entry for ``sources`` (bars file first) lives; raises OSError if one is missing."""
    key = json.dumps([CACHE_VERSION, [_stamp(Path(p)) for p in sources]])
    day = hashlib.sha256(str(Path(sources[0]).resolve().parent).encode()).hexdigest()[:16]
    return root / day / hashlib.sha256(key.encode()).hexdigest()[:24]


def read(
    root: Path, sources: Sequence[Path], instruments: Sequence[Instrument]
) -> tuple[list[tuple[Instrument, dict[str, np.ndarray]]], list[tuple[str, str, int]]] | None:
    """The cached series (instrument and its column arrays, in load order) and issues, or None on a miss."""
    try:
        entry = entry_dir(root, sources)
        meta = json.loads((entry / _META).read_text())
        if meta.get("version") != CACHE_VERSION:
            return None
        arrays = {name: np.load(entry / f"{name}.npy", mmap_mode="r") for name in meta["files"]}
    except (OSError, ValueError, KeyError):
        return None
    columns: dict[str, np.ndarray] = {}
    for column in _COLUMNS:
        stored = arrays[meta["columns"][column]]
        wanted = np.dtype(meta["dtypes"][column])
        columns[column] = np.asarray(stored) if stored.dtype == wanted else stored.astype(wanted)
    out = []
    for index, instrument_id, start, stop in meta["series"]:
        if not 0 <= index < len(instruments) or instruments[index].id != instrument_id:
            return None  # not written from these instruments: a miss
        out.append((instruments[index], {name: values[start:stop] for name, values in columns.items()}))
    issues = [(str(symbol), str(reason), int(count)) for symbol, reason, count in meta["issues"]]
    return out, issues


def read_ahead(root: Path, sources: Sequence[Path]) -> bool:
    """Ask the kernel to start reading the cached entry for ``sources`` now (``posix_fadvise`` WILLNEED).

    A backtest calls it for the next day while it trades this one: the arrays
    then come from memory, not the disk, when that day is loaded. No thread
    and no waiting; False (nothing done) for a miss or where the call is
    not available.
    """
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return False
    try:
        entry = entry_dir(root, sources)
        for name in json.loads((entry / _META).read_text())["files"]:
            descriptor = os.open(entry / f"{name}.npy", os.O_RDONLY)
            try:
                advise(descriptor, 0, 0, os.POSIX_FADV_WILLNEED)
            finally:
                os.close(descriptor)
    except (OSError, ValueError, KeyError):
        return False
    return True


def write(
    root: Path,
    sources: Sequence[Path],
    instruments: Sequence[Instrument],
    series: Sequence[tuple[Instrument, dict[str, np.ndarray]]],
    issues: Sequence[tuple[str, str, int]],
) -> bool:
    """Store a loaded day; False (and nothing left behind) when it cannot be written."""
    try:
        entry = entry_dir(root, sources)
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=entry.parent))
    except OSError:
        return False
    try:
        positions = {id(item): number for number, item in enumerate(instruments)}
        rows, offset = [], 0
        for instrument, arrays in series:
            count = int(arrays["ts"].shape[0])
            rows.append([positions[id(instrument)], instrument.id, offset, offset + count])
            offset += count
        files: dict[str, str] = {}  # column -> file; identical columns (a single price) share one
        stored: list[tuple[str, np.ndarray]] = []
        dtypes: dict[str, str] = {}
        for column in _COLUMNS:
            joined = _concatenate([arrays[column] for _, arrays in series], column)
            dtypes[column] = joined.dtype.str
            same = next((name for name, values in stored if values.dtype == joined.dtype and np.array_equal(values, joined)), None)
            if same is None:
                same = column
                stored.append((column, joined))
                np.save(staging / f"{column}.npy", _narrow(joined), allow_pickle=False)
            files[column] = same
        meta = {"version": CACHE_VERSION, "sources": [str(Path(p).resolve()) for p in sources],
                "files": sorted(set(files.values())), "columns": files, "dtypes": dtypes, "series": rows,
                "issues": [list(issue) for issue in issues]}
        (staging / _META).write_text(json.dumps(meta))
        try:
            staging.rename(entry)
        except OSError:
            if not (entry / _META).is_file():
                raise
            shutil.rmtree(staging, ignore_errors=True)  # another process stored the same key first
        for stale in entry.parent.iterdir():
            if stale != entry and not stale.name.startswith(".tmp-"):
                shutil.rmtree(stale, ignore_errors=True)  # older keys of this day: their source changed
        return True
    except (OSError, ValueError):
        shutil.rmtree(staging, ignore_errors=True)
        return False


def _concatenate(parts: list[np.ndarray], column: str) -> np.ndarray:
    if parts:
        return np.concatenate(parts)
    return np.zeros(0, dtype=np.float64 if column in ("open", "high", "low", "close") else np.int64)


def _narrow(values: np.ndarray) -> np.ndarray:
    """int64 columns that fit in int32 (volumes, open interest) are stored in half the space; widened on read."""
    if values.dtype == np.int64 and values.size:
        low, high = int(values.min()), int(values.max())
        if np.iinfo(np.int32).min <= low and high <= np.iinfo(np.int32).max:
            return values.astype(np.int32)
    return values
