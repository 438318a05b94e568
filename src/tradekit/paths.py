"""Where tradekit keeps its files: one home directory for config, store, tokens and caches.

Resolution: the CLI's ``--home`` (which sets ``TRADEKIT_HOME``), else the
``TRADEKIT_HOME`` environment variable, else the platform's user data dir.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def home_dir(explicit: Path | str | None = None) -> Path:
    if explicit:
        path = Path(explicit)
    elif os.environ.get("TRADEKIT_HOME"):
        path = Path(os.environ["TRADEKIT_HOME"])
    else:
        path = Path(platformdirs.user_data_dir("tradekit", appauthor=False))
    path = path.expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
