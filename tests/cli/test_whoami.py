"""``keynet-train whoami``: the stored login and which podman service is used, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from keynet_train.config import Config
from tests.cli.conftest import CliRunner, write_config
from tests.support.fake_backend import FakeBackend
from tests.support.services import PodmanServiceHandle


def test_not_logged_in(cli: CliRunner) -> None:
    result = cli("whoami", "--json")
    assert result.exit_code == 1
    assert result.json()["error"]["type"] == "authentication"
    assert "keynet-train login" in result.json()["error"]["hint"]


def test_flag_wins_and_a_dead_service_is_reported(
    cli: CliRunner, offline_backend: FakeBackend, logged_in: Config, tmp_path: Path
) -> None:
    dead = f"unix://{tmp_path}/none.sock"
    result = cli("whoami", "--json", "--podman-url", dead, environ={"CONTAINER_HOST": "unix:///x"})

    assert result.exit_code == 0, result
    facts = result.json()
    assert facts["username"] == "alice"
    assert facts["server_url"] == offline_backend.url
    assert facts["registry"] == offline_backend.harbor_url
    assert facts["token_expired"] is False
    assert facts["podman"] == {
        "url": dead,
        "source": "flag",
        "reason": "from --podman-url",
        "identity": None,
        "answers": False,
    }


@pytest.mark.integration
def test_environment_variable_and_a_live_service(
    cli: CliRunner,
    offline_backend: FakeBackend,
    logged_in: Config,
    podman_service: PodmanServiceHandle,
) -> None:
    result = cli("whoami", environ={"CONTAINER_HOST": podman_service.url})

    assert result.exit_code == 0, result
    assert f"Podman:    {podman_service.url} (from CONTAINER_HOST)\n" in result.stdout
    assert "User:      alice" in result.stdout
    assert "NOT ANSWERING" not in result.stdout


@pytest.mark.integration
def test_podman_default_connection_is_used(
    cli: CliRunner,
    offline_backend: FakeBackend,
    logged_in: Config,
    podman_service: PodmanServiceHandle,
    tmp_path: Path,
) -> None:
    """A connection added with `podman system connection add`.

    As root podman writes connections into /etc/containers/containers.conf
    (shared by everything on the machine), so the test points CONTAINERS_CONF
    at its own file for podman and for the CLI.
    """
    import subprocess

    conf = tmp_path / "containers.conf"
    conf.write_text("")
    cli.environ["CONTAINERS_CONF"] = str(conf)
    subprocess.run(
        ["podman", "system", "connection", "add", "--default", "ci", podman_service.url],
        env={**cli.environ},
        check=True,
        capture_output=True,
    )
    assert "service_destinations.ci" in conf.read_text()
    result = cli("whoami", "--json")

    assert result.exit_code == 0, result
    podman = result.json()["podman"]
    assert podman["source"] == "connection"
    assert podman["url"] == podman_service.url
    assert podman["reason"] == "podman's default connection 'ci'"
    assert podman["answers"] is True

    unknown = cli("whoami", environ={"CONTAINER_CONNECTION": "nope"})
    assert unknown.exit_code == 2
    assert "CONTAINER_CONNECTION=nope is not a podman connection (known: ci)" in unknown.stderr


def test_token_line_says_expired_or_no_expiry(
    cli: CliRunner, offline_backend: FakeBackend, tmp_path: Path
) -> None:
    dead = ("--podman-url", f"unix://{tmp_path}/none.sock")
    config = write_config(cli, offline_backend, expires_in=-60)
    expires = config.api_token_expires_at
    assert expires is not None
    result = cli("whoami", *dead)
    assert result.exit_code == 0, result
    assert (
        f"Token:     EXPIRED at {expires:%Y-%m-%d %H:%M} UTC (run keynet-train login)\n"
        in result.stdout
    )

    # A config written by hand (or an old version) may carry no expiry.
    config.api_token_expires_at = None
    cli.store().save(config)
    result = cli("whoami", *dead)
    assert result.exit_code == 0, result
    assert "Token:     no recorded expiry\n" in result.stdout
    assert cli("whoami", "--json", *dead).json()["token_expires_at"] is None


def test_podman_not_installed_is_said_as_such(
    cli: CliRunner, logged_in: Config, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()

    result = cli("whoami", environ={"PATH": str(empty)})
    facts = cli("whoami", "--json", environ={"PATH": str(empty)}).json()

    assert result.exit_code == 0, result
    # No service can be started without podman: "a private podman service
    # started for this command" would be false.
    assert "private" not in result.stdout
    assert "Podman:    none (podman is not installed and nothing answers at unix://" in (
        result.stdout
    )
    assert "push needs podman. Install podman:" in result.stdout
    assert facts["podman"]["source"] == "missing"
    assert facts["podman"]["url"] is None and facts["podman"]["answers"] is False
