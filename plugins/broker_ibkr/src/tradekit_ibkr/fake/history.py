"""reqHistoricalData for the fake: parse IB's end time, duration and bar size; aggregate 5-second bars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tradekit_ibkr.fake.market import BAR_SECONDS, Bar, PriceSource

NEW_YORK = ZoneInfo("America/New_York")
BAR_SIZES = {
    "5 secs": 5, "10 secs": 10, "15 secs": 15, "30 secs": 30, "1 min": 60, "2 mins": 120, "3 mins": 180,
    "5 mins": 300, "10 mins": 600, "15 mins": 900, "20 mins": 1200, "30 mins": 1800, "1 hour": 3600,
    "1 day": 86400,
}
DURATION_UNITS = {"S": 1, "D": 86400, "W": 7 * 86400}


def parse_end(text: str, now: datetime) -> datetime:
    """IB's ``endDateTime`` / execution filter time: empty (now), ``YYYYmmdd HH:MM:SS [TZ]`` or ``YYYYmmdd-HH:MM:SS`` (UTC)."""
    text = text.strip()
    if not text:
        return now
    if "-" in text[:9] and len(text) >= 17:
        return datetime.strptime(text[:17], "%Y%m%d-%H:%M:%S").replace(tzinfo=UTC)
    parts = text.split()
    moment = datetime.strptime(" ".join(parts[:2]), "%Y%m%d %H:%M:%S")
    zone = ZoneInfo(parts[2]) if len(parts) > 2 else NEW_YORK
    return moment.replace(tzinfo=zone).astimezone(UTC)


def parse_duration(text: str) -> timedelta:
    number, _, unit = text.strip().partition(" ")
    if unit not in DURATION_UNITS or not number.isdigit():
        raise ValueError(f"unsupported duration {text!r} (use N S, N D or N W)")
    return timedelta(seconds=int(number) * DURATION_UNITS[unit])


def aggregate(bars: list[Bar], seconds: int) -> list[tuple[datetime, float, float, float, float, int]]:
    """Group 5-second bars into ``seconds``-long bars aligned to the epoch (days: to the first bar)."""
    groups: dict[datetime, list[Bar]] = {}
    for bar in bars:
        if seconds >= 86400:
            key = bars[0].ts
        else:
            epoch = int(bar.ts.timestamp())
            key = datetime.fromtimestamp(epoch - epoch % seconds, UTC)
        groups.setdefault(key, []).append(bar)
    return [(ts, g[0].open, max(b.high for b in g), min(b.low for b in g), g[-1].close, sum(b.volume for b in g))
            for ts, g in sorted(groups.items())]


def rows_for_request(source: PriceSource, symbol: str, end_text: str, bar_size: str, duration: str,
                     format_date: str, now: datetime) -> tuple[list[list[object]], str, str]:
    """Rows of ``date, o, h, l, c, volume, wap, barCount`` for finished bars, and the start/end labels."""
    if bar_size not in BAR_SIZES:
        raise ValueError(f"unsupported bar size {bar_size!r}")
    seconds = BAR_SIZES[bar_size]
    end = min(parse_end(end_text, now), now)
    start = end - parse_duration(duration)
    finished = [bar for bar in source.bars(symbol, start, end) if bar.end <= end]
    rows: list[list[object]] = []
    for ts, o, h, low, c, volume in aggregate(finished, max(seconds, BAR_SECONDS)):
        if seconds >= 86400:
            label: object = ts.astimezone(NEW_YORK).strftime("%Y%m%d")
        elif format_date == "2":
            label = int(ts.timestamp())
        else:
            label = ts.astimezone(NEW_YORK).strftime("%Y%m%d %H:%M:%S America/New_York")
        wap = round((h + low + c) / 3, 4)
        rows.append([label, o, h, low, c, volume, wap, max(1, volume // 100)])
    fmt = "%Y%m%d %H:%M:%S"
    return rows, start.astimezone(NEW_YORK).strftime(fmt), end.astimezone(NEW_YORK).strftime(fmt)
