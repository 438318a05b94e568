"""Draw docs/img/nifty-day.png: a generated NIFTY day's spot path and the chain's OI profile.

Run: .venv/bin/python docs/make_data_pictures.py   (needs matplotlib, an optional extra)
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from tradekit.data import find_day, load_day  # noqa: E402
from tradekit.model import OptionRight  # noqa: E402

OUT = Path(__file__).resolve().parent / "img" / "nifty-day.png"


def main() -> None:
    day = load_day(find_day("NSE", pd.Timestamp("2025-12-08").date()))
    spot = day.series["NSE:NIFTY 50"]
    times = pd.to_datetime(spot.ts, utc=True).tz_convert(day.timezone)
    options = [s for s in day.series.values() if s.instrument.right is not None]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.6), gridspec_kw={"width_ratios": [1.4, 1]})
    left.plot(times, spot.close, lw=0.8, color="black")
    left.set_title(f"NIFTY 50 spot, {day.day} ({day.manifest['regime']}, seed {day.manifest['seed']})")
    left.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%H:%M", tz=times.tz))
    left.set_ylabel("index points")
    for label, index, style in (("09:20 (first candle close)", 19, 0.45), ("15:30 close", -1, 0.9)):
        for right_kind, colour, shift in ((OptionRight.CALL, "tab:red", -11), (OptionRight.PUT, "tab:green", 11)):
            chain = sorted((float(s.instrument.strike), s) for s in options if s.instrument.right is right_kind)
            strikes = np.array([k for k, _ in chain])
            oi = np.array([s.oi[min(index, len(s.oi) - 1)] if index >= 0 else s.oi[-1] for _, s in chain]) / 1e6
            right.bar(strikes + shift, oi, width=20, color=colour, alpha=style, label=f"{right_kind.value} OI, {label}")
    right.axvline(spot.close[-1], color="black", lw=0.8, ls="--", label="spot at close")
    right.set_title(f"Open interest by strike, expiry {day.manifest['expiry']}")
    right.set_xlabel("strike")
    right.set_ylabel("OI (million units)")
    right.legend(fontsize=7)
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=110)


if __name__ == "__main__":
    main()
