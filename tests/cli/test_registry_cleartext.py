"""Robot credentials and the registry check (issue 21 items 5 and 16).

* The robot password never goes over plain http:// to a host that is not this
  machine unless ``--insecure-registry`` says so (then with a warning).
* A registry that answers ``/v2/`` without asking for credentials is not
  reported as having verified them.
* ``login`` leaves no robot password in podman's auth file.

The "remote" registry is ``http://harbor.example.com``, reached through
``HTTP_PROXY`` pointing at a server on 127.0.0.1 that plays the registry:
real sockets, loopback only, and the client still sees a non-loopback host.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from keynet_train.errors import RegistryError
from tests.cli.conftest import CliRunner
from tests.support.fake_backend import FakeBackend
from tests.support.raw_server import raw_server, read_request
from tests.support.registry_calls import verify_registry_credentials

REMOTE = "http://harbor.example.com"
ROBOT = "robot$cleartext"
ROBOT_PASSWORD = "robot-pw-Cleartext-0123456789"


@dataclass
class FakeRegistry:
    """Answers like a registry; ``mode`` "basic" (401 then 200 with the right Basic
    credentials), "open" (200 to everyone) or "bearer-http-realm"."""

    mode: str = "basic"
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (line, authorization)

    def script(self, conn: socket.socket, stop: threading.Event) -> None:
        data = read_request(conn)
        if data is None:
            return
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        self.requests.append((head[0], authorization))
        expected = "Basic " + base64.b64encode(f"{ROBOT}:{ROBOT_PASSWORD}".encode()).decode()
        if self.mode == "open" or authorization == expected:
            status, extra = "200 OK", ""
        elif self.mode == "bearer-http-realm":
            status = "401 Unauthorized"
            extra = 'WWW-Authenticate: Bearer realm="http://auth.example.com/token",service="h"\r\n'
        else:
            status, extra = "401 Unauthorized", 'WWW-Authenticate: Basic realm="registry"\r\n'
        conn.sendall(
            f"HTTP/1.1 {status}\r\n{extra}Content-Type: application/json\r\n"
            "Content-Length: 2\r\nConnection: close\r\n\r\n{}".encode()
        )


@contextlib.contextmanager
def registry_behind_proxy(
    monkeypatch: pytest.MonkeyPatch, mode: str = "basic"
) -> Iterator[FakeRegistry]:
    fake = FakeRegistry(mode)
    with raw_server(fake.script) as url:
        for name in ("HTTP_PROXY", "http_proxy"):
            monkeypatch.setenv(name, url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.setenv(name, "127.0.0.1,localhost")
        yield fake


@pytest.fixture
def remote_backend(offline_backend: FakeBackend) -> FakeBackend:
    offline_backend.harbor_url = REMOTE
    offline_backend.harbor_username = ROBOT
    offline_backend.harbor_password = ROBOT_PASSWORD
    return offline_backend


def _login(cli: CliRunner, backend: FakeBackend, *flags: str) -> tuple[int, str, str]:
    result = cli(
        "login", backend.url, "-u", backend.username, "--password-stdin", *flags,
        stdin=backend.password,
    )  # fmt: skip
    return result.exit_code, result.stdout, result.stderr


def test_login_refuses_to_send_robot_credentials_in_clear(
    cli: CliRunner, remote_backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    with registry_behind_proxy(monkeypatch) as fake:
        code, _, err = _login(cli, remote_backend)
    assert code == 1, err
    assert "Refusing to send the password of robot account robot$cleartext" in err
    assert "over plain http://" in err and "--insecure-registry" in err
    assert not fake.requests  # not even the anonymous probe
    assert not cli.config_path.exists()


def test_login_with_insecure_registry_sends_them_with_a_warning(
    cli: CliRunner, remote_backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    with registry_behind_proxy(monkeypatch) as fake:
        code, _, err = _login(cli, remote_backend, "--insecure-registry")
    assert code == 0, err
    assert "crosses the network unencrypted (--insecure-registry)" in err
    assert f"Harbor registry {REMOTE} verified for {ROBOT}" in err
    assert [line for line, _ in fake.requests] == [f"GET {REMOTE}/v2/ HTTP/1.1"] * 2
    assert fake.requests[-1][1] is not None and fake.requests[-1][1].startswith("Basic ")


def test_an_open_registry_is_not_reported_as_verified(
    cli: CliRunner, offline_backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeRegistry("open")
    with raw_server(fake.script) as url:
        offline_backend.harbor_url = url  # loopback http: allowed without a flag
        offline_backend.harbor_username = ROBOT
        offline_backend.harbor_password = ROBOT_PASSWORD
        code, out, err = _login(cli, offline_backend, "--json")
    assert code == 0, err
    assert f"verified for {ROBOT}" not in err
    assert f"the robot credentials of {ROBOT} were NOT verified" in err
    assert json.loads(out)["registry_verified"] is False
    assert [auth for _, auth in fake.requests] == [None]  # nothing was sent to prove


def test_the_check_refuses_an_http_token_service_on_another_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeRegistry("bearer-http-realm")
    with raw_server(fake.script) as url, pytest.raises(RegistryError) as info:
        verify_registry_credentials(url, ROBOT, ROBOT_PASSWORD)
    assert "the token service http://auth.example.com/token" in info.value.message
    assert [auth for _, auth in fake.requests] == [None]


def test_the_check_refuses_a_remote_http_registry_before_connecting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with registry_behind_proxy(monkeypatch) as fake:
        with pytest.raises(RegistryError, match="over plain http://"):
            verify_registry_credentials(REMOTE, ROBOT, ROBOT_PASSWORD)
        check = verify_registry_credentials(REMOTE, ROBOT, ROBOT_PASSWORD, insecure=True)
    assert check.credentials_checked
    assert len(fake.requests) == 2  # only the insecure run talked to it


def test_login_leaves_no_robot_password_in_podmans_auth_file(
    cli: CliRunner, backend: FakeBackend, podman_auth_file: Path
) -> None:
    code, _, err = _login(cli, backend)
    assert code == 0, err
    assert not podman_auth_file.exists() or backend.harbor_password not in (
        podman_auth_file.read_text()
    )
    assert not podman_auth_file.exists()
