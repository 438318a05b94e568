"""tradekit.collector.LongLived: freezes what is alive for one run and hands it back; never undoes a host's own freeze."""

from __future__ import annotations

import gc

from tradekit.collector import LongLived


def test_keep_freezes_what_is_alive_and_close_hands_it_back() -> None:
    assert gc.get_freeze_count() == 0
    with LongLived() as long_lived:
        long_lived.keep()
        assert gc.get_freeze_count() > 0
        long_lived.keep()  # again at the next day's end: still one run's freeze, handed back once
    assert gc.get_freeze_count() == 0


def test_a_host_that_froze_its_own_objects_keeps_them_frozen() -> None:
    gc.freeze()  # e.g. a server that forked workers after freezing
    try:
        frozen = gc.get_freeze_count()
        with LongLived() as long_lived:
            long_lived.keep()
        assert gc.get_freeze_count() >= frozen  # not unfrozen behind the host's back
    finally:
        gc.unfreeze()
