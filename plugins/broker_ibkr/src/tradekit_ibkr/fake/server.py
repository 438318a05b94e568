"""The socket side of the fake TWS: listening, the handshake, one thread per client, framing.

``TwsServer`` knows nothing about orders or prices; ``FakeGateway`` inherits
it and answers the requests in ``_dispatch``. Every request is handled under
one lock, and ``wait_for`` lets tests block until a request has been handled
instead of sleeping.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Self

from tradekit_ibkr.fake.wire import ConnectionClosed, encode, read_fields, read_greeting

log = logging.getLogger("tradekit_ibkr.fake")


@dataclass
class Session:
    """One connected API client."""

    sock: socket.socket
    client_id: int | None = None
    realtime: dict[int, str] = field(default_factory=dict)  # reqId -> symbol
    positions_subscribed: bool = False
    account_subscribed: bool = False
    requests: list[int] = field(default_factory=list)  # message ids received, for tests
    closed: bool = False


class TwsServer(ABC):
    """Accepts API clients on 127.0.0.1 and hands their requests to ``_dispatch``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._requested_port = port
        self.port = 0
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._sessions: list[Session] = []
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._hang_up_on: set[int] = set()
        self._all_requests: list[int] = []

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @abstractmethod
    def _hello(self) -> list[object]:
        """The handshake answer: server version and connection time."""

    @abstractmethod
    def _dispatch(self, session: Session, fields: list[str]) -> None:
        """Answer one request message (the gateway's behaviour lives in the subclass)."""

    def start(self) -> Self:
        """Listen (port 0 picks a free port; ``restart`` reuses the same one)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port or self._requested_port))
        listener.listen(8)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accept_thread = threading.Thread(target=self._accept_loop, args=(listener,), name="fake-tws-accept", daemon=True)
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Close every client and stop listening. Safe to call twice."""
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=5)
            self._accept_thread = None
        self.drop_connections()

    def restart(self) -> None:
        """A gateway restart: every client is cut off, the account survives, the port stays."""
        self.stop()
        self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def drop_connections(self) -> None:
        """Cut every client off, as a network failure would."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            self._close(session)

    def hang_up_on_next(self, message_id: int) -> None:
        """Drop every connection instead of answering the next request with this message id (7: executions)."""
        with self._lock:
            self._hang_up_on.add(message_id)

    def requests_seen(self) -> list[int]:
        """Message ids received from every client so far (oldest first)."""
        with self._lock:
            return list(self._all_requests)

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Block until ``condition()`` holds after some request was handled (tests: no sleeps)."""
        with self._changed:
            return self._changed.wait_for(condition, timeout=timeout)

    def connected_clients(self) -> list[int]:
        with self._lock:
            return [s.client_id for s in self._sessions if s.client_id is not None and not s.closed]

    # ------------------------------------------------------------------ server

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            session = Session(sock)
            threading.Thread(target=self._serve, args=(session,), name="fake-tws-client", daemon=True).start()

    def _serve(self, session: Session) -> None:
        try:
            read_greeting(session.sock)
            with self._lock:
                self._sessions.append(session)
                self._send(session, self._hello())
            while not session.closed:
                fields = read_fields(session.sock)
                if not fields:
                    continue
                with self._lock:
                    self._all_requests.append(int(fields[0]))
                    session.requests.append(int(fields[0]))
                    if int(fields[0]) in self._hang_up_on and session.client_id is not None:
                        self._hang_up_on.discard(int(fields[0]))
                        sessions, self._sessions = self._sessions, []
                        for other in sessions:
                            self._close(other)
                        self._changed.notify_all()
                        break
                    self._dispatch(session, fields)
                    self._changed.notify_all()
        except (ConnectionClosed, OSError):
            pass
        except Exception:  # a bug in the fake must not hang the client: log and drop it
            log.exception("fake gateway failed on a request")
        finally:
            with self._lock:
                if session in self._sessions:
                    self._sessions.remove(session)
                self._close(session)
                self._changed.notify_all()

    def _close(self, session: Session) -> None:
        session.closed = True
        try:
            session.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        session.sock.close()

    def _live_sessions(self) -> list[Session]:
        return [s for s in self._sessions if not s.closed and s.client_id is not None]

    def _send(self, session: Session, fields: list[object]) -> None:
        if session.closed:
            return
        try:
            session.sock.sendall(encode(fields))
        except OSError:
            session.closed = True
