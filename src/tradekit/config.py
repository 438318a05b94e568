"""Configuration: defaults < ``<home>/tradekit.toml`` < ``TRADEKIT__SECTION__KEY`` env vars < CLI flags.

Merged once into a read-only mapping. Core sections are validated here with
errors naming the key and the file; each plugin validates its own section
(``[brokers.<name>]``, ``[strategies.<name>]``). Secrets never live in the
config: it holds the *names* of environment variables.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tradekit.errors import ConfigError

CONFIG_FILE = "tradekit.toml"
ENV_PREFIX = "TRADEKIT__"

DEFAULTS: dict[str, Any] = {
    "paper": {
        "account": "",  # empty: "default" for NSE days (INR), "us" for NYSE days (USD)
        "capital": 100000,
        "slippage_bps": 0,
        "costs": {},  # {preset = "india_fo" | "us_equity" | "none", <field> = override}; preset defaults by market
    },
    "engine": {
        "sync_minutes": 5,  # reconcile with the broker every N minutes during run (0: only at start)
        "replay_batch": 200,  # replays may batch non-order steps into one transaction
        "live_poll_seconds": 5,  # live runs sample quotes this often to build candles (one batched request)
        "stream_quotes": "auto",  # exit monitor on every streamed tick: auto (when the broker streams), on, off
    },
    "store": {
        "backups_keep": 10,
    },
    "data": {
        "root": "",  # replay data directory; empty: the samples bundled with tradekit
    },
    "sync": {
        # positions sync/reconcile compare on Indian exchanges: these underlyings' options and futures
        "underlyings": ["NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY"],
        "kinds": ["OPTION", "FUTURE"],
        "filtered_exchanges": ["NFO", "BFO", "NSE", "BSE"],  # elsewhere (SMART, NYSE, ...) every position is kept
        "external_stop_pct": 0,  # protective stop placed for external positions, % from their average (0: none)
        "price_tolerance": 0.01,  # average-price differences up to this are equal
    },
    "risk": {
        "capital": 0,  # base of the % limits; 0: the equity the day opened with
        "daily_loss_pct": 5.0,  # day's loss (realised + open) at which new entries stop for the day; 0: off
        "drawdown_warn_pct": 15.0,  # from the high-water mark of equity; 0: off
        "drawdown_halt_pct": 20.0,  # no new entries until `tradekit unlatch`
        "drawdown_liquidate_pct": 25.0,  # close everything and latch the kill switch
        "max_open_positions": 0,  # 0: no limit
        "options_exposure_pct": 0.0,  # caps of capital (0: off); suggested 50, 70, 15, 30
        "total_exposure_pct": 0.0,
        "symbol_exposure_pct": 0.0,
        "sector_exposure_pct": 0.0,
        "signal_expiry_seconds": 120,  # a signal older than this when it would become an order is dropped
        "cooldown_seconds": 60,  # the same entry (strategy, instrument, side) is not re-sent within this
        "max_entries_per_symbol": 0,  # entry orders per strategy, instrument and day; 0: no limit
        "sizing": {},  # per strategy: { mode = "fixed", lots = 2 } | { mode = "fixed", quantity = 100 } | { mode = "risk_pct", pct = 2 }
        "sectors": {},  # instrument id, symbol or underlying -> sector name
    },
    "report": {
        "risk_free": 0.0,  # annual risk-free rate for Sharpe/Sortino, e.g. 0.065
        "benchmark": "",  # index symbol in the data files; empty: NIFTY 50 for NSE accounts, SPY for US ones
        "periods_per_year": 252,  # trading days used to annualise daily returns
    },
    "brokers": {},
    "strategies": {},
}

CORE_KEYS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "paper": {"account": str, "capital": (int, float, str), "slippage_bps": (int, float), "costs": (dict, str)},
    "engine": {"sync_minutes": (int, float), "replay_batch": int, "live_poll_seconds": int, "stream_quotes": (str, bool)},
    "store": {"backups_keep": int},
    "data": {"root": str},
    "sync": {"underlyings": (list, str), "kinds": (list, str), "filtered_exchanges": (list, str), "external_stop_pct": (int, float),
             "price_tolerance": (int, float)},
    "risk": {
        "capital": (int, float), "daily_loss_pct": (int, float), "drawdown_warn_pct": (int, float),
        "drawdown_halt_pct": (int, float), "drawdown_liquidate_pct": (int, float), "max_open_positions": int,
        "options_exposure_pct": (int, float), "total_exposure_pct": (int, float), "symbol_exposure_pct": (int, float),
        "sector_exposure_pct": (int, float), "signal_expiry_seconds": (int, float), "cooldown_seconds": (int, float),
        "max_entries_per_symbol": int, "sizing": dict, "sectors": dict,
    },
    "report": {"risk_free": (int, float), "benchmark": str, "periods_per_year": int},
}

SECRET_MARKERS = ("token", "secret", "password", "pin", "api_key", "totp")


@dataclass(frozen=True)
class Config:
    data: Mapping[str, Any]
    source: Path | None

    def section(self, *path: str) -> dict[str, Any]:
        node: Any = self.data
        for part in path:
            if not isinstance(node, Mapping):
                return {}
            node = node.get(part, {})
        return copy.deepcopy(dict(node)) if isinstance(node, Mapping) else {}

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node


def _merge(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _parse_env_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _env_overlay(env: Mapping[str, str]) -> dict[str, Any]:
    overlay: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if len(parts) < 2:
            raise ConfigError(f"environment variable {name}: expected TRADEKIT__SECTION__KEY")
        # plugin names may contain dashes (oi-momentum); env vars cannot: accept underscores for them
        node = overlay
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _parse_env_value(value)
    return overlay


def _normalise_plugin_names(data: dict[str, Any]) -> None:
    for group in ("brokers", "strategies"):
        section = data.get(group)
        if not isinstance(section, dict):
            continue
        for name in list(section):
            dashed = name.replace("_", "-")
            if dashed != name and dashed not in section:
                section[dashed] = section.pop(name)
            elif dashed != name:
                section[dashed] = _merge(section[dashed], section.pop(name))


def config_path(home: Path) -> Path:
    return home / CONFIG_FILE


def load_config(home: Path, *, env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None) -> Config:
    path = config_path(home)
    data = copy.deepcopy(DEFAULTS)
    source = None
    if path.exists():
        try:
            loaded = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: {error}") from None
        except OSError as error:
            raise ConfigError(f"{path}: cannot read ({error.strerror})") from None
        data = _merge(data, loaded)
        source = path
    data = _merge(data, _env_overlay(os.environ if env is None else env))
    if overrides:
        data = _merge(data, overrides)
    _normalise_plugin_names(data)
    _validate(data, source)
    return Config(MappingProxyType(data), source)


def _validate(data: Mapping[str, Any], source: Path | None) -> None:
    where = f" in {source}" if source else ""
    for section, value in data.items():
        if section not in DEFAULTS:
            raise ConfigError(f"unknown section [{section}]{where} (known: {', '.join(DEFAULTS)})")
        if not isinstance(value, Mapping):
            raise ConfigError(f"{section}{where}: expected a table")
    for section, keys in CORE_KEYS.items():
        for key, value in data[section].items():
            if key not in keys:
                raise ConfigError(f"{section}.{key}{where}: unknown key (known: {', '.join(keys)})")
            if not isinstance(value, keys[key]) or isinstance(value, bool):
                raise ConfigError(f"{section}.{key}{where}: bad value {value!r}")
    try:
        from decimal import Decimal

        if Decimal(str(data["paper"]["capital"])) <= 0:
            raise ValueError
    except Exception:
        raise ConfigError(f"paper.capital{where}: must be a positive number, got {data['paper']['capital']!r}") from None
    if data["engine"]["sync_minutes"] < 0:
        raise ConfigError(f"engine.sync_minutes{where}: must be >= 0")
    _validate_risk(data["risk"], where)


SIZING_MODES = ("strategy", "fixed", "risk_pct")


def _validate_risk(risk: Mapping[str, Any], where: str) -> None:
    """Ranges of ``[risk]``: percentages in [0, 100], counts and seconds >= 0, sizing tables per strategy."""
    for key, value in risk.items():
        if key in ("sizing", "sectors"):
            continue
        if value < 0 or (key.endswith("_pct") and value > 100):
            raise ConfigError(f"risk.{key}{where}: must be {'between 0 and 100' if key.endswith('_pct') else '>= 0'}, got {value!r}")
    levels = [(k, risk[k]) for k in ("drawdown_warn_pct", "drawdown_halt_pct", "drawdown_liquidate_pct") if risk[k]]
    for (low_key, low), (high_key, high) in zip(levels, levels[1:]):
        if low > high:
            raise ConfigError(f"risk.{high_key}{where}: {high} is below risk.{low_key} ({low})")
    for name, sector in risk["sectors"].items():
        if not isinstance(sector, str) or not sector:
            raise ConfigError(f"risk.sectors.{name}{where}: expected a sector name, got {sector!r}")
    for strategy, sizing in risk["sizing"].items():
        path = f"risk.sizing.{strategy}"
        if not isinstance(sizing, Mapping):
            raise ConfigError(f"{path}{where}: expected a table like {{ mode = \"fixed\", lots = 1 }}")
        mode = sizing.get("mode", "strategy")
        if mode not in SIZING_MODES:
            raise ConfigError(f"{path}.mode{where}: unknown mode {mode!r} (known: {', '.join(SIZING_MODES)})")
        allowed = {"strategy": {"mode"}, "fixed": {"mode", "lots", "quantity"}, "risk_pct": {"mode", "pct"}}[mode]
        for key, value in sizing.items():
            if key not in allowed:
                raise ConfigError(f"{path}.{key}{where}: unknown key for mode {mode!r} (known: {', '.join(sorted(allowed))})")
            if key != "mode" and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise ConfigError(f"{path}.{key}{where}: must be a positive number, got {value!r}")
        if mode == "fixed" and ("lots" in sizing) == ("quantity" in sizing):
            raise ConfigError(f"{path}{where}: mode \"fixed\" needs exactly one of lots or quantity")
        if mode == "fixed" and any(isinstance(sizing.get(k), float) for k in ("lots", "quantity")):
            raise ConfigError(f"{path}{where}: lots and quantity are whole numbers")
        if mode == "risk_pct" and not 0 < sizing.get("pct", 0) <= 100:
            raise ConfigError(f"{path}.pct{where}: mode \"risk_pct\" needs pct between 0 and 100")


def masked(data: Any, key: str = "") -> Any:
    """A copy for display with secret values replaced (names of env vars are shown as they are)."""
    if isinstance(data, Mapping):
        return {k: masked(v, k) for k, v in data.items()}
    lowered = key.lower()
    if data and not lowered.endswith("_env") and any(marker in lowered for marker in SECRET_MARKERS):
        return "********"
    return data


STARTER = """\
# tradekit configuration. Every key can also be set by environment variable:
# TRADEKIT__<SECTION>__<KEY>, e.g. TRADEKIT__PAPER__CAPITAL=250000.
# Secrets never go here: brokers read them from the environment variables named below.

[paper]
# account = "default"    # the paper venue's account (paper:<account>); default: "default" on NSE, "us" on NYSE
capital = 100000         # day 1 starts with this; later days carry over
slippage_bps = 0         # market orders fill this many basis points worse than the quote
# costs = { preset = "india_fo" }   # or "us_equity", "none"; default follows the market

[engine]
sync_minutes = 5         # reconcile with the broker every N minutes during run

[store]
backups_keep = 10        # copies of the store kept in <home>/backups, one per closed day

[risk]
daily_loss_pct = 5       # no new entries for the rest of the day at this loss (% of capital)
drawdown_warn_pct = 15   # drawdown guard: warn, halt new entries, liquidate
drawdown_halt_pct = 20
drawdown_liquidate_pct = 25
# total_exposure_pct = 70   # caps as % of capital (0: off)
# options_exposure_pct = 50
# symbol_exposure_pct = 15
# sector_exposure_pct = 30
# sizing.oi-momentum = { mode = "risk_pct", pct = 5 }

# [brokers.zerodha]
# api_key_env = "KITE_API_KEY"
# access_token_env = "KITE_ACCESS_TOKEN"

# [strategies.oi-momentum]
# lots = 1
"""


def init_config(home: Path, *, force: bool = False) -> Path:
    """Write a commented starter ``tradekit.toml`` (never over an existing one unless ``force``)."""
    path = config_path(home)
    if path.exists() and not force:
        raise ConfigError(f"{path} exists; use --force to overwrite it")
    path.write_text(STARTER)
    return path


def set_value(home: Path, dotted: str, value: str) -> Path:
    """Set one key in the user's file, keeping their comments (tomlkit)."""
    import tomlkit

    path = config_path(home)
    document = tomlkit.parse(path.read_text()) if path.exists() else tomlkit.document()
    parts = dotted.split(".")
    node: Any = document
    for part in parts[:-1]:
        if part not in node:
            node[part] = tomlkit.table()
        node = node[part]
    node[parts[-1]] = _parse_env_value(value)
    text = tomlkit.dumps(document)
    candidate = tomllib.loads(text)
    _validate(_merge(copy.deepcopy(DEFAULTS), candidate), path)
    path.write_text(text)
    return path
