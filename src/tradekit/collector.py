"""Keeping Python's cyclic garbage collector off what tradekit holds for long.

A full pass of the collector walks every tracked object: the imported
libraries (numpy, pandas, DuckDB: about 70,000 objects, 20-30 ms a pass here)
and whatever tradekit keeps alive, the book above all, which in a backtest
grows by every order, fill and trade and is walked again at every full pass
(a million-bar reference backtest spent 1.4 s in eight of them). What lives
that long dies by reference counting, not in cycles, so it can be left out of
those passes: ``gc.freeze()`` moves everything alive into a generation the
collector never walks, ``gc.unfreeze()`` hands it back.

``LongLived`` does that for one run: ``keep()`` at a point where what is alive
will stay (a live session's start, the end of each backtest day), ``close()``
when the run ends. Cyclic garbage among kept objects waits for ``close()``;
a replayed day leaves a few hundred bytes of it (numpy's header parser).
It stands aside when the host process froze objects itself (that check walks
the frozen objects: make one ``LongLived`` per run, not per day).
"""

from __future__ import annotations

import gc


class LongLived:
    def __init__(self) -> None:
        self._owner = gc.get_freeze_count() == 0  # a host that froze its own objects keeps control of freezing
        self._kept = False

    def keep(self) -> None:
        """Leave every object alive now out of the collector's passes, until ``close()``."""
        if self._owner:
            gc.freeze()
            self._kept = True

    def close(self) -> None:
        if self._kept:
            gc.unfreeze()
            self._kept = False

    def __enter__(self) -> LongLived:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
