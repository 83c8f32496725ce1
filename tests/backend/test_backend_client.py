"""BackendClient against pytest-httpx: every status class, malformed bodies, retries."""

from __future__ import annotations

import json
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
    NotFoundError,
    NotLoggedInError,
    ValidationError,
)
from keynet_train.extraction.model import Argument
from tests.backend.backend_doubles import (
    ARGUMENTS,
    ENDPOINTS,
    HARBOR_PASSWORD,
    HYPERPARAMETERS,
    NEW_TOKEN,
    PASSWORD,
    PROJECTS_BODY,
    PROJECTS_URL,
    SERVER,
    SIGN_IN_BODY,
    SIGN_IN_URL,
    TOKEN,
    UPLOAD_BODY,
    UPLOAD_KEY,
    UPLOAD_URL,
    assert_clean_error,
    assert_no_secrets,
    call,
    url_of,
)

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
    result = client.request_upload_key(7, "train.py", HYPERPARAMETERS)
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


def test_upload_key_takes_any_object_with_the_six_fields(
    httpx_mock: HTTPXMock, client: BackendClient
) -> None:
    """The extractor's Argument (descriptor and all) and the wire model both fit."""
    httpx_mock.add_response(url=UPLOAD_URL, json=UPLOAD_BODY)
    client.request_upload_key(
        7,
        "train.py",
        [
            ArgumentDefinition(name="epochs", type="int", default=10),
            Argument("x", "str", flags=("--x",), kind="value", scope="global"),
        ],
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
        client.request_upload_key(7, "train.py", HYPERPARAMETERS)
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


# ---------------------------------------------------------------------------- local checks


def test_no_token_fails_before_sending(httpx_mock: HTTPXMock) -> None:
    with BackendClient(SERVER, None) as client, pytest.raises(NotLoggedInError) as info:
        client.fetch_trainable_projects()
    assert "keynet-train login" in info.value.message
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    "argument",
    [{"name": "lr", "type": "double"}, {"name": None, "type": "int"}, {"name": "", "type": "int"},
     {"name": "c", "type": "str", "choices": [1, 2]},
     {"name": "r", "type": "str", "required": "yes"}],
)  # fmt: skip
def test_invalid_arguments_fail_locally(
    httpx_mock: HTTPXMock, client: BackendClient, argument: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError, match="Invalid hyperparameter definition #2"):
        client.request_upload_key(7, "train.py", [HYPERPARAMETERS[0], Argument(**argument)])
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
    client.request_upload_key(7, "train.py", HYPERPARAMETERS)
    with pytest.raises(ValidationError):
        client.fetch_trainable_projects()
    log = "\n".join(debug_lines)
    assert_no_secrets(log)
    assert "> POST https://api.example.com/v1/auth/sign-in/one-time" in log
    assert "authorization: Bearer ***" in log
    assert '"password": "***"' in log
    assert '"learning_rate"' in log  # non-secret content stays useful
    assert len(debug_lines) == 8  # one block per request and per response


def test_the_six_fields_are_mapped_once_for_request_and_record() -> None:
    """What the request sends and what the push records (its hash) is one mapping."""
    from keynet_train.backend.models import definition_fields

    assert [definition_fields(a) for a in HYPERPARAMETERS] == ARGUMENTS
    described = Argument("lr", "float", 0.1, flags=("--lr",), nargs=2, min=0)
    assert list(definition_fields(described)) == [
        "name", "type", "default", "required", "help", "choices"
    ]  # fmt: skip
