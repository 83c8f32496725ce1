"""The HTTP client factory: defaults, CA bundle handling, redacted debug logging."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytest_httpx import HTTPXMock

from keynet_train import __version__
from keynet_train.backend.http import create_http_client, describe_transport_error
from keynet_train.backend.tls import build_ssl_context, is_tls_verification_error
from keynet_train.config import CA_BUNDLE_ENV, ca_bundle_from
from keynet_train.errors import ConfigError
from tests.support.fake_backend import FakeBackend
from tests.support.services import make_self_signed_cert

SECRET_TOKEN = "tok-CANARY-9f8e7d6c5b4a39281706"
SECRET_PASSWORD = "pw-CANARY-Zq8xW3vB7nM1"


def test_defaults() -> None:
    with create_http_client("https://api.example.com") as client:
        assert client.headers["User-Agent"] == f"keynet-train/{__version__}"
        assert client.timeout.connect == 10.0
        assert client.timeout.read == 60.0
        assert client.base_url == httpx.URL("https://api.example.com")
        assert client.follow_redirects is False


def test_timeout_override() -> None:
    with create_http_client(None, timeout=0.25) as client:
        assert client.timeout.read == 0.25
        assert client.timeout.connect == 0.25


def test_ca_bundle_is_read_in_one_place() -> None:
    assert ca_bundle_from({CA_BUNDLE_ENV: "/env.pem"}) == "/env.pem"
    assert ca_bundle_from({CA_BUNDLE_ENV: ""}) is None
    assert ca_bundle_from({}) is None


def test_missing_ca_bundle_is_a_config_error_naming_the_variable(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError) as info:
        create_http_client(None, ca_bundle=str(missing))
    assert CA_BUNDLE_ENV in info.value.message
    assert str(missing) in info.value.message
    assert info.value.hint and CA_BUNDLE_ENV in info.value.hint


@pytest.mark.parametrize("content", ["", "not a certificate\n"])
def test_garbage_ca_bundle_is_a_config_error(tmp_path: Path, content: str) -> None:
    bundle = tmp_path / "bad.pem"
    bundle.write_text(content)
    with pytest.raises(ConfigError) as info:
        build_ssl_context(str(bundle))
    assert CA_BUNDLE_ENV in info.value.message


def test_directory_as_ca_bundle_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        build_ssl_context(str(tmp_path))


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_self_signed_cert(tmp_path_factory.mktemp("tls"))


def test_ca_bundle_adds_to_the_default_trust(tls_pair: tuple[Path, Path]) -> None:
    cert, _ = tls_pair
    default = ssl.create_default_context()
    context = build_ssl_context(str(cert))
    # The private CA is added on top of the public roots, not instead of them.
    assert len(context.get_ca_certs()) > len(default.get_ca_certs()) >= 0
    assert len(context.get_ca_certs()) > 1


def test_ca_bundle_falls_back_to_certifi_without_system_roots(
    tls_pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import certifi

    cert, _ = tls_pair
    # An OpenSSL default store with nothing in it (as on python.org macOS builds).
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    context = build_ssl_context(str(cert))
    public = ssl.create_default_context(cafile=certifi.where())
    assert len(context.get_ca_certs()) == len(public.get_ca_certs()) + 1


@pytest.fixture
def tls_backend(tls_pair: tuple[Path, Path]) -> Iterator[FakeBackend]:
    cert, key = tls_pair
    with FakeBackend(tls_certfile=str(cert), tls_keyfile=str(key)) as backend:
        yield backend


def test_private_ca_is_rejected_without_bundle(tls_backend: FakeBackend) -> None:
    with create_http_client(tls_backend.url) as client, pytest.raises(httpx.ConnectError) as info:
        client.get("/v1/projects/trainable")
    assert is_tls_verification_error(info.value)


def test_private_ca_is_trusted_with_bundle_from_environ(
    tls_backend: FakeBackend, tls_pair: tuple[Path, Path]
) -> None:
    cert, _ = tls_pair
    with create_http_client(tls_backend.url, ca_bundle=str(cert)) as client:
        response = client.get("/v1/projects/trainable")
    assert response.status_code == 401  # TLS worked; the fake wants a token


def test_verify_false_skips_verification(tls_backend: FakeBackend) -> None:
    with create_http_client(tls_backend.url, verify=False) as client:
        assert client.get("/v1/projects/trainable").status_code == 401


def test_debug_log_redacts_headers_and_secret_fields(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url="https://api.example.com/v1/auth/sign-in/one-time?token=" + SECRET_TOKEN,
        json={
            "accessToken": SECRET_TOKEN,
            "harbor": {"url": "https://h", "username": "robot$x", "password": SECRET_PASSWORD},
        },
        headers={"Set-Cookie": f"session={SECRET_TOKEN}"},
    )
    lines: list[str] = []
    with create_http_client("https://api.example.com", debug_log=lines.append) as client:
        client.post(
            "/v1/auth/sign-in/one-time",
            params={"token": SECRET_TOKEN},
            json={"username": "alice", "password": SECRET_PASSWORD},
            headers={"Authorization": f"Bearer {SECRET_TOKEN}", "Cookie": f"c={SECRET_TOKEN}"},
        )
    log = "\n".join(lines)
    assert SECRET_TOKEN not in log
    assert SECRET_PASSWORD not in log
    assert "> POST https://api.example.com/v1/auth/sign-in/one-time" in log
    assert "< 200 OK" in log
    assert "authorization: Bearer ***" in log.lower().replace("bearer", "Bearer")
    assert '"username": "alice"' in log
    assert '"password": "***"' in log
    assert "robot$x" in log


def test_debug_log_redacts_non_json_bodies(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(text=f"error: password={SECRET_PASSWORD} rejected")
    lines: list[str] = []
    with create_http_client(None, debug_log=lines.append) as client:
        client.post("https://r.example.com/token", content=f"password={SECRET_PASSWORD}&x=1")
    log = "\n".join(lines)
    assert SECRET_PASSWORD not in log
    assert "x=1" in log


def test_debug_log_truncates_large_bodies(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(text="x" * 100_000)
    lines: list[str] = []
    with create_http_client(None, debug_log=lines.append) as client:
        client.get("https://r.example.com/big")
    assert len(lines[-1]) < 3000
    assert "100000 bytes" in lines[-1]


def test_describe_transport_errors() -> None:
    request = httpx.Request("GET", "https://x")
    assert "read timeout" in describe_transport_error(httpx.ReadTimeout("t", request=request))
    assert "closed the connection" in describe_transport_error(
        httpx.RemoteProtocolError("Server disconnected", request=request)
    )
    assert describe_transport_error(httpx.ConnectError("refused", request=request)) == "refused"


def test_is_tls_verification_error_follows_causes() -> None:
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] unknown authority")
    try:
        try:
            raise cause
        except ssl.SSLError as exc:
            raise httpx.ConnectError("wrapped") from exc
    except httpx.ConnectError as exc:
        assert is_tls_verification_error(exc)
    assert not is_tls_verification_error(httpx.ConnectError("refused"))


def test_backend_client_over_private_ca(
    tls_backend: FakeBackend, tls_pair: tuple[Path, Path]
) -> None:
    from keynet_train.backend.client import BackendClient
    from keynet_train.errors import BackendError

    with BackendClient(tls_backend.url, None) as client, pytest.raises(BackendError) as info:
        client.sign_in(tls_backend.username, tls_backend.password)
    assert "TLS certificate verification failed" in info.value.message
    assert info.value.hint is not None and CA_BUNDLE_ENV in info.value.hint
    assert tls_backend.requests == []  # never retried, nothing sent

    cert, _ = tls_pair
    with BackendClient(tls_backend.url, None, ca_bundle=str(cert)) as client:
        signed_in = client.sign_in(tls_backend.username, tls_backend.password)
    assert signed_in.harbor.url == tls_backend.harbor_url


def test_one_trust_store_per_bundle_per_process(
    tls_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    """Loading a store costs 50-90 ms: the backend and registry clients of a push share one."""
    cert, _ = tls_pair
    assert build_ssl_context(str(cert)) is build_ssl_context(str(cert))
    copy = tmp_path / "ca.pem"
    copy.write_bytes(cert.read_bytes())
    first = build_ssl_context(str(copy))
    copy.write_bytes(cert.read_bytes() + b"\n")  # rewritten: loaded again
    assert build_ssl_context(str(copy)) is not first


def test_a_plain_http_client_loads_no_system_store_and_fails_closed(
    tls_backend: FakeBackend, tls_pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[str] = []
    original = ssl.SSLContext.load_verify_locations

    def counting(self: ssl.SSLContext, *args: object, **kwargs: object) -> None:
        loads.append("load")
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    monkeypatch.setattr(ssl.SSLContext, "set_default_verify_paths", lambda self: loads.append("x"))
    cert, _ = tls_pair
    plain = "http://127.0.0.1:9"
    with create_http_client(plain, ca_bundle=str(cert)):
        assert loads == ["load"]  # the bundle is checked; the system store is not loaded
    loads.clear()
    with create_http_client(plain) as client:
        assert loads == []
        # Trusting nothing, an https URL sent through it is refused, never unverified.
        with pytest.raises(httpx.ConnectError) as info:
            client.get(tls_backend.url + "/v1/projects/trainable")
    assert is_tls_verification_error(info.value)
