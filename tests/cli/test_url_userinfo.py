"""Server URLs carry no userinfo: ``http://alice:SECRET@host`` is refused wherever a URL enters.

Before this rule, ``login http://alice:SECRET@host`` stored the URL as given,
printed it in every command, and httpx sent ``Basic alice:SECRET`` instead of
the Bearer token. Each entry point is run against the fake backend over a real
socket; the password must appear in no output, no file and no request.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keynet_train.config import validate_podman_url
from keynet_train.errors import ConfigError, RegistryError
from keynet_train.registry.answers import normalise_registry_url
from keynet_train.urls import has_userinfo, mask_userinfo
from tests.cli.conftest import CliResult, CliRunner, write_config
from tests.cli.test_secret_canary import Canary
from tests.support.fake_backend import FakeBackend

URL_PASSWORD = "CANARY-urlpw-Tq4Wn8Ze2Rb6"


def _with_userinfo(url: str, password: str = URL_PASSWORD) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://alice:{password}@{rest}"


def _check_refused(
    cli: CliRunner, result: CliResult, backend: FakeBackend, canary: Canary, *, stored: bool = False
) -> None:
    """Refused with the hint; the password is nowhere: output, config file (unless the
    test planted it there), requests."""
    canary.check(result.output, "output")
    assert "user name or password" in result.output or "password" in result.stderr, result
    if not stored and cli.config_path.exists():
        canary.check(cli.config_path.read_text(), "config file")
    for request in backend.requests:
        canary.check(json.dumps(request.headers), "request headers")
        assert "basic" not in (request.header("authorization") or "").lower()


@pytest.mark.parametrize(
    "password", [URL_PASSWORD, "CANARY/slash#hash?q-Uv2", "CANARY-at@sign-Hj7Lp3"]
)
def test_login_refuses_a_server_url_with_a_password(
    cli: CliRunner, offline_backend: FakeBackend, password: str
) -> None:
    canary = Canary(password if len(password) >= 10 else URL_PASSWORD)
    url = _with_userinfo(offline_backend.url, password)
    result = cli("login", url, "-u", "alice", "--password-stdin", stdin="pw-irrelevant")
    assert result.exit_code == 1, result
    _check_refused(cli, result, offline_backend, canary)
    assert not offline_backend.requests  # refused before anything was sent
    assert "-u" in result.stderr  # the hint says where the user name goes


def test_login_refuses_keynet_server_url_with_userinfo(
    cli: CliRunner, offline_backend: FakeBackend
) -> None:
    url = _with_userinfo(offline_backend.url)
    for argv in (("login", "-u", "alice", "--password-stdin"), ("login", "--json", "-u", "a")):
        result = cli(*argv, stdin="pw", environ={"KEYNET_SERVER_URL": url})
        assert result.exit_code == 1, result
        _check_refused(cli, result, offline_backend, Canary(URL_PASSWORD))
    assert not offline_backend.requests


def test_a_stored_server_url_with_userinfo_is_refused_not_printed_or_sent(
    cli: CliRunner, offline_backend: FakeBackend
) -> None:
    write_config(cli, offline_backend)
    data = json.loads(cli.config_path.read_text())
    data["server_url"] = _with_userinfo(offline_backend.url)
    cli.config_path.write_text(json.dumps(data))
    canary = Canary(URL_PASSWORD)
    for argv in (("config", "show"), ("config", "show", "--json"), ("whoami",), ("projects",)):
        result = cli(*argv)
        assert result.exit_code == 1, result
        _check_refused(cli, result, offline_backend, canary, stored=True)
        assert "logout" in result.stderr or "login" in result.stderr
    assert not offline_backend.requests
    assert cli("logout").exit_code == 0  # the way out still works
    assert not cli.config_path.exists()


def test_a_stored_harbor_url_with_userinfo_is_refused(
    cli: CliRunner, offline_backend: FakeBackend
) -> None:
    write_config(cli, offline_backend)
    data = json.loads(cli.config_path.read_text())
    data["harbor"]["url"] = _with_userinfo(data["harbor"]["url"])
    cli.config_path.write_text(json.dumps(data))
    result = cli("config", "show", "--json")
    assert result.exit_code == 1, result
    _check_refused(cli, result, offline_backend, Canary(URL_PASSWORD), stored=True)


def test_a_harbor_url_with_userinfo_from_the_backend_fails_login(
    cli: CliRunner, offline_backend: FakeBackend
) -> None:
    offline_backend.harbor_url = _with_userinfo("https://harbor.example.com")
    result = cli(
        "login", offline_backend.url, "-u", offline_backend.username, "--password-stdin",
        stdin=offline_backend.password,
    )  # fmt: skip
    assert result.exit_code == 1, result
    Canary(URL_PASSWORD).check(result.output, "output")
    assert "user name or password" in result.output, result
    assert not cli.config_path.exists()


def test_podman_urls_with_a_password_are_refused(
    cli: CliRunner, offline_backend: FakeBackend, tmp_path: Path
) -> None:
    canary = Canary(URL_PASSWORD)
    write_config(cli, offline_backend)
    for url in (
        f"tcp://bob:{URL_PASSWORD}@127.0.0.1:9",
        f"ssh://bob:{URL_PASSWORD}@host/run/p.sock",
    ):
        result = cli("config", "set", "podman_url", url)
        assert result.exit_code != 0, result
        _check_refused(cli, result, offline_backend, canary)
        for argv, environ in (
            (("whoami", "--podman-url", url), {}),
            (("whoami",), {"CONTAINER_HOST": url}),
        ):
            result = cli(*argv, environ=environ)
            assert result.exit_code != 0, result
            _check_refused(cli, result, offline_backend, canary)
    # A user name alone is how ssh:// names the account: still accepted.
    assert validate_podman_url("ssh://core@host:22/run/podman/podman.sock")
    with pytest.raises(ConfigError):
        validate_podman_url(f"ssh://core:{URL_PASSWORD}@host/run/podman/podman.sock")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://alice:pw@h/x", True),
        ("alice@h", True),
        ("http://h:1/a@b", True),  # ambiguous ("a/b@c" may be a password): refused
        ("http://alice:p/w@h", True),
        ("https://h.example.com:8443/api", False),
    ],
)
def test_has_userinfo(url: str, expected: bool) -> None:
    assert has_userinfo(url) is expected


def test_mask_userinfo_hides_everything_before_the_last_at() -> None:
    assert mask_userinfo("http://alice:p/w#x@host:1/api") == "http://***@host:1/api"
    assert mask_userinfo("alice:pw@host") == "***@host"
    assert mask_userinfo("https://host/api") == "https://host/api"


def test_the_registry_check_refuses_a_url_with_userinfo() -> None:
    with pytest.raises(RegistryError) as info:
        normalise_registry_url(_with_userinfo("https://harbor.example.com"))
    Canary(URL_PASSWORD).check(f"{info.value.message} {info.value.hint}", "error")
