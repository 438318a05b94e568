"""Configuration: defaults < tradekit.toml < TRADEKIT__SECTION__KEY, errors naming the key and file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tradekit.config import DEFAULTS, config_path, init_config, load_config, masked, set_value
from tradekit.errors import ConfigError

TRADEKIT = Path(sys.executable).parent / "tradekit"


@pytest.fixture
def home(isolated_home: Path) -> Path:
    isolated_home.mkdir(parents=True, exist_ok=True)
    return isolated_home


def write(home: Path, text: str) -> Path:
    path = config_path(home)
    path.write_text(text)
    return path


def test_config_no_file_gives_defaults(home: Path) -> None:
    config = load_config(home, env={})
    assert config.source is None
    assert config.get("paper.capital") == DEFAULTS["paper"]["capital"] == 100000
    assert config.get("engine.sync_minutes") == 5 and config.get("store.backups_keep") == 10


def test_config_bad_toml_raises_config_error_naming_file(home: Path) -> None:
    path = write(home, "[paper]\ncapital = = 5\n")
    with pytest.raises(ConfigError) as caught:
        load_config(home, env={})
    assert str(path) in str(caught.value) and "line 2" in str(caught.value)


def test_config_unknown_section_named(home: Path) -> None:
    path = write(home, "[papr]\ncapital = 5\n")
    with pytest.raises(ConfigError, match=r"unknown section \[papr\]") as caught:
        load_config(home, env={})
    assert str(path) in str(caught.value)


def test_config_unknown_key_named_with_known_ones(home: Path) -> None:
    write(home, "[paper]\ncapitol = 5\n")
    with pytest.raises(ConfigError, match=r"paper\.capitol.*unknown key \(known: account, capital"):
        load_config(home, env={})


@pytest.mark.parametrize(
    ("text", "key"),
    [("[paper]\ncapital = -5\n", "paper.capital"), ("[paper]\ncapital = true\n", "paper.capital"),
     ("[engine]\nsync_minutes = -1\n", "engine.sync_minutes"), ("[store]\nbackups_keep = \"many\"\n", "store.backups_keep")],
)  # fmt: skip
def test_config_bad_value_names_key(home: Path, text: str, key: str) -> None:
    write(home, text)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(home, env={})


def test_config_env_overrides_file(home: Path) -> None:
    write(home, "[paper]\ncapital = 100000\naccount = \"fileacct\"\n")
    config = load_config(home, env={"TRADEKIT__PAPER__CAPITAL": "250000", "UNRELATED": "x"})
    assert config.get("paper.capital") == 250000  # parsed as TOML: a number, not a string
    assert config.get("paper.account") == "fileacct"


def test_config_process_environment_used_by_default(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEKIT__ENGINE__SYNC_MINUTES", "0")
    assert load_config(home).get("engine.sync_minutes") == 0


def test_config_env_plugin_name_with_underscore_maps_to_dashed_section(home: Path) -> None:
    write(home, "[strategies.oi-momentum]\nlots = 1\nwindow = \"09:20\"\n")
    config = load_config(home, env={"TRADEKIT__STRATEGIES__OI_MOMENTUM__LOTS": "2"})
    assert config.section("strategies", "oi-momentum") == {"lots": 2, "window": "09:20"}
    assert "oi_momentum" not in config.section("strategies")


def test_config_env_without_key_raises_config_error_naming_variable(home: Path) -> None:
    with pytest.raises(ConfigError, match="TRADEKIT__PAPER"):
        load_config(home, env={"TRADEKIT__PAPER": "1"})


def test_config_section_returns_copy(home: Path) -> None:
    config = load_config(home, env={})
    section = config.section("paper")
    section["capital"] = 1
    assert config.get("paper.capital") == 100000


def test_config_masked_hides_secrets_keeps_env_names() -> None:
    data = {"brokers": {"zerodha": {"api_key_env": "KITE_API_KEY", "access_token": "abc", "api_secret": "s3", "user": "AB1"}}}
    shown = masked(data)["brokers"]["zerodha"]
    assert shown == {"api_key_env": "KITE_API_KEY", "access_token": "********", "api_secret": "********", "user": "AB1"}


def test_cli_config_show_masks_secret_values_shows_env_names(home: Path) -> None:
    write(home, '[brokers.zerodha]\napi_key_env = "KITE_API_KEY"\naccess_token = "tok-123456"\ntotp_secret = "JBSWY3DP"\n')
    result = subprocess.run([str(TRADEKIT), "config", "show", "--json"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "tok-123456" not in result.stdout and "JBSWY3DP" not in result.stdout
    zerodha = json.loads(result.stdout)["config"]["brokers"]["zerodha"]
    assert zerodha == {"api_key_env": "KITE_API_KEY", "access_token": "********", "totp_secret": "********"}
    text = subprocess.run([str(TRADEKIT), "config", "show"], capture_output=True, text=True, timeout=60)
    assert text.returncode == 0 and "KITE_API_KEY" in text.stdout and "tok-123456" not in text.stdout


def test_config_set_keeps_comments_and_validates(home: Path) -> None:
    path = init_config(home)
    original = path.read_text()
    set_value(home, "paper.capital", "250000")
    text = path.read_text()
    assert "# tradekit configuration." in text and "# the paper venue's account (paper:<account>)" in text
    assert "capital = 250000" in text
    assert load_config(home, env={}).get("paper.capital") == 250000
    assert len(text.splitlines()) == len(original.splitlines())
    before = path.read_text()
    with pytest.raises(ConfigError, match=r"paper\.capitol"):
        set_value(home, "paper.capitol", "5")
    assert path.read_text() == before  # a refused edit leaves the file alone


def test_cli_config_set_keeps_comments(home: Path) -> None:
    path = write(home, "# my notes\n[engine]\nsync_minutes = 5  # every five minutes\n")
    result = subprocess.run([str(TRADEKIT), "config", "set", "engine.sync_minutes", "2"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert path.read_text() == "# my notes\n[engine]\nsync_minutes = 2  # every five minutes\n"


def test_config_init_refuses_to_overwrite(home: Path) -> None:
    path = init_config(home)
    path.write_text("# mine\n")
    with pytest.raises(ConfigError, match="exists"):
        init_config(home)
    assert path.read_text() == "# mine\n"
    assert os.path.exists(init_config(home, force=True))
