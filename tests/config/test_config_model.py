"""Secret, masking, path resolution and the Config <-> JSON mapping."""

from __future__ import annotations

import copy
import json
import pickle
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from keynet_train.config import (
    SCHEMA_VERSION,
    Config,
    RegistryCredentials,
    Secret,
    mask_secret,
)
from keynet_train.errors import ConfigError
from keynet_train.locations import config_path

TOKEN = "eyJhbGciOiJIUzI1NiJ9.canary-token-value.XYZ"
PASSWORD = "robot-password-canary-0123456789"
UTC = timezone.utc


def full_config() -> Config:
    return Config(
        server_url="https://api.example.com",
        username="myuser",
        api_token=Secret(TOKEN),
        api_token_expires_at=datetime(2025, 11, 4, 12, 0, tzinfo=UTC),
        harbor=RegistryCredentials(
            url="https://harbor.example.com/",
            username="robot$550e8400e29b41d4a716446655440000",
            password=Secret(PASSWORD),
        ),
        last_login=datetime(2025, 11, 4, 8, 30, tzinfo=UTC),
        project_id=123,
        harbor_project="kitech-model",
        podman_url=None,
    )


# ----------------------------------------------------------------- masking / Secret


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("", "********"),
        ("a", "********"),
        ("12345678901", "********"),  # 11: below the boundary
        ("123456789012", "123456...012"),  # 12: exactly the boundary
        ("abcdefghijklmnopqrstuvwxyz", "abcdef...xyz"),
    ],
)
def test_mask_secret_boundary_at_twelve(value: str, masked: str) -> None:
    assert mask_secret(value) == masked


def test_secret_never_prints_its_value() -> None:
    secret = Secret(TOKEN)
    for text in (str(secret), repr(secret), f"{secret}", f"{secret!r}", str([secret])):
        assert TOKEN not in text
    assert repr(secret) == "Secret('********')"
    assert str(secret) == "********"
    assert secret.reveal() == TOKEN
    assert secret.masked() == mask_secret(TOKEN)
    # The dataclass repr of a whole config must not leak either.
    assert TOKEN not in repr(full_config())
    assert PASSWORD not in repr(full_config())


def test_secret_equality_and_hash_by_value() -> None:
    assert Secret("abc") == Secret("abc")
    assert Secret("abc") != Secret("abd")
    assert Secret("abc") != "abc"
    assert len({Secret("abc"), Secret("abc")}) == 1


def test_secret_is_not_serialisable_by_accident() -> None:
    with pytest.raises(TypeError):
        json.dumps({"token": Secret(TOKEN)})
    with pytest.raises(TypeError):
        pickle.dumps(Secret(TOKEN))
    with pytest.raises(TypeError):
        "Bearer " + Secret(TOKEN)  # type: ignore[operator]
    with pytest.raises(TypeError):
        Secret(123)  # type: ignore[arg-type]


def test_config_can_be_deep_copied() -> None:
    original = full_config()
    clone = copy.deepcopy(original)
    assert clone == original
    clone.project_id = 7
    assert original.project_id == 123


# ----------------------------------------------------------------- config_path


def test_keynet_config_wins(tmp_path: Path) -> None:
    env = {
        "KEYNET_CONFIG": str(tmp_path / "x.json"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "HOME": str(tmp_path / "home"),
    }
    assert config_path(env) == tmp_path / "x.json"


def test_keynet_config_tilde_uses_environ_home(tmp_path: Path) -> None:
    env = {"KEYNET_CONFIG": "~/ci/keynet.json", "HOME": str(tmp_path)}
    assert config_path(env) == tmp_path / "ci" / "keynet.json"


def test_xdg_config_home(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}
    assert config_path(env) == tmp_path / "xdg" / "keynet" / "config.json"


def test_empty_or_relative_xdg_falls_back_to_home(tmp_path: Path) -> None:
    expected = tmp_path / ".config" / "keynet" / "config.json"
    assert config_path({"XDG_CONFIG_HOME": "", "HOME": str(tmp_path)}) == expected
    # The XDG spec says relative paths are invalid and must be ignored.
    assert config_path({"XDG_CONFIG_HOME": "rel/dir", "HOME": str(tmp_path)}) == expected
    assert config_path({"KEYNET_CONFIG": "", "HOME": str(tmp_path)}) == expected


def test_home_from_environ(tmp_path: Path) -> None:
    assert config_path({"HOME": str(tmp_path)}) == tmp_path / ".config/keynet/config.json"


def test_without_home_uses_the_process_home() -> None:
    assert config_path({}) == Path.home() / ".config/keynet/config.json"


# ----------------------------------------------------------------- JSON mapping


def test_round_trip_and_spec_layout() -> None:
    config = full_config()
    data = config.to_json_dict(reveal=True)
    assert data == {
        "schema_version": 1,
        "server_url": "https://api.example.com",
        "username": "myuser",
        "api_token": TOKEN,
        "api_token_expires_at": "2025-11-04T12:00:00Z",
        "harbor": {
            "url": "https://harbor.example.com/",
            "username": "robot$550e8400e29b41d4a716446655440000",
            "password": PASSWORD,
        },
        "last_login": "2025-11-04T08:30:00Z",
        "project_id": 123,
        "harbor_project": "kitech-model",
        "podman_url": None,
    }
    assert Config.from_json_dict(json.loads(json.dumps(data))) == config


def test_show_masks_secrets() -> None:
    data = full_config().to_json_dict(reveal=False)
    text = json.dumps(data)
    assert TOKEN not in text
    assert PASSWORD not in text
    assert data["api_token"] == "eyJhbG...XYZ"
    harbor = data["harbor"]
    assert isinstance(harbor, dict)
    assert harbor["password"] == "robot-...789"


def test_show_masks_short_secrets_fully() -> None:
    config = Config(api_token=Secret("short"))
    assert config.to_json_dict(reveal=False)["api_token"] == "********"


def test_show_masks_secret_looking_unknown_keys() -> None:
    config = Config(extra={"refresh_token": "refresh-token-canary-123", "note": "hello"})
    data = config.to_json_dict(reveal=False)
    assert data["refresh_token"] == "refres...123"
    assert data["note"] == "hello"
    assert config.to_json_dict(reveal=True)["refresh_token"] == "refresh-token-canary-123"


def test_show_masks_secret_looking_unknown_keys_in_harbor_and_nested() -> None:
    config = full_config()
    assert config.harbor is not None
    config.harbor.extra = {"robot_secret": "robot-secret-canary-456", "robot_id": 42}
    config.extra = {"future": {"client_secret": "nested-secret-canary-789", "n": 1}}
    data = config.to_json_dict(reveal=False)
    harbor = data["harbor"]
    assert isinstance(harbor, dict)
    assert harbor["robot_secret"] == "robot-...456"
    assert harbor["robot_id"] == 42
    assert data["future"] == {"client_secret": "nested...789", "n": 1}
    shown = config.to_json_dict(reveal=True)
    assert isinstance(shown["harbor"], dict)
    assert shown["harbor"]["robot_secret"] == "robot-secret-canary-456"
    assert shown["future"] == {"client_secret": "nested-secret-canary-789", "n": 1}
    # Known keys win over unknown ones of the same name.
    config.harbor.extra = {"password": "shadow"}
    assert config.to_json_dict(reveal=True)["harbor"]["password"] == config.harbor.password.reveal()  # type: ignore[index]


def test_unknown_keys_preserved_including_nested_harbor() -> None:
    data = full_config().to_json_dict(reveal=True)
    data["future_feature"] = {"a": [1, 2]}
    harbor = data["harbor"]
    assert isinstance(harbor, dict)
    harbor["robot_id"] = 42
    config = Config.from_json_dict(data)
    assert config.extra == {"future_feature": {"a": [1, 2]}}
    assert config.harbor is not None and config.harbor.extra == {"robot_id": 42}
    assert config.to_json_dict(reveal=True) == data


def test_unknown_keys_never_override_known_ones() -> None:
    config = Config(project_id=5, extra={"project_id": 9})
    assert config.to_json_dict(reveal=True)["project_id"] == 5


def test_empty_object_is_an_empty_config() -> None:
    config = Config.from_json_dict({})
    assert config == Config()
    assert not config.is_logged_in


def test_timestamps_normalised_to_utc() -> None:
    config = Config.from_json_dict(
        {"api_token_expires_at": "2025-11-04T21:00:00+09:00", "last_login": "2025-11-04T08:30:00"}
    )
    assert config.api_token_expires_at == datetime(2025, 11, 4, 12, tzinfo=UTC)
    assert config.api_token_expires_at.tzinfo == UTC
    # A naive stamp is read as UTC, not local time.
    assert config.last_login == datetime(2025, 11, 4, 8, 30, tzinfo=UTC)
    assert config.to_json_dict(reveal=True)["api_token_expires_at"] == "2025-11-04T12:00:00Z"


def test_naive_datetime_rejected_at_construction() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Config(last_login=datetime(2025, 1, 1))


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"server_url": 5}, "'server_url' must be a string, got number"),
        ({"username": ["a"]}, "'username' must be a string, got array"),
        ({"api_token": {"x": 1}}, "'api_token' must be a string, got object"),
        ({"project_id": "123"}, "'project_id' must be an integer, got string"),
        ({"project_id": True}, "'project_id' must be an integer, got boolean"),
        ({"project_id": 1.5}, "'project_id' must be an integer, got number"),
        ({"harbor_project": 1}, "'harbor_project' must be a string"),
        ({"podman_url": False}, "'podman_url' must be a string, got boolean"),
        ({"api_token_expires_at": 1700000000}, "'api_token_expires_at' must be a string"),
        ({"last_login": "yesterday"}, "'last_login' is not an ISO 8601 timestamp"),
        ({"harbor": "https://h"}, "'harbor' must be an object, got string"),
        ({"harbor": {"url": "u", "username": "r"}}, "'harbor.password' is missing"),
        ({"harbor": {"url": "u", "username": 1, "password": "p"}}, "'harbor.username' must be"),
        ({"schema_version": "1"}, "'schema_version' must be a positive integer"),
        ({"schema_version": 0}, "'schema_version' must be a positive integer"),
    ],
)
def test_wrong_types_name_key_and_file(data: dict[str, object], key: str) -> None:
    source = Path("/somewhere/config.json")
    with pytest.raises(ConfigError) as info:
        Config.from_json_dict(data, source=source)
    assert key in info.value.message
    assert str(source) in info.value.message
    assert info.value.hint and "config clear" in info.value.hint


def test_newer_schema_version_says_upgrade() -> None:
    with pytest.raises(ConfigError) as info:
        Config.from_json_dict({"schema_version": SCHEMA_VERSION + 1}, source=Path("/c.json"))
    assert "newer keynet-train" in info.value.message
    assert info.value.hint and "upgrade" in info.value.hint.lower()


def test_missing_schema_version_means_one() -> None:
    assert Config.from_json_dict({"username": "u"}).schema_version == 1


# ----------------------------------------------------------------- behaviour


def test_is_logged_in_needs_server_token_and_harbor() -> None:
    assert full_config().is_logged_in
    for change in ({"server_url": None}, {"api_token": None}, {"harbor": None}):
        config = full_config()
        for key, value in change.items():
            setattr(config, key, value)
        assert not config.is_logged_in


def test_token_expired() -> None:
    config = full_config()
    expiry = config.api_token_expires_at
    assert expiry is not None
    assert not config.token_expired(expiry - timedelta(seconds=1))
    assert config.token_expired(expiry)
    assert config.token_expired(expiry + timedelta(days=1))
    assert not Config(api_token=Secret(TOKEN)).token_expired(datetime.now(UTC))


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://harbor.example.com", "harbor.example.com"),
        ("https://harbor.example.com/", "harbor.example.com"),
        ("http://127.0.0.1:5000//", "127.0.0.1:5000"),
        ("HTTPS://Harbor.example.com", "Harbor.example.com"),
        ("harbor.example.com:8443", "harbor.example.com:8443"),
    ],
)
def test_harbor_host(url: str, host: str) -> None:
    config = Config(harbor=RegistryCredentials(url=url, username="r", password=Secret("p")))
    assert config.harbor_host == host
    assert Config().harbor_host is None
