from __future__ import annotations

import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import typer
from tradekit.clock import SimClock
from tradekit.errors import AuthError, ConfigError
from tradekit.plugins.manager import PluginManager
from tradekit.ports import Broker, BrokerContext
from typer.testing import CliRunner

from tradekit_zerodha.config import load_config
from tradekit_zerodha.fake import FakeKite
from tradekit_zerodha.parsing import IST
from tradekit_zerodha.session import exchange_request_token, login_url, session_path


def config_for(fake: FakeKite):
    return load_config({"root": fake.root, "timeout_seconds": 0.5})


def env_for(fake: FakeKite) -> dict[str, str]:
    return {"KITE_API_KEY": fake.api_key, "KITE_API_SECRET": fake.api_secret}


def test_login_exchanges_token_and_stores_it_owner_only(fake: FakeKite, clock: SimClock, tmp_path: Path,
                                                         make_broker) -> None:
    config = config_for(fake)
    url = login_url(config, fake.api_key)
    assert url == f"{fake.root}/connect/login?api_key={fake.api_key}&v=3"
    session, path = exchange_request_token(config, env_for(fake), tmp_path / "brokers" / "zerodha", clock,
                                           f"https://example.com/redirect?status=success&request_token={fake.issue_request_token()}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert session.user_id == "AB1234"
    assert session.expires_at == datetime(2025, 10, 7, 6, 0, tzinfo=IST)  # the next morning's reset
    broker = make_broker(env={"KITE_API_KEY": fake.api_key})  # no token in the environment: the stored one
    broker.connect()
    assert broker.account == "zerodha:AB1234" and broker.position_reports() == []


def test_login_wrong_secret_or_reused_token_is_auth_error(fake: FakeKite, clock: SimClock, tmp_path: Path) -> None:
    config = config_for(fake)
    token = fake.issue_request_token()
    with pytest.raises(AuthError, match="checksum"):
        exchange_request_token(config, {**env_for(fake), "KITE_API_SECRET": "wrong"}, tmp_path, clock, token)
    exchange_request_token(config, env_for(fake), tmp_path, clock, token)
    with pytest.raises(AuthError, match="tradekit zerodha login"):
        exchange_request_token(config, env_for(fake), tmp_path, clock, token)


def test_missing_or_expired_token_names_login_command(fake: FakeKite, clock: SimClock, tmp_path: Path,
                                                      make_broker) -> None:
    with pytest.raises(AuthError) as caught:
        make_broker(env={"KITE_API_KEY": fake.api_key}).connect()
    assert "tradekit zerodha login" in str(caught.value) and "KITE_ACCESS_TOKEN" in str(caught.value)
    exchange_request_token(config_for(fake), env_for(fake), tmp_path / "brokers" / "zerodha", clock,
                           fake.issue_request_token())
    clock.advance(timedelta(hours=21).total_seconds())  # past 06:00 next day
    with pytest.raises(AuthError, match=r"expired at 2025-10-07 06:00 IST: run `tradekit zerodha login`"):
        make_broker(env={"KITE_API_KEY": fake.api_key}).connect()
    assert not any(p == "/user/profile" for _, p, _ in fake.requests[-1:])


def test_missing_api_key_is_config_error_naming_key(make_broker) -> None:
    with pytest.raises(ConfigError, match=r"brokers.zerodha.api_key_env: environment variable KITE_API_KEY"):
        make_broker(env={}).connect()


def test_world_readable_token_file_is_refused(fake: FakeKite, clock: SimClock, tmp_path: Path, make_broker) -> None:
    state = tmp_path / "brokers" / "zerodha"
    exchange_request_token(config_for(fake), env_for(fake), state, clock, fake.issue_request_token())
    session_path(state).chmod(0o644)
    with pytest.raises(AuthError, match="readable by others"):
        make_broker(env={"KITE_API_KEY": fake.api_key}).connect()


def test_plugin_registers_broker_and_commands(fake: FakeKite, clock: SimClock, tmp_path: Path) -> None:
    manager = PluginManager()
    registration = manager.broker("zerodha")
    assert registration.plugin == "zerodha"
    context = BrokerContext(name="zerodha", settings={"root": fake.root}, home=tmp_path, clock=clock,
                            env={"KITE_API_KEY": fake.api_key, "KITE_ACCESS_TOKEN": fake.issue_access_token()})
    before = len(fake.requests)
    broker = registration.factory(context)
    assert isinstance(broker, Broker) and len(fake.requests) == before  # no network before connect
    app = typer.Typer()

    @app.command()
    def version() -> None:
        """Placeholder so the app has a command."""

    manager.register_commands(app)
    result = CliRunner().invoke(app, ["zerodha", "--help"])
    assert result.exit_code == 0 and "login" in result.output and "fake-server" in result.output


def test_login_command_end_to_end(fake: FakeKite, tmp_path: Path) -> None:
    from tradekit_zerodha.cli import group

    env = {**env_for(fake), "TRADEKIT_HOME": str(tmp_path), "TRADEKIT__BROKERS__ZERODHA__ROOT": fake.root}
    result = CliRunner().invoke(group, ["login", "--request-token", fake.issue_request_token()], env=env)
    assert result.exit_code == 0, result.output
    assert f"{fake.root}/connect/login?api_key={fake.api_key}" in result.output
    assert "logged in as AB1234" in result.output and "expires" in result.output
    assert stat.S_IMODE((tmp_path / "brokers" / "zerodha" / "session.json").stat().st_mode) == 0o600
    bad = CliRunner().invoke(group, ["login", "--request-token", "nope"], env=env)
    assert bad.exit_code == 6 and "tradekit zerodha login" in bad.output
