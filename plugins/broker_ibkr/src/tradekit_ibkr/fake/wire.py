"""TWS socket framing: the handshake and length-prefixed, NUL-separated fields.

Kept apart from the gateway so the byte layout is in one small place: every
message after the ``API\\0`` greeting is a 4-byte big-endian length followed
by ASCII fields each terminated by NUL.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable

GREETING = b"API\0"


class ConnectionClosed(Exception):
    """The peer went away (or the gateway dropped it on purpose)."""


def encode(fields: Iterable[object]) -> bytes:
    """One framed message from ``fields`` (None -> empty, bool -> 1/0)."""
    parts = []
    for field in fields:
        if field is None:
            text = ""
        elif isinstance(field, bool):
            text = "1" if field else "0"
        elif isinstance(field, float):
            text = repr(field)
        else:
            text = str(field)
        parts.append(text + "\0")
    payload = "".join(parts).encode()
    return struct.pack(">I", len(payload)) + payload


def _read_exact(sock: socket.socket, count: int) -> bytes:
    chunks = []
    remaining = count
    while remaining:
        chunk = sock.recv(remaining)
        if not chunk:
            raise ConnectionClosed("peer closed the connection")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(sock: socket.socket) -> bytes:
    (length,) = struct.unpack(">I", _read_exact(sock, 4))
    return _read_exact(sock, length)


def read_fields(sock: socket.socket) -> list[str]:
    """The next message's fields (without the trailing empty one)."""
    fields = read_frame(sock).decode(errors="replace").split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    return fields


def read_greeting(sock: socket.socket) -> tuple[int, int]:
    """Read ``API\\0`` and the ``vMIN..MAX [options]`` range; return (min, max)."""
    if _read_exact(sock, 4) != GREETING:
        raise ConnectionClosed("client did not start with API\\0")
    text = read_frame(sock).decode(errors="replace")
    versions = text.split(" ", 1)[0]
    if not versions.startswith("v") or ".." not in versions:
        raise ConnectionClosed(f"bad version range {text!r}")
    low, high = versions[1:].split("..", 1)
    return int(low), int(high)
