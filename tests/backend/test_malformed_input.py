"""Malformed input from the backend, the registry or files is a typed error (issue 8 item 10).

Never "Unexpected internal error": an invalid Harbor host, JSON nested deeper
than Python can recurse, and a body too large to hold are each mapped to the
error type of docs/platform-contract.md where they enter.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from pytest_httpx import HTTPXMock

from keynet_train.backend.client import BackendClient
from keynet_train.backend.http import MAX_RESPONSE_BYTES
from keynet_train.errors import BackendError, RegistryError
from keynet_train.urls import split_http_url
from tests.support.fake_backend import FakeBackend
from tests.support.registry_calls import verify_registry_credentials

SERVER = "https://api.example.com"
SIGN_IN_URL = f"{SERVER}/v1/auth/sign-in/one-time"
DEEP = "[" * 100_000 + "]" * 100_000
BAD_HOSTS = [
    "https://../../etc",
    "https://a..b/x",
    "https://" + "a" * 64 + ".com",
    "https://xn--/x",
]


@pytest.mark.parametrize("url", BAD_HOSTS)
def test_invalid_hosts_are_not_urls(url: str) -> None:
    assert split_http_url(url) is None


GOOD_HOSTS = ["https://harbor.example.com", "http://127.0.0.1:5000", "https://[::1]:8443",
              "https://하버.example.com", "registry_1.internal:5000"]  # fmt: skip


@pytest.mark.parametrize("url", GOOD_HOSTS)
def test_valid_hosts_stay_urls(url: str) -> None:
    assert split_http_url(url) is not None


@pytest.mark.parametrize("url", BAD_HOSTS)
def test_registry_check_with_an_invalid_host(url: str) -> None:
    with pytest.raises(RegistryError, match="Invalid registry URL"):
        verify_registry_credentials(url, "robot$x", "pw")


def test_sign_in_returning_an_invalid_harbor_url(httpx_mock: HTTPXMock) -> None:
    body = {
        "accessToken": "t" * 20,
        "accessTokenExpiresAt": "2030-01-01T00:00:00Z",
        "user": {"id": "u", "email": "a@b.c", "displayName": "A", "role": "G"},
        "harbor": {"url": "https://../../etc", "username": "robot$x", "password": "p" * 20},
    }
    httpx_mock.add_response(url=SIGN_IN_URL, json=body)
    with BackendClient(SERVER, None) as client, pytest.raises(BackendError, match="harbor"):
        client.sign_in("alice", "pw")


def test_deeply_nested_response(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=SIGN_IN_URL, content=DEEP.encode())
    lines: list[str] = []
    client = BackendClient(SERVER, None, debug_log=lines.append)
    with client, pytest.raises(BackendError, match="nested too deeply"):
        client.sign_in("alice", "pw")
    assert lines  # the --debug log survived it too


def test_deeply_nested_error_body(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=SIGN_IN_URL, status_code=500, content=DEEP.encode())
    with BackendClient(SERVER, None) as client, pytest.raises(BackendError, match="500"):
        client.sign_in("alice", "pw")


def test_response_over_the_cap(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=SIGN_IN_URL, content=json.dumps("x" * MAX_RESPONSE_BYTES).encode())
    with BackendClient(SERVER, None) as client, pytest.raises(BackendError) as info:
        client.sign_in("alice", "pw")
    assert "10 MiB" in info.value.message and "Cannot reach" not in info.value.message


@pytest.mark.parametrize("mode", ["huge", "deep_json"])
def test_real_socket_bodies_are_bounded(mode: str) -> None:
    """Over a real socket: a 64 MiB streamed body is cut at the cap, not held in memory."""
    with FakeBackend() as fake:
        token = fake.issue_token()
        fake.fail("/v1/projects/trainable", mode)
        tracemalloc.start()
        try:
            with BackendClient(fake.url, token) as client, pytest.raises(BackendError) as info:
                client.fetch_trainable_projects()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert len(fake.requests_to("/v1/projects/trainable")) == 1  # not retried
    assert peak < 4 * MAX_RESPONSE_BYTES  # the 64 MiB body was never held whole
    assert ("10 MiB" if mode == "huge" else "nested too deeply") in info.value.message


# ---------------------------------------------------------------------------- through the CLI

SPEC_ERROR_TYPES = {
    "authentication", "validation", "not_found", "backend", "build", "registry", "config", "usage",
}  # fmt: skip


def _cli(tmp_path: Path, *argv: str, stdin: str = "") -> tuple[int, dict[str, Any], str]:
    from keynet_train.cli.environment import Environment
    from keynet_train.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    env = Environment(
        stdin=io.StringIO(stdin),
        stdout=out,
        stderr=err,
        environ={"HOME": str(tmp_path), "KEYNET_CONFIG": str(tmp_path / "config.json")},
    )
    code = main(list(argv), env=env)
    payload = json.loads(out.getvalue()) if out.getvalue().strip() else {}
    return code, payload, err.getvalue()


def test_deeply_nested_config_file(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"harbor": ' + DEEP + "}")
    code, payload, err = _cli(tmp_path, "config", "show", "--json")
    assert code == 1
    assert payload["error"]["type"] == "config"
    assert "nested too deeply" in err and "internal" not in err.lower()


def test_deeply_nested_project_file(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("print(1)\n")
    (tmp_path / "keynet.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    code, payload, err = _cli(tmp_path, "push", str(tmp_path / "train.py"), "--dry-run", "--json")
    assert code == 1, err
    assert payload["error"]["type"] == "config"
    assert "keynet.toml" in err and "Traceback" not in err


def test_login_with_a_backend_handing_out_a_bad_harbor_url(tmp_path: Path) -> None:
    with FakeBackend(harbor_url="https://../../etc") as fake:
        code, payload, err = _cli(
            tmp_path,
            *("login", fake.url, "-u", fake.username, "--password-stdin", "--json"),
            stdin=fake.password + "\n",
        )
    assert code == 1, err
    assert payload["error"]["type"] == "backend"
    assert "harbor.url" in err and "Traceback" not in err


def test_an_unanticipated_error_still_has_a_spec_type() -> None:
    from keynet_train.cli.environment import Environment
    from keynet_train.cli.status import render_error

    out = io.StringIO()
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=io.StringIO(), environ={})
    env.json_output = True
    assert render_error(ZeroDivisionError("boom"), env) == 1
    assert json.loads(out.getvalue())["error"]["type"] in SPEC_ERROR_TYPES
