"""Registry credential check: a 403 and other final answers of the registry or its token service.

A robot account that may log in but not push, or a token service that refuses
or fails, must each give their own error (never "authentication failed", which
would send the user to re-login for nothing), and never echo a secret.
"""

from __future__ import annotations

import pytest
from pytest_httpx import HTTPXMock

from keynet_train.errors import RegistryAuthError, RegistryError, RegistryPermissionError
from tests.registry.test_auth import (
    ACCOUNT,
    PASSWORD,
    REALM,
    REGISTRY,
    USER,
    assert_clean,
    basic,
    bearer_challenge,
)
from tests.support.registry_calls import verify_registry_credentials

BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="keynet"'}
DENIED = {"errors": [{"code": "DENIED", "message": f"robot {PASSWORD} may not", "detail": None}]}


def _basic_then(httpx_mock: HTTPXMock, status: int, **body: object) -> None:
    httpx_mock.add_response(url=f"{REGISTRY}/v2/", status_code=401, headers=BASIC_CHALLENGE)
    httpx_mock.add_response(
        url=f"{REGISTRY}/v2/", status_code=status, match_headers={"Authorization": basic()}, **body
    )


def test_registry_403_is_a_permission_error_not_a_login_failure(httpx_mock: HTTPXMock) -> None:
    _basic_then(httpx_mock, 403, json=DENIED)
    with pytest.raises(RegistryPermissionError) as info:
        verify_registry_credentials(REGISTRY, USER, PASSWORD)
    assert info.value.message == (
        f"The registry denied robot account {USER} access (403): denied: robot *** may not"
    )
    assert info.value.hint is not None and "push permission" in info.value.hint
    assert_clean(info.value)


def test_registry_403_with_a_push_project_names_the_project(httpx_mock: HTTPXMock) -> None:
    _basic_then(httpx_mock, 403, json={"message": "no push"})
    with pytest.raises(RegistryPermissionError) as info:
        verify_registry_credentials(REGISTRY, USER, PASSWORD, push_project="vision")
    assert info.value.message == (
        f"Harbor robot account {USER} cannot push to Harbor project vision (Harbor: no push)"
    )
    assert info.value.hint is not None and "--harbor-project" in info.value.hint


def test_registry_other_final_status_is_unexpected(httpx_mock: HTTPXMock) -> None:
    _basic_then(httpx_mock, 418, text="teapot")
    with pytest.raises(RegistryError) as info:
        verify_registry_credentials(REGISTRY, USER, PASSWORD)
    assert not isinstance(info.value, (RegistryAuthError, RegistryPermissionError))
    assert (
        info.value.message == f"Unexpected answer from the registry of {REGISTRY}: HTTP 418: teapot"
    )


def _token_service_answers(httpx_mock: HTTPXMock, status: int, **body: object) -> None:
    httpx_mock.add_response(url=f"{REGISTRY}/v2/", status_code=401, headers=bearer_challenge())
    httpx_mock.add_response(
        url=f"{REALM}?service=harbor-registry&account={ACCOUNT}", status_code=status, **body
    )


def test_token_service_403_is_a_permission_error(httpx_mock: HTTPXMock) -> None:
    _token_service_answers(httpx_mock, 403, json={"detail": f"robot disabled ({PASSWORD})"})
    with pytest.raises(RegistryPermissionError) as info:
        verify_registry_credentials(REGISTRY, USER, PASSWORD)
    assert info.value.message == (
        f"The registry denied robot account {USER} access (403): robot disabled (***)"
    )
    assert_clean(info.value)


def test_token_service_other_status_is_unexpected(httpx_mock: HTTPXMock) -> None:
    _token_service_answers(httpx_mock, 400, json={"error": "bad scope"})
    with pytest.raises(RegistryError) as info:
        verify_registry_credentials(REGISTRY, USER, PASSWORD)
    assert not isinstance(info.value, (RegistryAuthError, RegistryPermissionError))
    assert info.value.message == (
        f"Unexpected answer from the token service of {REGISTRY}: HTTP 400: bad scope"
    )
