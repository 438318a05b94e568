"""Login with TOTP, token refresh and the re-login hint, through the unmodified SmartConnect."""

from __future__ import annotations

import json
import os
import stat

import pyotp
import pytest
import typer
from typer.testing import CliRunner
from tradekit.errors import AuthError, ConfigError

from tradekit_angelone.plugin import register_commands


def test_login_with_totp_saves_private_session_and_connects(make_broker, fake) -> None:
    broker = make_broker()
    session = broker.login()
    assert fake.logins == 1
    assert session.client_code == fake.client_code
    assert session.jwt_token in fake.jwt_tokens
    path = broker.context.state_dir / "session.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text())["refresh_token"] == session.refresh_token
    fresh = make_broker()  # a new process: loads the saved session, no new login
    fresh.connect()
    assert fake.logins == 1
    assert fresh.account == f"angelone:{fake.client_code}"
    assert len(fake.endpoint_calls("getProfile")) >= 2


def test_login_with_wrong_totp_secret_is_an_auth_error(make_broker, fake) -> None:
    broker = make_broker(env={"ANGELONE_TOTP_SECRET": pyotp.random_base32()})
    with pytest.raises(AuthError, match=r"Invalid totp \(AB1050\).*TOTP secret"):
        broker.login()
    assert fake.logins == 0


def test_login_without_pin_env_var_names_the_key(make_broker) -> None:
    broker = make_broker(pin_env="MY_ANGEL_PIN")
    with pytest.raises(ConfigError, match=r"brokers\.angelone\.pin_env: environment variable MY_ANGEL_PIN is not set"):
        broker.login()


def test_connect_without_session_names_the_login_command(make_broker, fake) -> None:
    with pytest.raises(AuthError, match="tradekit angelone login"):
        make_broker().connect()
    assert fake.requests == []  # nothing was sent


def test_connect_with_auto_login_logs_in_with_totp(make_broker, fake) -> None:
    broker = make_broker(auto_login=True)
    broker.connect()
    assert fake.logins == 1
    assert broker.position_reports() == []


def test_expired_jwt_is_refreshed_once_and_the_call_succeeds(broker, fake) -> None:
    old = broker.client.session.jwt_token
    fake.expire_jwt()
    assert broker.position_reports() == []
    assert len(fake.endpoint_calls("generateTokens")) == 1
    saved = json.loads((broker.context.state_dir / "session.json").read_text())
    assert saved["jwt_token"] != old and saved["jwt_token"] in fake.jwt_tokens


def test_revoked_session_raises_auth_error_with_login_hint(broker, fake) -> None:
    fake.revoke_sessions()
    with pytest.raises(AuthError, match=r"invalid token: Invalid Token \(AG8001\); run `tradekit angelone login`"):
        broker.order_reports()
    assert len(fake.endpoint_calls("generateTokens")) == 1  # it tried the refresh token first


def test_token_exception_raised_by_the_client_becomes_auth_error(broker, fake) -> None:
    fake.faults.inject("getRMS", "error_type", message="Session expired")
    with pytest.raises(AuthError, match="tradekit angelone login"):
        broker.account_report()


def test_cli_login_and_refresh_against_the_fake(fake, tmp_path) -> None:
    app = typer.Typer()
    register_commands(app)
    env = {
        "TRADEKIT_HOME": str(tmp_path / "home"),
        "TRADEKIT__BROKERS__ANGELONE__ROOT": fake.root,
        "ANGELONE_API_KEY": fake.api_key,
        "ANGELONE_CLIENT_CODE": fake.client_code,
        "ANGELONE_PIN": fake.pin,
        "ANGELONE_TOTP_SECRET": fake.totp_secret,
    }
    runner = CliRunner()
    result = runner.invoke(app, ["angelone", "login"], env=env)
    assert result.exit_code == 0, result.output
    assert f"logged in as {fake.client_code}" in result.output
    assert (tmp_path / "home" / "brokers" / "angelone" / "session.json").is_file()
    result = runner.invoke(app, ["angelone", "login", "--refresh"], env=env)
    assert result.exit_code == 0, result.output
    assert len(fake.endpoint_calls("generateTokens")) == 1
    fake.revoke_sessions()
    result = runner.invoke(app, ["angelone", "login", "--refresh"], env=env)
    assert result.exit_code == 6
    assert "tradekit angelone login" in result.output


def test_revoked_session_with_auto_login_logs_in_again(make_broker, fake) -> None:
    broker = make_broker(auto_login=True)
    broker.connect()
    fake.revoke_sessions()
    assert broker.order_reports() == []
    assert fake.logins == 2


def test_refresh_without_a_saved_session_names_the_login_command(make_broker, fake) -> None:
    broker = make_broker()
    with pytest.raises(AuthError, match="no saved session; run `tradekit angelone login`"):
        broker.refresh_session()
    with pytest.raises(AuthError, match="not logged in"):
        broker.connect()  # still not connected
    assert fake.requests == []


def test_unusable_totp_secret_names_the_key(make_broker) -> None:
    broker = make_broker(env={"ANGELONE_TOTP_SECRET": "not base32 !!"})
    with pytest.raises(ConfigError, match=r"brokers\.angelone\.totp_secret_env: ANGELONE_TOTP_SECRET is not a usable TOTP secret"):
        broker.login()
