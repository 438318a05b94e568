"""KiteTicker's binary frames and a minimal RFC 6455 server side, on the stdlib.

A frame is a big-endian uint16 packet count, then per packet a uint16 length
and the packet. Prices are uint32 paise. Packet layouts (what the official
client's ``_parse_binary`` reads): 8 bytes ltp, 28/32 index quote/full, 44
quote, 184 full (quote + last trade time, oi, oi day high/low, exchange
timestamp, 10 depth entries of 12 bytes).
"""

from __future__ import annotations

import base64
import hashlib
import struct
from typing import BinaryIO

from tradekit_zerodha.fake.market import Snapshot

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SEGMENT_INDICES = 9


def _paise(price: float) -> int:
    return max(0, int(round(price * 100)))


def tick_packet(token: int, mode: str, snap: Snapshot) -> bytes:
    """One packet for ``token`` in ``mode`` (ltp, quote or full)."""
    last = _paise(snap.last)
    if mode == "ltp":
        return struct.pack(">II", token, last)
    epoch = int(snap.ts.timestamp())
    if token & 0xFF == SEGMENT_INDICES:
        body = struct.pack(">IIIIII", token, last, _paise(snap.high), _paise(snap.low), _paise(snap.open),
                           _paise(snap.previous_close))
        body += struct.pack(">I", int(round((snap.last - snap.previous_close) * 100)) & 0xFFFFFFFF)
        return body + struct.pack(">I", epoch) if mode == "full" else body
    quote = struct.pack(
        ">IIIIIIIIIII", token, last, 75, last, snap.volume, 150_000, 120_000,
        _paise(snap.open), _paise(snap.high), _paise(snap.low), _paise(snap.previous_close),
    )
    if mode != "full":
        return quote
    full = quote + struct.pack(">IIIII", epoch, snap.oi, snap.oi_day_high, snap.oi_day_low, epoch)
    for side in (-1, 1):  # five bids below, five asks above
        for level in range(5):
            price = max(snap.last + side * 0.05 * (level + 1), 0.05)
            full += struct.pack(">IIHH", 75 * (level + 1), _paise(price), level + 1, 0)
    return full


def tick_frame(packets: list[bytes]) -> bytes:
    frame = struct.pack(">H", len(packets))
    for packet in packets:
        frame += struct.pack(">H", len(packet)) + packet
    return frame


def accept_key(client_key: str) -> str:
    digest = hashlib.sha1((client_key + WS_GUID).encode()).digest()
    return base64.b64encode(digest).decode()


def encode_frame(payload: bytes, opcode: int) -> bytes:
    """A server frame (never masked)."""
    header = bytes([0x80 | opcode])
    size = len(payload)
    if size < 126:
        header += bytes([size])
    elif size < 1 << 16:
        header += bytes([126]) + struct.pack(">H", size)
    else:
        header += bytes([127]) + struct.pack(">Q", size)
    return header + payload


def read_frame(stream: BinaryIO) -> tuple[int, bytes] | None:
    """One client frame (opcode, unmasked payload); None when the peer went away."""
    head = stream.read(2)
    if len(head) < 2:
        return None
    opcode = head[0] & 0x0F
    masked = head[1] & 0x80
    size = head[1] & 0x7F
    if size == 126:
        size = struct.unpack(">H", stream.read(2))[0]
    elif size == 127:
        size = struct.unpack(">Q", stream.read(8))[0]
    mask = stream.read(4) if masked else b""
    payload = stream.read(size)
    if len(payload) < size:
        return None
    if masked:
        payload = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return opcode, payload
