"""Client order ids <-> SmartAPI ``ordertag`` values.

SmartAPI refuses an ``ordertag`` of 20 characters or more (AB4008). A
client order id that fits is sent as it is; a longer one is sent as a
deterministic 19-character digest, and the pair is written to
``tags.json`` in the broker's state dir *before* the order is sent, so order
and fill reports (and recovery after a crash) map the tag back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
from pathlib import Path

MAX_TAG_LENGTH = 19
_PLAIN = re.compile(r"^[A-Za-z0-9_\-:.]+$")


def tag_for(client_order_id: str) -> str:
    """The ``ordertag`` sent for ``client_order_id`` (the id itself when it fits)."""
    if len(client_order_id) <= MAX_TAG_LENGTH and _PLAIN.match(client_order_id):
        return client_order_id
    digest = base64.b32encode(hashlib.sha256(client_order_id.encode()).digest()).decode().lower()
    return "tk" + digest[: MAX_TAG_LENGTH - 2]


class TagBook:
    """The persisted digest-tag -> client order id map."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._tags: dict[str, str] = {}
        if path.is_file():
            try:
                self._tags = {str(k): str(v) for k, v in json.loads(path.read_text()).items()}
            except ValueError:
                self._tags = {}

    def remember(self, client_order_id: str) -> str:
        """The tag for ``client_order_id``, persisted first when it is a digest."""
        tag = tag_for(client_order_id)
        if tag != client_order_id and self._tags.get(tag) != client_order_id:
            with self._lock:
                self._tags[tag] = client_order_id
                temporary = self._path.with_suffix(".tmp")
                temporary.write_text(json.dumps(self._tags, sort_keys=True))
                os.replace(temporary, self._path)
        return tag

    def client_order_id(self, tag: str | None) -> str | None:
        """The client order id a tag stands for; None for orders placed outside tradekit."""
        if not tag:
            return None
        return self._tags.get(tag, tag)
