"""Registry credential check: parsing and misconfigured registries (pytest-httpx), a real registry.

The Bearer flow against a Harbor-like token service over real sockets is in
``test_registry_auth_harbor.py``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from pytest_httpx import HTTPXMock

from keynet_train.errors import RegistryAuthError, RegistryError
from keynet_train.registry.answers import (
    normalise_registry_url,
    parse_challenges,
)
from tests.support.registry_calls import manifest_digest, verify_registry_credentials
from tests.support.services import RegistryHandle, missing_binaries, start_registry

REGISTRY = "https://harbor.example.com"
USER = "robot$550e8400e29b41d4a716446655440000"
PASSWORD = "robot-pw-CANARY-0f1e2d3c4b5a"
REGISTRY_TOKEN = "registry-token-CANARY-998877"
REALM = f"{REGISTRY}/service/token"
ACCOUNT = quote(USER, safe="")
UNAUTHORIZED = {
    "errors": [{"code": "UNAUTHORIZED", "message": "authentication required", "detail": None}]
}


def basic(user: str = USER, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def assert_clean(error: Exception, *extra: str) -> None:
    for secret in (PASSWORD, REGISTRY_TOKEN, *extra):
        text = f"{error} {getattr(error, 'hint', '')} {error!r}"
        assert secret not in text


def bearer_challenge(realm: str = REALM, scope: str | None = None) -> dict[str, str]:
    value = f'Bearer realm="{realm}",service="harbor-registry"'
    if scope:
        value += f',scope="{scope}"'
    return {"WWW-Authenticate": value}


# ---------------------------------------------------------------------------- parsing


def test_normalise_registry_url() -> None:
    assert normalise_registry_url("harbor.example.com/") == "https://harbor.example.com"
    assert normalise_registry_url("http://127.0.0.1:5000/x") == "http://127.0.0.1:5000"
    for bad in ("https://", "ftp://host", ""):
        with pytest.raises(RegistryError):
            normalise_registry_url(bad)


def test_parse_challenges() -> None:
    assert parse_challenges(
        ['Bearer realm="https://h/service/token",service="harbor-registry",scope="a:b:pull,push"']
    ) == [
        (
            "bearer",
            {"realm": "https://h/service/token", "service": "harbor-registry",
             "scope": "a:b:pull,push"},
        )
    ]  # fmt: skip
    assert parse_challenges(['Basic realm="a", Bearer realm=b,service=s']) == [
        ("basic", {"realm": "a"}),
        ("bearer", {"realm": "b", "service": "s"}),
    ]
    assert parse_challenges([]) == []


# ---------------------------------------------------------------------------- flows (mocked)


def test_open_registry_needs_no_credentials(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{REGISTRY}/v2/", json={})
    verify_registry_credentials(REGISTRY, USER, PASSWORD)
    assert len(httpx_mock.get_requests()) == 1


def test_basic_flow(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{REGISTRY}/v2/",
        status_code=401,
        headers={"WWW-Authenticate": 'Basic realm="keynet"'},
        json=UNAUTHORIZED,
    )
    httpx_mock.add_response(url=f"{REGISTRY}/v2/", match_headers={"Authorization": basic()})
    verify_registry_credentials("harbor.example.com", USER, PASSWORD)
    first, _ = httpx_mock.get_requests()
    assert "authorization" not in first.headers


def test_basic_flow_wrong_password(httpx_mock: HTTPXMock) -> None:
    for _ in range(2):
        httpx_mock.add_response(
            url=f"{REGISTRY}/v2/",
            status_code=401,
            headers={"WWW-Authenticate": 'Basic realm="keynet"'},
            json=UNAUTHORIZED,
        )
    with pytest.raises(RegistryAuthError) as info:
        verify_registry_credentials(REGISTRY, USER, PASSWORD)
    assert "Harbor Registry authentication failed" in info.value.message
    assert "unauthorized: authentication required" in info.value.message
    assert info.value.hint is not None and "re-login" in info.value.hint
    assert_clean(info.value)


def test_bearer_flow_passes_scope_and_relative_realm(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{REGISTRY}/v2/",
        status_code=401,
        headers=bearer_challenge("/service/token", scope="repository:p/r:pull"),
    )
    httpx_mock.add_response(
        url=f"{REALM}?service=harbor-registry&scope=repository%3Ap%2Fr%3Apull&account={ACCOUNT}",
        json={"token": REGISTRY_TOKEN},
    )
    httpx_mock.add_response(url=f"{REGISTRY}/v2/")
    verify_registry_credentials(REGISTRY, USER, PASSWORD)


@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": 5}, None])
def test_token_service_without_token(httpx_mock: HTTPXMock, body: object) -> None:
    httpx_mock.add_response(url=f"{REGISTRY}/v2/", status_code=401, headers=bearer_challenge())
    if body is None:
        httpx_mock.add_response(
            url=f"{REALM}?service=harbor-registry&account={ACCOUNT}", text="<html>"
        )
    else:
        httpx_mock.add_response(url=f"{REALM}?service=harbor-registry&account={ACCOUNT}", json=body)
    with pytest.raises(RegistryError, match="returned no token"):
        verify_registry_credentials(REGISTRY, USER, PASSWORD)


def test_plain_http_realm_for_https_registry_is_refused(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{REGISTRY}/v2/", status_code=401, headers=bearer_challenge("http://evil/token")
    )
    with pytest.raises(RegistryError, match="refusing to send credentials"):
        verify_registry_credentials(REGISTRY, USER, PASSWORD)
    assert len(httpx_mock.get_requests()) == 1


def test_bearer_without_realm(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{REGISTRY}/v2/", status_code=401, headers={"WWW-Authenticate": "Bearer service=x"}
    )
    with pytest.raises(RegistryError, match="without a realm"):
        verify_registry_credentials(REGISTRY, USER, PASSWORD)


@pytest.mark.parametrize("header", [None, 'Negotiate realm="x"'])
def test_unsupported_or_missing_challenge(httpx_mock: HTTPXMock, header: str | None) -> None:
    headers = {"WWW-Authenticate": header} if header else {}
    httpx_mock.add_response(url=f"{REGISTRY}/v2/", status_code=401, headers=headers)
    with pytest.raises(RegistryError, match="unsupported authentication scheme"):
        verify_registry_credentials(REGISTRY, USER, PASSWORD)


def test_not_a_registry(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{REGISTRY}/v2/", status_code=404, text="Not Found")
    with pytest.raises(RegistryError, match="not a container registry"):
        verify_registry_credentials(REGISTRY, USER, PASSWORD)


def test_registry_server_error(httpx_mock: HTTPXMock) -> None:
    for _ in range(3):
        httpx_mock.add_response(url=f"{REGISTRY}/v2/", status_code=503, text="maintenance")
    waits: list[float] = []
    with pytest.raises(RegistryError, match="HTTP 503: maintenance"):
        verify_registry_credentials(REGISTRY, USER, PASSWORD, sleep=waits.append)
    assert waits == [0.5, 1.0]  # 3 attempts with backoff, then the error


def test_transient_failure_then_success(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ConnectError("[Errno 104] Connection reset by peer"))
    httpx_mock.add_response(url=f"{REGISTRY}/v2/", status_code=502)
    httpx_mock.add_response(url=f"{REGISTRY}/v2/", status_code=200)
    waits: list[float] = []
    verify_registry_credentials(REGISTRY, USER, PASSWORD, sleep=waits.append)
    assert waits == [0.5, 1.0]


def test_connection_error(httpx_mock: HTTPXMock) -> None:
    for _ in range(3):
        httpx_mock.add_exception(httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(RegistryError) as info:
        verify_registry_credentials(REGISTRY, USER, PASSWORD, sleep=lambda _: None)
    assert not isinstance(info.value, RegistryAuthError)
    assert "Cannot reach registry https://harbor.example.com" in info.value.message
    assert "Connection refused" in info.value.message


def test_tls_error_mentions_ca_bundle(httpx_mock: HTTPXMock) -> None:
    error = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] unable to get local issuer")
    error.__cause__ = ssl.SSLCertVerificationError(1, "CERTIFICATE_VERIFY_FAILED")
    httpx_mock.add_exception(error)
    with pytest.raises(RegistryError) as info:
        verify_registry_credentials(REGISTRY, USER, PASSWORD)
    assert "TLS certificate verification failed" in info.value.message
    assert info.value.hint is not None and "KEYNET_CA_BUNDLE" in info.value.hint


# ---------------------------------------------------------------------------- real registry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryHandle]:
    missing = missing_binaries(("docker-registry", "htpasswd", "openssl"))
    if missing:
        # Never a skip: a missing service must fail loudly (in CI and locally).
        pytest.fail(
            f"missing {', '.join(missing)}: apt-get install -y docker-registry apache2-utils "
            "openssl"
        )
    handle = start_registry(
        tmp_path_factory.mktemp("registry"), username="robot$ci", password=PASSWORD, tls=True
    )
    try:
        yield handle
    finally:
        handle.stop()


@pytest.mark.integration
def test_real_registry_right_password(registry: RegistryHandle) -> None:
    assert registry.ca_cert is not None
    verify_registry_credentials(
        registry.url, registry.username, registry.password, ca_bundle=str(registry.ca_cert)
    )


@pytest.mark.integration
def test_real_registry_accepts_host_without_scheme(registry: RegistryHandle) -> None:
    verify_registry_credentials(
        registry.host, registry.username, registry.password, ca_bundle=str(registry.ca_cert)
    )


@pytest.mark.integration
def test_real_registry_wrong_password(registry: RegistryHandle) -> None:
    wrong = "wrong-pw-CANARY-5566"
    with pytest.raises(RegistryAuthError) as info:
        verify_registry_credentials(
            registry.url, registry.username, wrong, ca_bundle=str(registry.ca_cert)
        )
    assert "unauthorized: authentication required" in info.value.message
    assert "(401)" in info.value.message
    assert_clean(info.value, wrong)


@pytest.mark.integration
def test_real_registry_unknown_user(registry: RegistryHandle) -> None:
    with pytest.raises(RegistryAuthError):
        verify_registry_credentials(
            registry.url, "robot$nobody", PASSWORD, ca_bundle=str(registry.ca_cert)
        )


@pytest.mark.integration
def test_real_registry_tls_without_ca(registry: RegistryHandle) -> None:
    with pytest.raises(RegistryError) as info:
        verify_registry_credentials(registry.url, registry.username, registry.password)
    assert not isinstance(info.value, RegistryAuthError)
    assert "TLS certificate verification failed" in info.value.message
    assert info.value.hint is not None and "KEYNET_CA_BUNDLE" in info.value.hint
    assert_clean(info.value)


@pytest.mark.integration
def test_real_registry_insecure_skips_verification(registry: RegistryHandle) -> None:
    verify_registry_credentials(registry.url, registry.username, registry.password, insecure=True)


@pytest.mark.integration
def test_real_registry_debug_log_is_redacted(registry: RegistryHandle) -> None:
    lines: list[str] = []
    verify_registry_credentials(
        registry.url,
        registry.username,
        registry.password,
        ca_bundle=str(registry.ca_cert),
        debug_log=lines.append,
    )
    log = "\n".join(lines)
    assert "< 401" in log and "< 200" in log
    assert PASSWORD not in log
    assert base64.b64encode(f"{registry.username}:{PASSWORD}".encode()).decode() not in log


@pytest.mark.integration
def test_real_registry_unreachable(tmp_path: Path) -> None:
    from tests.support.services import free_port

    with pytest.raises(RegistryError, match="Cannot reach registry"):
        verify_registry_credentials(f"https://127.0.0.1:{free_port()}", "u", PASSWORD)


@pytest.mark.integration
def test_environment_is_not_read_implicitly(
    registry: RegistryHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    # KEYNET_CA_BUNDLE is resolved by the caller (CLI Environment), never from
    # os.environ behind its back, so tests and library use stay deterministic.
    monkeypatch.setitem(os.environ, "KEYNET_CA_BUNDLE", str(registry.ca_cert))
    with pytest.raises(RegistryError, match="TLS"):
        verify_registry_credentials(registry.url, registry.username, registry.password)


# ---------------------------------------------------------------------------- manifest digest

MANIFEST = json.dumps({"schemaVersion": 2, "config": {"digest": "sha256:" + "cd" * 32}}).encode()
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


def test_manifest_digest_through_the_bearer_flow(httpx_mock: HTTPXMock) -> None:
    manifest = f"{REGISTRY}/v2/proj/repo/manifests/v1"
    httpx_mock.add_response(url=manifest, method="GET", status_code=401,
                            headers=bearer_challenge())  # fmt: skip
    httpx_mock.add_response(
        url=f"{REALM}?service=harbor-registry&scope=repository%3Aproj%2Frepo%3Apull&account={USER}",
        match_headers={"Authorization": basic()},
        json={"token": REGISTRY_TOKEN},
    )
    httpx_mock.add_response(
        url=manifest,
        method="GET",
        match_headers={"Authorization": f"Bearer {REGISTRY_TOKEN}"},
        headers={"Docker-Content-Digest": DIGEST},
        content=MANIFEST,
    )
    lines: list[str] = []
    assert (
        manifest_digest(
            REGISTRY, "proj/repo", "v1", USER, PASSWORD, debug_log=lines.append,
            expected_config="cd" * 32,
        )
        == DIGEST
    )  # fmt: skip
    assert REGISTRY_TOKEN not in "\n".join(lines) and PASSWORD not in "\n".join(lines)


@pytest.mark.parametrize(
    ("header", "config", "says"),
    [
        ("sha256:" + "ab" * 32, None, "reports digest"),
        (DIGEST, "ef" * 32, "is not the image podman pushed"),
    ],
)
def test_manifest_digest_that_contradicts_itself_or_the_image_raises(
    httpx_mock: HTTPXMock, header: str, config: str | None, says: str
) -> None:
    httpx_mock.add_response(
        method="GET", headers={"Docker-Content-Digest": header}, content=MANIFEST
    )
    with pytest.raises(RegistryError, match=says):
        manifest_digest(REGISTRY, "proj/repo", "v1", USER, PASSWORD, expected_config=config)


@pytest.mark.parametrize("status", [404, 500])
def test_manifest_digest_unknown_is_none(httpx_mock: HTTPXMock, status: int) -> None:
    httpx_mock.add_response(method="GET", status_code=status)
    assert manifest_digest(REGISTRY, "proj/repo", "v1", USER, PASSWORD) is None


def test_manifest_digest_network_failure_is_none(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"))
    assert manifest_digest(REGISTRY, "proj/repo", "v1", USER, PASSWORD) is None
