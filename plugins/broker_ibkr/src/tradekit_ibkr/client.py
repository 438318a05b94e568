"""The IB client on its own event-loop thread: one code path for ib_async and ib_insync.

Why a private thread: both libraries are asyncio programs whose sync API
(``IB.connect``) runs the loop only while a call is in progress, so bars and
order updates would sit unread between calls, and on Python 3.12+ finding
"the current loop" from a thread without one warns (3.12-3.13) or fails
(3.14). Here each session creates its own loop, sets it as the thread's
loop, builds a fresh ``IB`` inside it and keeps it running; the broker
hands work to it with ``call`` and waits with a timeout. Nothing depends on
warning filters, ``util.startLoop`` or ``nest_asyncio``.

Only the async API both libraries share is used (``connectAsync``,
``reqPositionsAsync``, ``reqExecutionsAsync``, ...), so the same code runs on
either; the library is chosen by ``load_library``.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import threading
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

from tradekit.errors import BrokerError, ConfigError, TemporaryBrokerError

T = TypeVar("T")
log = logging.getLogger("tradekit_ibkr")

PREFERENCE = ("ib_async", "ib_insync")


def ensure_thread_event_loop() -> None:
    """Give this thread an event loop if it has none, without touching warning filters.

    eventkit (under ib_insync) asks for the current loop at import time; on
    3.12+ that warns or fails in a thread without one.
    """
    try:
        asyncio.get_running_loop()
        return
    except RuntimeError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
            if not loop.is_closed():
                return
        except (DeprecationWarning, RuntimeError):
            pass
    asyncio.set_event_loop(asyncio.new_event_loop())


def load_library(preference: str = "auto") -> ModuleType:
    """``ib_async`` if installed (the maintained fork), else ``ib_insync``; or exactly the one asked for."""
    names = PREFERENCE if preference == "auto" else (preference,)
    missing = []
    for name in names:
        ensure_thread_event_loop()
        try:
            return importlib.import_module(name)
        except ImportError:
            missing.append(name)
    wanted = " or ".join(missing)
    raise ConfigError(f"brokers.ibkr.client_library: {wanted} is not installed (pip install ib_async)")


class IBSession:
    """One connection: a loop thread, a fresh ``IB`` and a way to run work on it."""

    def __init__(
        self,
        library: ModuleType,
        *,
        host: str,
        port: int,
        client_id: int,
        account: str = "",
        readonly: bool = False,
        connect_timeout: float = 10.0,
        request_timeout: float = 30.0,
    ) -> None:
        self.library = library
        self.host, self.port, self.client_id = host, port, client_id
        self.account = account
        self.readonly = readonly
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.ib: Any = None
        self.errors: list[tuple[int, int, str]] = []  # (reqId, code, text) as TWS sent them
        self.lost = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._lost_future: asyncio.Future[None] | None = None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port} (client id {self.client_id})"

    def connect(self) -> None:
        """Start the loop thread, connect and sync; raise a tradekit error naming the culprit."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run_loop, args=(ready,), name="tradekit-ibkr-loop", daemon=True)
        self._thread.start()
        ready.wait()
        try:
            self.call(self._connect_async, timeout=self.connect_timeout * 2 + 1)
        except BaseException:
            self.close()
            raise
        if self.account and self.account not in self.ib.managedAccounts():
            known = ", ".join(self.ib.managedAccounts()) or "none"
            self.close()
            raise ConfigError(f"brokers.ibkr.account: {self.account} is not managed by this login (managed: {known})")
        if not self.account:
            accounts = self.ib.managedAccounts()
            if len(accounts) != 1:
                self.close()
                raise ConfigError(f"brokers.ibkr.account: this login manages {', '.join(accounts)}; choose one")
            self.account = accounts[0]

    def _run_loop(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _connect_async(self) -> None:
        ib = self.library.IB()
        loop = asyncio.get_running_loop()
        refused: asyncio.Future[int] = loop.create_future()
        self._lost_future = loop.create_future()

        def on_error(req_id: int, code: int, text: str, *rest: Any) -> None:
            if code == 326 and not refused.done():  # TWS: client id already in use, then it hangs up
                refused.set_result(code)

        ib.errorEvent += self._on_error
        ib.errorEvent += on_error
        ib.disconnectedEvent += self._on_disconnected
        self.ib = ib
        connecting = asyncio.ensure_future(ib.connectAsync(
            self.host, self.port, clientId=self.client_id, timeout=self.connect_timeout,
            readonly=self.readonly, account=self.account,
        ))
        try:
            await asyncio.wait({connecting, refused}, return_when=asyncio.FIRST_COMPLETED)
            if refused.done():
                connecting.cancel()
                await asyncio.gather(connecting, return_exceptions=True)
                raise BrokerError(f"ibkr: client id {self.client_id} is already in use at {self.host}:{self.port}; "
                                  f"set brokers.ibkr.client_id to another number")
            connecting.result()
        except ConnectionRefusedError:
            raise TemporaryBrokerError(f"ibkr: nothing listens at {self.host}:{self.port}; start TWS or IB Gateway "
                                       f"(or `tradekit ibkr fake-gateway`) and enable the API") from None
        except TimeoutError:
            raise TemporaryBrokerError(f"ibkr: no answer from {self.where} within {self.connect_timeout:g}s") from None
        except (ConnectionError, OSError) as error:
            raise TemporaryBrokerError(f"ibkr: connection to {self.where} failed: {error}") from None
        finally:
            ib.errorEvent -= on_error

    def _on_error(self, req_id: int, code: int, text: str, *rest: Any) -> None:
        self.errors.append((req_id, code, text))

    def _on_disconnected(self) -> None:
        if not self._closing:
            log.warning("ibkr: connection to %s lost", self.where)
        self.lost.set()
        if self._lost_future is not None and not self._lost_future.done():
            self._lost_future.set_result(None)

    def is_connected(self) -> bool:
        return self.ib is not None and not self.lost.is_set() and bool(self.ib.isConnected())

    def call(self, work: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        """Run ``work(*args)`` on the loop thread (awaiting it if it is a coroutine) and return its result."""
        loop = self._loop
        if loop is None or not loop.is_running():
            raise TemporaryBrokerError(f"ibkr: not connected to {self.where}")

        async def runner() -> Any:
            result = work(*args)
            if not inspect.isawaitable(result):
                return result
            # a request in flight when the socket dies would otherwise wait for its full timeout
            task = asyncio.ensure_future(result)
            lost = self._lost_future
            if lost is None:
                return await task
            await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
            if not task.done():
                task.cancel()
                raise TemporaryBrokerError(f"ibkr: connection to {self.where} lost during a request")
            return task.result()

        future = asyncio.run_coroutine_threadsafe(runner(), loop)
        limit = self.request_timeout if timeout is None else timeout
        try:
            return future.result(timeout=limit)
        except TimeoutError:
            future.cancel()
            raise TemporaryBrokerError(f"ibkr: no answer from {self.where} within {limit:g}s") from None
        except (ConnectionError, OSError) as error:
            raise TemporaryBrokerError(f"ibkr: connection to {self.where} failed: {error}") from None

    def wait_until(self, condition: Callable[[], bool], timeout: float | None = None) -> bool:
        """Let the loop run until ``condition()`` (checked on the loop thread) holds; False on timeout."""

        async def waiter() -> bool:
            while not condition():
                if self.lost.is_set():
                    raise TemporaryBrokerError(f"ibkr: connection to {self.where} lost")
                await asyncio.sleep(0.005)  # an event-loop yield inside the client thread, not a test sleep
            return True

        try:
            return bool(self.call(waiter, timeout=timeout))
        except TemporaryBrokerError as error:
            if "no answer" in str(error):
                return False
            raise

    def close(self) -> None:
        """Disconnect and stop the loop thread. Safe to call twice."""
        self._closing = True
        loop, thread = self._loop, self._thread
        if loop is not None and loop.is_running():
            if self.ib is not None:
                try:
                    asyncio.run_coroutine_threadsafe(self._disconnect(), loop).result(timeout=5)
                except Exception:  # closing must not fail; the socket dies with the loop anyway
                    pass
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        self._loop = None
        self._thread = None

    async def _disconnect(self) -> None:
        self.ib.disconnect()
