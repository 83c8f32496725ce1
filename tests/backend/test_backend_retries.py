"""BackendClient retries: which statuses and transport failures are tried again, how often."""

from __future__ import annotations

import ssl

import httpx
import pytest
from pytest_httpx import HTTPXMock

from keynet_train.backend.client import (
    BackendClient,
)
from keynet_train.errors import (
    BackendError,
)
from tests.backend.backend_doubles import (
    PROJECTS_BODY,
    PROJECTS_URL,
    SERVER,
    SIGN_IN_BODY,
    UPLOAD_BODY,
    UPLOAD_URL,
    call,
    url_of,
)

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
