"""Kite sessions: the daily login, and the access token kept where only the owner can read it.

Kite access tokens die every morning (about 06:00 India time). ``login``
exchanges the request token from Kite's login page for an access token and
stores it in ``<home>/brokers/zerodha/session.json`` with mode 0600. The
broker reads the token from the environment variable named by
``access_token_env`` first, then from that file; a missing or expired token
is an ``AuthError`` naming the login command.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlencode

from tradekit.clock import Clock
from tradekit.errors import AuthError, ConfigError

from tradekit_zerodha.config import DEFAULT_LOGIN_URL, LOGIN_COMMAND, SECTION, ZerodhaConfig
from tradekit_zerodha.parsing import IST, parse_timestamp

SESSION_FILE = "session.json"
DAILY_RESET = time(6, 0)


@dataclass(frozen=True)
class StoredSession:
    access_token: str
    user_id: str
    login_time: datetime
    expires_at: datetime


def session_path(state_dir: Path) -> Path:
    return state_dir / SESSION_FILE


def expiry_after(login_time: datetime) -> datetime:
    """Kite tokens expire at the next 06:00 India time after login."""
    local = login_time.astimezone(IST)
    reset = datetime.combine(local.date(), DAILY_RESET, tzinfo=IST)
    return reset if local < reset else reset + timedelta(days=1)


def save_session(path: Path, session: StoredSession) -> None:
    """Write the token so only the owner can read it (created 0600, never world-readable, even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    data = json.dumps({
        "access_token": session.access_token,
        "user_id": session.user_id,
        "login_time": session.login_time.isoformat(),
        "expires_at": session.expires_at.isoformat(),
    })
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, data.encode())
    finally:
        os.close(descriptor)
    os.replace(temporary, path)


def load_session(path: Path) -> StoredSession | None:
    if not path.exists():
        return None
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise AuthError(f"{path} is readable by others (mode {mode:o}): delete it and run `{LOGIN_COMMAND}`")
    try:
        data = json.loads(path.read_text())
        return StoredSession(
            access_token=str(data["access_token"]),
            user_id=str(data.get("user_id") or ""),
            login_time=datetime.fromisoformat(data["login_time"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
        )
    except (ValueError, KeyError, TypeError):
        raise AuthError(f"{path} is damaged: run `{LOGIN_COMMAND}`") from None


def api_key_from(config: ZerodhaConfig, env: Mapping[str, str]) -> str:
    value = env.get(config.api_key_env, "").strip()
    if not value:
        raise ConfigError(f"{SECTION}.api_key_env: environment variable {config.api_key_env} (your Kite API key) is not set")
    return value


def api_secret_from(config: ZerodhaConfig, env: Mapping[str, str]) -> str:
    value = env.get(config.api_secret_env, "").strip()
    if not value:
        raise ConfigError(
            f"{SECTION}.api_secret_env: environment variable {config.api_secret_env} (your Kite API secret) is not set")
    return value


def access_token_from(config: ZerodhaConfig, env: Mapping[str, str], state_dir: Path, now: datetime) -> tuple[str, str]:
    """(access token, user id or "") from the environment, else the stored session; raises ``AuthError``."""
    value = env.get(config.access_token_env, "").strip()
    if value:
        return value, ""
    path = session_path(state_dir)
    session = load_session(path)
    if session is None:
        raise AuthError(f"no Kite session (set {config.access_token_env} or run `{LOGIN_COMMAND}`)")
    if now >= session.expires_at:
        local = session.expires_at.astimezone(IST)
        raise AuthError(f"Kite session expired at {local:%Y-%m-%d %H:%M} IST: run `{LOGIN_COMMAND}`")
    return session.access_token, session.user_id


def login_url(config: ZerodhaConfig, api_key: str) -> str:
    """Where the user logs in: Kite's page, or the fake server's when ``root`` points at one."""
    if config.login_url:
        base = config.login_url
    elif config.is_real_kite:
        base = DEFAULT_LOGIN_URL
    else:
        base = f"{config.root}/connect/login"
    return f"{base}?{urlencode({'api_key': api_key, 'v': '3'})}"


def exchange_request_token(
    config: ZerodhaConfig, env: Mapping[str, str], state_dir: Path, clock: Clock, request_token: str
) -> tuple[StoredSession, Path]:
    """POST /session/token with the checksum, then store the access token (0600)."""
    token = request_token.strip()
    if "request_token=" in token:  # the user pasted the whole redirect URL
        token = token.split("request_token=", 1)[1].split("&", 1)[0]
    if not token:
        raise AuthError(f"no request token given: log in at the URL `{LOGIN_COMMAND}` prints and paste the token")
    from tradekit_zerodha.client import KiteClient  # kiteconnect (and Twisted) only when a token is exchanged

    client = KiteClient(config, api_key_from(config, env), None, clock)
    data = client.session_token(token, api_secret_from(config, env))
    login_time = parse_timestamp(data.get("login_time")) or clock.now().astimezone(IST)
    session = StoredSession(
        access_token=str(data["access_token"]),
        user_id=str(data.get("user_id") or ""),
        login_time=login_time,
        expires_at=expiry_after(login_time),
    )
    path = session_path(state_dir)
    save_session(path, session)
    return session, path
