"""BackendClient against pytest-httpx: every status class, malformed bodies, retries."""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from keynet_train.backend.client import (
    ArgumentDefinition,
    BackendClient,
    ProjectsPage,
    SignInResponse,
    UploadKeyRequest,
    UploadKeyResponse,
)
from keynet_train.errors import (
    AuthenticationError,
    BackendError,
    ConfigError,
    KeynetError,
    NotFoundError,
    NotLoggedInError,
    ValidationError,
)

SERVER = "https://api.example.com"
TOKEN = "tok-CANARY-1a2b3c4d5e6f7a8b9c0d"
NEW_TOKEN = "tok-CANARY-NEW-ffeeddccbbaa99"
PASSWORD = "pw-CANARY-Qm4!zT9#vL2"
HARBOR_PASSWORD = "hp-CANARY-robot-77aa66bb55"
SECRETS = (TOKEN, NEW_TOKEN, PASSWORD, HARBOR_PASSWORD)

SIGN_IN_URL = f"{SERVER}/v1/auth/sign-in/one-time"
PROJECTS_URL = re.compile(re.escape(f"{SERVER}/v1/projects/trainable") + r"(\?.*)?$")
UPLOAD_URL = f"{SERVER}/v1/projects/7/trains/images"
UPLOAD_KEY = "abc123xyz456789012345"

SIGN_IN_BODY = {
    "accessToken": NEW_TOKEN,
    "accessTokenExpiresAt": "2025-11-04T12:00:00Z",
    "user": {
        "id": "550e8400-e29b-41d4-a716-446655440000",
        "email": "user@example.com",
        "displayName": "User Name",
        "role": "GENERAL",
    },
    "harbor": {
        "url": "https://harbor.example.com",
        "username": "robot$550e8400e29b41d4a716446655440000",
        "password": HARBOR_PASSWORD,
    },
}
PROJECTS_BODY = {
    "content": [
        {
            "id": 1,
            "title": "Object detection",
            "summary": "...",
            "taskType": "OBJECT_DETECTION",
            "author": {"id": "uuid", "displayName": "Hong Gildong"},
        },
        {"id": 2, "title": "Future", "taskType": "POSE_ESTIMATION"},
    ],
    "meta": {"total": 42, "page": 0, "limit": 20, "maxPage": 2},
}
ARGUMENTS: list[dict[str, Any]] = [
    {
        "name": "learning_rate",
        "type": "float",
        "default": 0.001,
        "required": False,
        "help": "Learning rate",
        "choices": None,
    },
    {"name": "optimizer", "type": "str", "default": "adam", "required": False,
     "help": None, "choices": ["adam", "sgd"]},
    {"name": "amp", "type": "bool", "default": False, "required": False,
     "help": None, "choices": None},
]  # fmt: skip
UPLOAD_BODY = {"id": 123, "uploadKey": UPLOAD_KEY, "command": "python train.py --lr 0.001"}


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def debug_lines() -> list[str]:
    return []


@pytest.fixture
def client(sleeps: list[float], debug_lines: list[str]) -> Iterator[BackendClient]:
    with BackendClient(SERVER, TOKEN, sleep=sleeps.append, debug_log=debug_lines.append) as c:
        yield c


def assert_no_secrets(*texts: str | None) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in (text or ""), f"secret leaked into: {text}"


def assert_clean_error(error: KeynetError) -> None:
    assert_no_secrets(error.message, error.hint, str(error), repr(error.__cause__))


def call(client: BackendClient, endpoint: str) -> Any:
    if endpoint == "sign_in":
        return client.sign_in("alice", PASSWORD)
    if endpoint == "projects":
        return client.fetch_trainable_projects()
    return client.request_upload_key(7, "train.py", ARGUMENTS)


def url_of(endpoint: str) -> str | re.Pattern[str]:
    urls: dict[str, str | re.Pattern[str]] = {
        "sign_in": SIGN_IN_URL,
        "projects": PROJECTS_URL,
        "upload": UPLOAD_URL,
    }
    return urls[endpoint]


ENDPOINTS = ["sign_in", "projects", "upload"]


# ---------------------------------------------------------------------------- success paths


def test_sign_in(httpx_mock: HTTPXMock, client: BackendClient) -> None:
    httpx_mock.add_response(
        method="POST",
        url=SIGN_IN_URL,
        match_json={"username": "alice", "password": PASSWORD},
        json=SIGN_IN_BODY,
    )
    result = client.sign_in("alice", PASSWORD)
    assert isinstance(result, SignInResponse)
    assert result.access_token.reveal() == NEW_TOKEN
    assert result.access_token_expires_at == datetime(2025, 11, 4, 12, tzinfo=timezone.utc)
    assert result.user is not None and result.user.display_name == "User Name"
    assert result.harbor.url == "https://harbor.example.com"
    assert result.harbor.host == "harbor.example.com"
    assert result.harbor.password.reveal() == HARBOR_PASSWORD
    assert_no_secrets(repr(result), str(result))
    request = httpx_mock.get_request()
    assert request is not None
    assert "authorization" not in request.headers  # sign-in is the one unauthenticated call
    assert request.headers["user-agent"].startswith("keynet-train/")


def test_sign_in_naive_expiry_is_utc(httpx_mock: HTTPXMock, client: BackendClient) -> None:
    httpx_mock.add_response(
        url=SIGN_IN_URL, json={**SIGN_IN_BODY, "accessTokenExpiresAt": "2025-11-04T12:00:00"}
    )
    result = client.sign_in("alice", PASSWORD)
    assert result.access_token_expires_at.tzinfo is not None


def test_fetch_trainable_projects(httpx_mock: HTTPXMock, client: BackendClient) -> None:
    httpx_mock.add_response(
        method="GET", url=f"{SERVER}/v1/projects/trainable?page=2&limit=5", json=PROJECTS_BODY
    )
    page = client.fetch_trainable_projects(page=2, limit=5)
    assert isinstance(page, ProjectsPage)
    assert [p.id for p in page.content] == [1, 2]
    assert page.content[0].task_type == "OBJECT_DETECTION"
    assert page.content[1].task_type == "POSE_ESTIMATION"  # unknown values are kept as-is
    assert page.content[0].author is not None
    assert page.content[0].author.display_name == "Hong Gildong"
    assert page.content[1].author is None
    assert page.meta.max_page == 2
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_request_upload_key_sends_the_contract_body(
    httpx_mock: HTTPXMock, client: BackendClient
) -> None:
    httpx_mock.add_response(
        method="POST",
        url=UPLOAD_URL,
        match_json={"modelName": "train.py", "hyperParameters": ARGUMENTS},
        status_code=201,
        json=UPLOAD_BODY,
    )
    result = client.request_upload_key(7, "train.py", ARGUMENTS)
    assert isinstance(result, UploadKeyResponse)
    assert (result.id, result.upload_key, result.command) == (
        123,
        UPLOAD_KEY,
        "python train.py --lr 0.001",
    )
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"


def test_upload_key_accepts_argument_models_and_minimal_dicts(
    httpx_mock: HTTPXMock, client: BackendClient
) -> None:
    httpx_mock.add_response(url=UPLOAD_URL, json=UPLOAD_BODY)
    client.request_upload_key(
        7,
        "train.py",
        [ArgumentDefinition(name="epochs", type="int", default=10), {"name": "x", "type": "str"}],
    )
    request = httpx_mock.get_request()
    assert request is not None
    assert json.loads(request.content)["hyperParameters"] == [
        {"name": "epochs", "type": "int", "default": 10, "required": False, "help": None,
         "choices": None},
        {"name": "x", "type": "str", "default": None, "required": False, "help": None,
         "choices": None},
    ]  # fmt: skip


def test_models_accept_snake_case_and_dump_camel_case() -> None:
    request = UploadKeyRequest(model_name="m.py", hyper_parameters=[])
    assert request.to_wire() == {"modelName": "m.py", "hyperParameters": []}
    assert UploadKeyResponse(id=1, upload_key=UPLOAD_KEY).upload_key == UPLOAD_KEY


def test_bool_default_is_not_turned_into_an_int() -> None:
    argument = ArgumentDefinition.model_validate({"name": "f", "type": "bool", "default": True})
    assert argument.default is True


# ---------------------------------------------------------------------------- NanoID


@pytest.mark.parametrize(
    "key", ["abc123xyz456789012345", "A_-zZ09" * 3, "_" * 21, "-abcdefghijklmnopqrst"]
)
def test_valid_nanoids(key: str) -> None:
    assert UploadKeyResponse.model_validate({"id": 1, "uploadKey": key}).upload_key == key


@pytest.mark.parametrize(
    "key",
    ["", "abc123", "abc123xyz4567890123456", "abc123xyz45678901234!", "abc123xyz4567890123 4",
     "abc123xyz45678901234é", "abc123xyz45678901234\n", 123456789012345678901],
)  # fmt: skip
def test_invalid_nanoids_are_rejected(
    httpx_mock: HTTPXMock, client: BackendClient, key: object
) -> None:
    httpx_mock.add_response(url=UPLOAD_URL, json={"id": 1, "uploadKey": key, "command": "x"})
    with pytest.raises(BackendError) as info:
        client.request_upload_key(7, "train.py", ARGUMENTS)
    assert "POST /v1/projects/7/trains/images" in info.value.message
    assert "uploadKey" in info.value.message


# ---------------------------------------------------------------------------- status mapping


@pytest.mark.parametrize("endpoint", ["projects", "upload"])
@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures(
    httpx_mock: HTTPXMock, client: BackendClient, endpoint: str, status: int
) -> None:
    httpx_mock.add_response(url=url_of(endpoint), status_code=status, json={"message": "expired"})
    with pytest.raises(AuthenticationError) as info:
        call(client, endpoint)
    message = info.value.message
    assert f"Backend API authentication failed ({status})" in message
    assert "expired or revoked" in message
    assert "login again" in message
    assert info.value.hint == f"Run: keynet-train login {SERVER}"
    assert len(httpx_mock.get_requests()) == 1  # never retried
    assert_clean_error(info.value)


@pytest.mark.parametrize("status", [401, 403])
def test_sign_in_rejected_is_wrong_username_or_password(
    httpx_mock: HTTPXMock, client: BackendClient, status: int
) -> None:
    httpx_mock.add_response(
        url=SIGN_IN_URL, status_code=status, json={"message": f"bad password {PASSWORD}"}
    )
    with pytest.raises(AuthenticationError) as info:
        client.sign_in("alice", PASSWORD)
    assert "wrong username or password" in info.value.message
    assert_clean_error(info.value)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("status", [400, 422])
def test_rejected_requests_show_the_server_message(
    httpx_mock: HTTPXMock, client: BackendClient, endpoint: str, status: int
) -> None:
    httpx_mock.add_response(
        url=url_of(endpoint),
        status_code=status,
        json={"message": "hyperParameters[0].type must be one of str, int, float, bool"},
    )
    with pytest.raises(ValidationError) as info:
        call(client, endpoint)
    assert info.value.message.startswith(
        "Request rejected: hyperParameters[0].type must be one of str, int, float, bool"
    )
    assert str(status) in info.value.message
    if endpoint == "upload":
        assert info.value.hint is not None
        assert "hyperparameter definitions" in info.value.hint
    assert len(httpx_mock.get_requests()) == 1


def test_rejected_without_message_shows_the_body(
    httpx_mock: HTTPXMock, client: BackendClient
) -> None:
    httpx_mock.add_response(url=UPLOAD_URL, status_code=400, text="modelName too long")
    with pytest.raises(ValidationError, match="Request rejected: modelName too long"):
        call(client, "upload")


def test_rejected_with_error_list(httpx_mock: HTTPXMock, client: BackendClient) -> None:
    httpx_mock.add_response(
        url=UPLOAD_URL,
        status_code=422,
        json={"errors": [{"field": "modelName", "message": "required"}, "second problem"]},
    )
    with pytest.raises(ValidationError, match="required; second problem"):
        call(client, "upload")


def test_rejected_json_without_a_message_key_shows_the_object_redacted(
    httpx_mock: HTTPXMock, client: BackendClient
) -> None:
    # A JSON object with none of message/error/detail/errors: the whole object,
    # its secret-named fields masked, not the bare status phrase.
    httpx_mock.add_response(
        url=UPLOAD_URL,
        status_code=400,
        json={"field": "modelName", "password": PASSWORD},
    )
    with pytest.raises(ValidationError) as info:
        call(client, "upload")
    assert '{"field": "modelName", "password": "***"}' in info.value.message
    assert_clean_error(info.value)


def test_server_message_echoing_secrets_is_scrubbed(
    httpx_mock: HTTPXMock, client: BackendClient
) -> None:
    httpx_mock.add_response(
        url=UPLOAD_URL,
        status_code=400,
        json={"message": f"token {TOKEN} is not allowed here", "password": PASSWORD},
    )
    with pytest.raises(ValidationError) as info:
        call(client, "upload")
    assert "token *** is not allowed here" in info.value.message
    assert_clean_error(info.value)


def test_upload_404_names_the_project(httpx_mock: HTTPXMock, client: BackendClient) -> None:
    httpx_mock.add_response(url=UPLOAD_URL, status_code=404, json={"message": "no such project"})
    with pytest.raises(NotFoundError) as info:
        call(client, "upload")
    assert "Project 7" in info.value.message
    assert info.value.hint is not None and "keynet-train projects" in info.value.hint


@pytest.mark.parametrize("endpoint", ["sign_in", "projects"])
def test_404_elsewhere_is_not_found(
    httpx_mock: HTTPXMock, client: BackendClient, endpoint: str
) -> None:
    httpx_mock.add_response(url=url_of(endpoint), status_code=404, text="Not Found")
    with pytest.raises(NotFoundError, match="404"):
        call(client, endpoint)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("status", [500, 501, 505])
def test_server_errors_are_backend_errors_with_the_status(
    httpx_mock: HTTPXMock, client: BackendClient, endpoint: str, status: int
) -> None:
    httpx_mock.add_response(url=url_of(endpoint), status_code=status, text="<html>boom</html>")
    with pytest.raises(BackendError) as info:
        call(client, endpoint)
    assert f"({status})" in info.value.message
    assert len(httpx_mock.get_requests()) == 1  # 500/501/505 are not transient: no retry


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_unexpected_status(httpx_mock: HTTPXMock, client: BackendClient, endpoint: str) -> None:
    httpx_mock.add_response(
        url=url_of(endpoint), status_code=302, headers={"Location": "https://elsewhere/"}
    )
    with pytest.raises(BackendError, match="Unexpected HTTP 302"):
        call(client, endpoint)


# ---------------------------------------------------------------------------- malformed bodies


MALFORMED = {
    "sign_in": [
        {"accessToken": NEW_TOKEN},  # no expiry, no harbor
        {**SIGN_IN_BODY, "accessTokenExpiresAt": "tomorrow"},
        {**SIGN_IN_BODY, "harbor": {"url": "https://h", "username": "r"}},
        {**SIGN_IN_BODY, "accessToken": ""},
        [SIGN_IN_BODY],
    ],
    "projects": [
        {"content": "not-a-list", "meta": PROJECTS_BODY["meta"]},
        {"content": PROJECTS_BODY["content"]},
        {"content": [{"id": "one", "title": "x", "taskType": "T"}], "meta": PROJECTS_BODY["meta"]},
        {"content": [{"id": 1, "taskType": "T"}], "meta": PROJECTS_BODY["meta"]},
        42,
    ],
    "upload": [
        {"uploadKey": UPLOAD_KEY},
        {"id": 1},
        {"id": 1, "uploadKey": None},
        "abc123xyz456789012345",
    ],
}


@pytest.mark.parametrize(
    ("endpoint", "body"), [(e, b) for e, bodies in MALFORMED.items() for b in bodies]
)
def test_schema_violations_name_the_endpoint(
    httpx_mock: HTTPXMock, client: BackendClient, endpoint: str, body: Any
) -> None:
    httpx_mock.add_response(url=url_of(endpoint), json=body)
    with pytest.raises(BackendError) as info:
        call(client, endpoint)
    assert "does not match the API contract" in info.value.message
    path = {"sign_in": "/v1/auth/sign-in/one-time", "projects": "/v1/projects/trainable"}.get(
        endpoint, "/v1/projects/7/trains/images"
    )
    assert path in info.value.message
    assert info.value.__cause__ is None  # pydantic errors carry inputs: never chained
    assert_clean_error(info.value)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "content", [b"<html><body>Welcome to nginx!</body></html>", b"", b"{truncated", b"\xff\xfe"]
)
def test_non_json_bodies_name_the_endpoint(
    httpx_mock: HTTPXMock, client: BackendClient, endpoint: str, content: bytes
) -> None:
    httpx_mock.add_response(
        url=url_of(endpoint), content=content, headers={"Content-Type": "text/html"}
    )
    with pytest.raises(BackendError) as info:
        call(client, endpoint)
    assert "not JSON" in info.value.message
    assert "text/html" in info.value.message
    assert "/v1/" in info.value.message


# ---------------------------------------------------------------------------- retries


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_get_retried_on_transient_status_then_ok(
    httpx_mock: HTTPXMock, client: BackendClient, sleeps: list[float], status: int
) -> None:
    httpx_mock.add_response(url=PROJECTS_URL, status_code=status)
    httpx_mock.add_response(url=PROJECTS_URL, status_code=status)
    httpx_mock.add_response(url=PROJECTS_URL, json=PROJECTS_BODY)
    page = client.fetch_trainable_projects()
    assert page.meta.total == 42
    assert len(httpx_mock.get_requests()) == 3
    assert sleeps == [0.5, 1.0]  # exponential backoff


def test_get_gives_up_after_three_attempts(
    httpx_mock: HTTPXMock, client: BackendClient, sleeps: list[float]
) -> None:
    for _ in range(3):
        httpx_mock.add_response(url=PROJECTS_URL, status_code=503, json={"message": "down"})
    with pytest.raises(BackendError) as info:
        client.fetch_trainable_projects()
    assert "(503)" in info.value.message
    assert "down" in info.value.message
    assert len(httpx_mock.get_requests()) == 3
    assert len(sleeps) == 2


def test_429_is_reported_as_rate_limit(httpx_mock: HTTPXMock, client: BackendClient) -> None:
    for _ in range(3):
        httpx_mock.add_response(url=PROJECTS_URL, status_code=429)
    with pytest.raises(BackendError, match=r"rate limit exceeded \(429\)"):
        client.fetch_trainable_projects()


def test_retry_after_is_honoured_and_capped(
    httpx_mock: HTTPXMock, client: BackendClient, sleeps: list[float]
) -> None:
    httpx_mock.add_response(url=PROJECTS_URL, status_code=429, headers={"Retry-After": "2"})
    httpx_mock.add_response(url=PROJECTS_URL, status_code=503, headers={"Retry-After": "3600"})
    httpx_mock.add_response(url=PROJECTS_URL, json=PROJECTS_BODY)
    client.fetch_trainable_projects()
    assert sleeps == [2.0, 30.0]


@pytest.mark.parametrize(
    "exception",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow connect"),
     httpx.RemoteProtocolError("Server disconnected"), httpx.ReadError("reset")],
)  # fmt: skip
def test_get_retried_on_connection_failures(
    httpx_mock: HTTPXMock, client: BackendClient, exception: Exception
) -> None:
    httpx_mock.add_exception(exception, url=PROJECTS_URL)
    httpx_mock.add_response(url=PROJECTS_URL, json=PROJECTS_BODY)
    client.fetch_trainable_projects()
    assert len(httpx_mock.get_requests()) == 2


def test_get_connect_error_three_times(
    httpx_mock: HTTPXMock, client: BackendClient, sleeps: list[float]
) -> None:
    for _ in range(3):
        httpx_mock.add_exception(httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(BackendError) as info:
        client.fetch_trainable_projects()
    assert f"Cannot reach the backend at {SERVER}" in info.value.message
    assert "Connection refused" in info.value.message
    assert sleeps == [0.5, 1.0]


def test_get_not_retried_on_read_timeout(httpx_mock: HTTPXMock, client: BackendClient) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("timed out"))
    with pytest.raises(BackendError, match="timed out"):
        client.fetch_trainable_projects()
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize("endpoint", ["sign_in", "upload"])
@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_post_not_retried_on_any_status(
    httpx_mock: HTTPXMock, client: BackendClient, endpoint: str, status: int
) -> None:
    httpx_mock.add_response(url=url_of(endpoint), status_code=status)
    with pytest.raises(BackendError):
        call(client, endpoint)
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize("endpoint", ["sign_in", "upload"])
def test_post_retried_when_the_connection_failed(
    httpx_mock: HTTPXMock, client: BackendClient, endpoint: str, sleeps: list[float]
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=url_of(endpoint))
    httpx_mock.add_response(
        url=url_of(endpoint), json=SIGN_IN_BODY if endpoint == "sign_in" else UPLOAD_BODY
    )
    call(client, endpoint)
    assert len(httpx_mock.get_requests()) == 2
    assert sleeps == [0.5]


@pytest.mark.parametrize(
    "exception",
    [httpx.RemoteProtocolError("Server disconnected without sending a response."),
     httpx.ReadError("connection reset"), httpx.ReadTimeout("timed out"),
     httpx.WriteError("broken pipe")],
)  # fmt: skip
def test_post_not_retried_once_the_request_may_have_been_sent(
    httpx_mock: HTTPXMock, client: BackendClient, exception: Exception
) -> None:
    httpx_mock.add_exception(exception, url=UPLOAD_URL)
    with pytest.raises(BackendError):
        call(client, "upload")
    assert len(httpx_mock.get_requests()) == 1


def test_tls_failure_is_not_retried_and_mentions_ca_bundle(
    httpx_mock: HTTPXMock, client: BackendClient
) -> None:
    try:
        raise ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] self-signed")
    except ssl.SSLError as exc:
        error = httpx.ConnectError(str(exc))
        error.__cause__ = exc
    httpx_mock.add_exception(error)
    with pytest.raises(BackendError) as info:
        client.fetch_trainable_projects()
    assert "TLS certificate verification failed" in info.value.message
    assert info.value.hint is not None and "KEYNET_CA_BUNDLE" in info.value.hint
    assert len(httpx_mock.get_requests()) == 1


# ---------------------------------------------------------------------------- local checks


def test_no_token_fails_before_sending(httpx_mock: HTTPXMock) -> None:
    with BackendClient(SERVER, None) as client, pytest.raises(NotLoggedInError) as info:
        client.fetch_trainable_projects()
    assert "keynet-train login" in info.value.message
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    "argument",
    [{"name": "lr", "type": "double"}, {"type": "int"}, {"name": "", "type": "int"},
     {"name": "c", "type": "str", "choices": [1, 2]},
     {"name": "r", "type": "str", "required": "yes"}],
)  # fmt: skip
def test_invalid_arguments_fail_locally(
    httpx_mock: HTTPXMock, client: BackendClient, argument: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError, match="Invalid hyperparameter definition #2"):
        client.request_upload_key(7, "train.py", [ARGUMENTS[0], argument])
    assert httpx_mock.get_requests() == []


def test_invalid_server_url_is_a_config_error(httpx_mock: HTTPXMock) -> None:
    with pytest.raises(ConfigError, match="Invalid backend URL"):
        BackendClient("https://[::1", TOKEN)


def test_unsupported_scheme_is_a_backend_error(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.UnsupportedProtocol("unsupported protocol 'ftp://'"))
    with BackendClient("ftp://example.com", TOKEN) as client, pytest.raises(BackendError):
        client.fetch_trainable_projects()
    assert len(httpx_mock.get_requests()) == 1


def test_server_url_with_path_prefix_and_trailing_slash(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{SERVER}/api/v1/auth/sign-in/one-time", json=SIGN_IN_BODY)
    with BackendClient(f"{SERVER}/api/", None) as client:
        client.sign_in("alice", PASSWORD)


# ---------------------------------------------------------------------------- debug log


def test_debug_log_never_contains_secrets(
    httpx_mock: HTTPXMock, client: BackendClient, debug_lines: list[str]
) -> None:
    httpx_mock.add_response(url=SIGN_IN_URL, json=SIGN_IN_BODY)
    httpx_mock.add_response(url=PROJECTS_URL, json=PROJECTS_BODY)
    httpx_mock.add_response(url=UPLOAD_URL, json=UPLOAD_BODY)
    httpx_mock.add_response(
        url=PROJECTS_URL, status_code=400, text=f"echo: {PASSWORD} {HARBOR_PASSWORD} {TOKEN}"
    )
    client.sign_in("alice", PASSWORD)
    client.fetch_trainable_projects()
    client.request_upload_key(7, "train.py", ARGUMENTS)
    with pytest.raises(ValidationError):
        client.fetch_trainable_projects()
    log = "\n".join(debug_lines)
    assert_no_secrets(log)
    assert "> POST https://api.example.com/v1/auth/sign-in/one-time" in log
    assert "authorization: Bearer ***" in log
    assert '"password": "***"' in log
    assert '"learning_rate"' in log  # non-secret content stays useful
    assert len(debug_lines) == 8  # one block per request and per response
