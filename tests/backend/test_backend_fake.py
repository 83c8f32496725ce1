"""BackendClient against the fake backend over a real socket (docs/platform-contract.md)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from keynet_train.backend.client import NANOID_PATTERN, BackendClient
from keynet_train.errors import (
    AuthenticationError,
    BackendError,
    NotFoundError,
    ValidationError,
)
from keynet_train.extraction.model import Argument
from tests.support.fake_backend import FakeBackend, build_command, sample_projects

ARGUMENTS: list[dict[str, Any]] = [
    {"name": "learning_rate", "type": "float", "default": 0.001, "required": False,
     "help": "Learning rate", "choices": None},
    {"name": "epochs", "type": "int", "default": 10, "required": False, "help": None,
     "choices": None},
]  # fmt: skip
HYPERPARAMETERS = [Argument(**a) for a in ARGUMENTS]


@pytest.fixture
def fake() -> Iterator[FakeBackend]:
    with FakeBackend(projects=sample_projects(45)) as backend:
        yield backend


def make_client(fake: FakeBackend, token: str | None = None, **kwargs: Any) -> BackendClient:
    kwargs.setdefault("sleep", lambda _: None)
    return BackendClient(fake.url, token, **kwargs)


@pytest.fixture
def client(fake: FakeBackend) -> Iterator[BackendClient]:
    with make_client(fake, fake.issue_token()) as c:
        yield c


def test_sign_in_then_use_the_token(fake: FakeBackend) -> None:
    with make_client(fake) as anonymous:
        signed_in = anonymous.sign_in(fake.username, fake.password)
    assert signed_in.harbor.url == fake.harbor_url
    assert signed_in.harbor.username == fake.harbor_username
    assert signed_in.harbor.password.reveal() == fake.harbor_password
    assert signed_in.access_token_expires_at > datetime.now(timezone.utc)
    token = signed_in.access_token.reveal()
    with make_client(fake, token) as client:
        page = client.fetch_trainable_projects()
    assert len(page.content) == 20
    sign_in, projects = fake.requests
    assert sign_in.json == {"username": fake.username, "password": fake.password}
    assert sign_in.header("authorization") is None
    assert projects.header("authorization") == f"Bearer {token}"
    assert projects.header(
        "user-agent",
    ).startswith("keynet-train/")  # type: ignore[union-attr]


def test_wrong_password(fake: FakeBackend) -> None:
    with make_client(fake) as client, pytest.raises(AuthenticationError) as info:
        client.sign_in(fake.username, "wrong-password-CANARY")
    assert "wrong username or password" in info.value.message
    assert "wrong-password-CANARY" not in info.value.message


def test_paging(client: BackendClient) -> None:
    pages = [client.fetch_trainable_projects(page=n, limit=20) for n in range(3)]
    assert [len(p.content) for p in pages] == [20, 20, 5]
    assert {p.meta.max_page for p in pages} == {2}
    assert pages[2].meta.total == 45
    assert pages[2].content[-1].id == 45
    beyond = client.fetch_trainable_projects(page=3, limit=20)
    assert beyond.content == []


def test_bad_paging_is_rejected_by_the_server(client: BackendClient) -> None:
    with pytest.raises(ValidationError, match="Request rejected: page must be >= 0"):
        client.fetch_trainable_projects(page=-1)


def test_upload_key(fake: FakeBackend, client: BackendClient) -> None:
    result = client.request_upload_key(3, "train.py", HYPERPARAMETERS)
    assert NANOID_PATTERN.match(result.upload_key)
    assert result.upload_key == fake.upload_keys[-1]
    assert result.command == "python train.py --learning_rate 0.001 --epochs 10"
    (request,) = fake.requests_to("/v1/projects/3/trains/images", "POST")
    assert request.json == {"modelName": "train.py", "hyperParameters": ARGUMENTS}
    second = client.request_upload_key(3, "train.py", HYPERPARAMETERS)
    assert second.upload_key != result.upload_key


def test_upload_key_unknown_project(client: BackendClient) -> None:
    with pytest.raises(NotFoundError, match="Project 999"):
        client.request_upload_key(999, "train.py", HYPERPARAMETERS)


def test_upload_key_server_side_validation(client: BackendClient) -> None:
    duplicated = [HYPERPARAMETERS[0], HYPERPARAMETERS[0]]
    with pytest.raises(ValidationError) as info:
        client.request_upload_key(1, "train.py", duplicated)
    assert "Request rejected: hyperParameters[1].name 'learning_rate' is duplicated" in (
        info.value.message
    )


@pytest.mark.parametrize("how", ["expire", "revoke", "unknown"])
def test_expired_revoked_or_unknown_token(fake: FakeBackend, how: str) -> None:
    token = fake.issue_token()
    if how == "expire":
        fake.expire_tokens()
    elif how == "revoke":
        fake.revoke_tokens()
    else:
        token = "not-a-token-we-issued"
    with make_client(fake, token) as client, pytest.raises(AuthenticationError) as info:
        client.fetch_trainable_projects()
    assert "(401)" in info.value.message
    assert token not in info.value.message


def test_token_expiry_from_ttl() -> None:
    with FakeBackend(token_ttl=0.2) as fake, make_client(fake) as anonymous:
        token = anonymous.sign_in(fake.username, fake.password).access_token.reveal()
        with make_client(fake, token) as client:
            client.fetch_trainable_projects()
            time.sleep(0.3)
            with pytest.raises(AuthenticationError):
                client.fetch_trainable_projects()


# ---------------------------------------------------------------------------- failure modes

Invoke = Callable[[BackendClient, FakeBackend], object]
CALLS: dict[str, tuple[str, Invoke]] = {
    "sign_in": ("/v1/auth/sign-in/one-time", lambda c, f: c.sign_in(f.username, f.password)),
    "projects": ("/v1/projects/trainable", lambda c, f: c.fetch_trainable_projects()),
    "upload": ("/v1/projects/1/trains/images", lambda c, f: c.request_upload_key(1, "t.py", [])),
}


@pytest.mark.parametrize("endpoint", list(CALLS))
@pytest.mark.parametrize(
    ("mode", "error", "text"),
    [
        ("401", AuthenticationError, "(401)"),
        ("403", AuthenticationError, "(403)"),
        ("400", ValidationError, "Request rejected: injected problem"),
        ("422", ValidationError, "Request rejected: injected problem"),
        ("404", NotFoundError, "404"),
        ("500", BackendError, "(500)"),
        ("non_json", BackendError, "not JSON"),
        ("wrong_schema", BackendError, "does not match the API contract"),
    ],
)
def test_failure_modes(
    fake: FakeBackend,
    client: BackendClient,
    endpoint: str,
    mode: str,
    error: type[Exception],
    text: str,
) -> None:
    path, invoke = CALLS[endpoint]
    fake.fail(path, mode, message="injected problem")
    with pytest.raises(error) as info:
        invoke(client, fake)
    assert text in str(info.value)
    assert len(fake.requests_to(path)) == 1
    # The failure was used up: the next call succeeds.
    invoke(client, fake)


@pytest.mark.parametrize("mode", ["429", "502", "503", "504"])
def test_transient_get_failures_are_retried(
    fake: FakeBackend, client: BackendClient, mode: str
) -> None:
    fake.fail("/v1/projects/trainable", mode, times=2)
    assert client.fetch_trainable_projects().meta.total == 45
    assert len(fake.requests_to("/v1/projects/trainable")) == 3


@pytest.mark.parametrize("mode", ["429", "502", "503"])
def test_persistent_get_failures_give_up_after_three_attempts(
    fake: FakeBackend, client: BackendClient, mode: str
) -> None:
    fake.fail("/v1/projects/trainable", mode, times=None)
    with pytest.raises(BackendError, match=f"\\({mode}\\)"):
        client.fetch_trainable_projects()
    assert len(fake.requests_to("/v1/projects/trainable")) == 3


@pytest.mark.parametrize("endpoint", ["sign_in", "upload"])
@pytest.mark.parametrize("mode", ["500", "502", "503"])
def test_posts_are_not_retried(
    fake: FakeBackend, client: BackendClient, endpoint: str, mode: str
) -> None:
    path, invoke = CALLS[endpoint]
    fake.fail(path, mode, times=None)
    with pytest.raises(BackendError):
        invoke(client, fake)
    assert len(fake.requests_to(path)) == 1


def test_dropped_connection_on_post_is_not_retried(
    fake: FakeBackend, client: BackendClient
) -> None:
    fake.fail("/v1/projects/1/trains/images", "drop")
    with pytest.raises(BackendError, match="closed the connection"):
        client.request_upload_key(1, "t.py", [])
    assert len(fake.requests_to("/v1/projects/1/trains/images")) == 1


def test_dropped_connection_on_get_is_retried(fake: FakeBackend, client: BackendClient) -> None:
    fake.fail("/v1/projects/trainable", "drop")
    client.fetch_trainable_projects()
    assert len(fake.requests_to("/v1/projects/trainable")) == 2


@pytest.mark.parametrize("endpoint", list(CALLS))
def test_slow_server_times_out(fake: FakeBackend, endpoint: str) -> None:
    path, invoke = CALLS[endpoint]
    fake.fail(path, "slow", delay=5)
    started = time.monotonic()
    with (
        make_client(fake, fake.issue_token(), timeout=0.3) as client,
        pytest.raises(BackendError) as info,
    ):
        invoke(client, fake)
    assert time.monotonic() - started < 2.5  # a read timeout is not retried
    assert "timed out" in info.value.message
    assert len(fake.requests_to(path)) == 1


def test_invalid_upload_key_from_server(fake: FakeBackend, client: BackendClient) -> None:
    fake.fail("/v1/projects/1/trains/images", "invalid_upload_key")
    with pytest.raises(BackendError, match="uploadKey"):
        client.request_upload_key(1, "t.py", HYPERPARAMETERS)


def test_connection_refused(fake: FakeBackend) -> None:
    url = fake.url
    fake.stop()
    sleeps: list[float] = []
    with (
        BackendClient(url, "t", sleep=sleeps.append) as client,
        pytest.raises(BackendError, match="Cannot reach the backend"),
    ):
        client.fetch_trainable_projects()
    assert len(sleeps) == 2  # three attempts


def test_fail_method_filter_and_reset(fake: FakeBackend, client: BackendClient) -> None:
    fake.fail("/v1/projects", "500", times=None, method="POST")
    client.fetch_trainable_projects()  # GET is not affected
    with pytest.raises(BackendError):
        client.request_upload_key(1, "t.py", [])
    fake.reset()
    assert fake.requests == []
    client.request_upload_key(1, "t.py", [])


def test_unknown_failure_mode_is_refused(fake: FakeBackend) -> None:
    with pytest.raises(ValueError, match="unknown failure mode"):
        fake.fail("/", "explode")


def test_build_command() -> None:
    assert (
        build_command("train.py", ARGUMENTS) == "python train.py --learning_rate 0.001 --epochs 10"
    )
    # docs/platform-command.md: every value written, str() of it, nothing quoted, null left out.
    assert build_command("train.py", [{"name": "amp", "default": True},
                                      {"name": "x", "default": False},
                                      {"name": "n", "default": None},
                                      {"name": "e", "default": []},
                                      {"name": "ms", "default": [30, 60]},
                                      {"name": "s", "default": "a b"}]) == (
        "python train.py --amp True --x False --ms [30, 60] --s a b"
    )  # fmt: skip


def test_fake_backend_script_serves_until_sigterm(tmp_path: Any) -> None:
    import signal
    import subprocess
    import sys
    import urllib.error
    import urllib.request
    from pathlib import Path

    projects = tmp_path / "projects.json"
    projects.write_text(json.dumps(sample_projects(2)))
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_backend", "--port", "0",
         "--username", "u", "--password", "p", "--harbor-url", "https://127.0.0.1:1",
         "--harbor-username", "robot$u", "--harbor-password", "hp",
         "--projects-json", str(projects)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with BackendClient(url, None) as client:
            token = client.sign_in("u", "p").access_token.reveal()
        with BackendClient(url, token) as client:
            assert client.fetch_trainable_projects().meta.total == 2
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(url + "/v1/projects/trainable", timeout=5)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
