"""``keynet-train config show|path|set`` in-process (``clear`` is with logout in test_login)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from keynet_train.config import Config, mask_secret
from tests.cli.conftest import CliRunner, write_config
from tests.support.fake_backend import FakeBackend

# ----------------------------------------------------------------------------- show


def test_show_masks_secrets(
    cli: CliRunner, offline_backend: FakeBackend, logged_in: Config
) -> None:
    assert logged_in.api_token is not None and logged_in.harbor is not None
    token = logged_in.api_token.reveal()
    harbor_password = logged_in.harbor.password.reveal()

    result = cli("config", "show")

    assert result.exit_code == 0, result
    assert result.stdout.startswith(f"# {cli.config_path}\n")
    assert f"api_token: {token[:6]}...{token[-3:]}\n" in result.stdout
    assert f"harbor.password: {mask_secret(harbor_password)}\n" in result.stdout
    assert f"harbor.username: {offline_backend.harbor_username}\n" in result.stdout
    assert f"server_url: {offline_backend.url}\n" in result.stdout
    assert token not in result.output and harbor_password not in result.output
    assert result.stderr == ""


def test_show_json_masks_secrets(cli: CliRunner, logged_in: Config) -> None:
    assert logged_in.api_token is not None and logged_in.harbor is not None

    result = cli("config", "show", "--json")

    assert result.exit_code == 0, result
    data = result.json()
    assert data["api_token"] == logged_in.api_token.masked()
    assert data["harbor"]["password"] == logged_in.harbor.password.masked()
    assert data["username"] == logged_in.username
    assert logged_in.api_token.reveal() not in result.output


def test_short_secrets_are_fully_masked(cli: CliRunner, offline_backend: FakeBackend) -> None:
    write_config(cli, offline_backend, token="short-tok")

    result = cli("config", "show", "--json")

    assert result.json()["api_token"] == "********"
    assert "short-tok" not in result.output


def test_show_warns_about_an_expired_token(cli: CliRunner, offline_backend: FakeBackend) -> None:
    write_config(cli, offline_backend, expires_in=-60)

    result = cli("config", "show")

    assert result.exit_code == 0
    assert "expired" in result.stderr and "login" in result.stderr


def test_show_without_config(cli: CliRunner) -> None:
    result = cli("config", "show", "--json")

    assert result.exit_code == 1
    assert str(cli.config_path) in result.stderr
    assert "keynet-train login" in result.stderr
    assert result.json()["error"]["type"] == "config"


def test_show_tightens_loose_permissions(cli: CliRunner, logged_in: Config) -> None:
    cli.config_path.chmod(0o644)

    result = cli("config", "show")

    assert result.exit_code == 0
    assert "Warning:" in result.stderr
    assert stat.S_IMODE(cli.config_path.stat().st_mode) == 0o600


# ----------------------------------------------------------------------------- path


def test_path_uses_keynet_config(cli: CliRunner) -> None:
    result = cli("config", "path")

    assert result.exit_code == 0
    assert result.stdout == f"{cli.config_path}\n"
    assert not cli.config_path.exists()  # path never creates anything


def test_path_uses_xdg_config_home(cli: CliRunner, tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    result = cli("config", "path", environ={"XDG_CONFIG_HOME": str(xdg)}, unset=("KEYNET_CONFIG",))

    assert result.stdout == f"{xdg / 'keynet' / 'config.json'}\n"


def test_path_defaults_to_home(cli: CliRunner) -> None:
    result = cli("config", "path", unset=("KEYNET_CONFIG",))

    assert result.stdout == f"{cli.home / '.config' / 'keynet' / 'config.json'}\n"


def test_keynet_config_wins_over_xdg(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("config", "path", environ={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})

    assert result.stdout == f"{cli.config_path}\n"


# ----------------------------------------------------------------------------- set


@pytest.mark.parametrize(
    ("key", "value", "stored"),
    [
        ("project_id", "123", 123),
        ("harbor_project", "kitech-model", "kitech-model"),
        ("podman_url", "unix:///run/podman/podman.sock", "unix:///run/podman/podman.sock"),
        ("podman_url", "tcp://127.0.0.1:8888", "tcp://127.0.0.1:8888"),
    ],
)
def test_set_valid_values(
    cli: CliRunner, logged_in: Config, key: str, value: str, stored: object
) -> None:
    result = cli("config", "set", key, value)

    assert result.exit_code == 0, result
    assert f"Saved {key}" in result.stderr
    data = json.loads(cli.config_path.read_text())
    assert data[key] == stored
    assert logged_in.api_token is not None
    assert data["api_token"] == logged_in.api_token.reveal()  # credentials kept


def test_set_null_unsets(cli: CliRunner, logged_in: Config) -> None:
    assert cli("config", "set", "project_id", "5").exit_code == 0
    assert cli("config", "set", "project_id", "null").exit_code == 0

    assert json.loads(cli.config_path.read_text())["project_id"] is None


def test_set_without_a_config_creates_a_private_file(cli: CliRunner) -> None:
    result = cli("config", "set", "harbor_project", "team-a")

    assert result.exit_code == 0, result
    assert stat.S_IMODE(cli.config_path.stat().st_mode) == 0o600
    assert json.loads(cli.config_path.read_text())["harbor_project"] == "team-a"


@pytest.mark.parametrize("key", ["api_token", "harbor.password", "server_url", "projectid"])
def test_set_unknown_or_secret_key_lists_valid_keys(
    cli: CliRunner, logged_in: Config, key: str
) -> None:
    before = cli.config_path.read_bytes()

    result = cli("config", "set", key, "x")

    assert result.exit_code == 1
    assert f"Unknown setting {key!r}" in result.stderr
    for valid in ("project_id", "harbor_project", "podman_url"):
        assert valid in result.stderr
    assert cli.config_path.read_bytes() == before


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("project_id", "abc"),
        ("project_id", "-1"),
        ("project_id", "0"),
        ("project_id", "1.5"),
        ("harbor_project", "Bad Name"),
        ("harbor_project", "UPPER"),
        ("podman_url", "http://127.0.0.1:8888"),
        ("podman_url", "/run/podman/podman.sock"),
    ],
)
def test_set_invalid_values(cli: CliRunner, logged_in: Config, key: str, value: str) -> None:
    before = cli.config_path.read_bytes()

    result = cli("config", "set", key, value)

    assert result.exit_code == 1, result
    assert key in result.stderr or value in result.stderr
    assert "Traceback" not in result.stderr
    assert cli.config_path.read_bytes() == before
