"""connect never depends on warning filters or on the caller's thread having an event loop.

Each case runs in a fresh interpreter with DeprecationWarning turned into an
error, and imports the client library for the first time inside a worker
thread, which has no event loop on any Python version (on 3.12+ the main
thread without a loop is the same situation).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys, threading, warnings
    from datetime import UTC, date, datetime
    from pathlib import Path
    from tradekit.clock import SimClock
    from tradekit.ports import BrokerContext
    from tradekit_ibkr.fake.gateway import FakeGateway
    from tradekit_ibkr.fake.market import GeneratedUSDay

    library = sys.argv[1]
    assert library not in sys.modules
    gateway = FakeGateway(GeneratedUSDay(date(2025, 1, 2), {"TSLA": 445.25})).start()
    gateway.manual_trade("TSLA", 7, 445.0)
    outcome = []

    def worker():
        warnings.simplefilter("error")
        from tradekit_ibkr.plugin import create_broker
        context = BrokerContext("ibkr", {"port": gateway.port, "client_library": library, "connect_timeout": 5,
                                          "request_timeout": 5}, Path(sys.argv[2]), SimClock(datetime(2025, 1, 2, tzinfo=UTC)))
        broker = create_broker(context)
        broker.connect()
        outcome.append([(p.instrument_id, p.quantity) for p in broker.position_reports()])
        broker.close()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(30)
    gateway.stop()
    print(outcome)
    """
)


@pytest.mark.parametrize("library", ["ib_async", "ib_insync"])
def test_event_loop_connect_from_a_thread_without_a_loop_and_warnings_as_errors(library: str, tmp_path) -> None:
    pytest.importorskip(library)
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", SCRIPT, library, str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[[('SMART:TSLA', 7)]]", result.stderr
