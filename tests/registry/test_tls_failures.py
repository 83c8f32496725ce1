"""TLS failures are named for what they are (issue 21 item 14).

An expired certificate, a certificate for another host name and one signed by
an unknown authority need different fixes; only the last is about
``KEYNET_CA_BUNDLE``, and when that is already set the hint says it holds the
wrong CA instead of suggesting to set it. Real TLS servers on 127.0.0.1 with
certificates made for each case.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from keynet_train.backend.client import BackendClient
from keynet_train.errors import BackendError, KeynetError, RegistryError
from keynet_train.registry.push_errors import classify_push_error
from tests.support.raw_server import raw_server
from tests.support.registry_calls import verify_registry_credentials

NOW = dt.datetime.now(dt.timezone.utc)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _ca(directory: Path, name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=30))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = directory / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


def _leaf(
    directory: Path,
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path],
    *,
    san: x509.GeneralName,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> tuple[Path, Path]:
    ca_key, ca_cert, _ = ca
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("registry"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([san]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / "leaf.pem", directory / "leaf.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


LOOPBACK = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
DAY = dt.timedelta(days=1)
CASES: dict[str, dict[str, Any]] = {
    "expired": {"san": LOOPBACK, "not_before": NOW - 10 * DAY, "not_after": NOW - DAY},
    "not-yet-valid": {"san": LOOPBACK, "not_before": NOW + DAY, "not_after": NOW + 10 * DAY},
    "hostname": {
        "san": x509.DNSName("other.example"),
        "not_before": NOW - DAY,
        "not_after": NOW + 10 * DAY,
    },
    "authority": {"san": LOOPBACK, "not_before": NOW - DAY, "not_after": NOW + 10 * DAY},
}


@contextlib.contextmanager
def tls_server(cert: Path, key: Path) -> Iterator[str]:
    """An https:// server on 127.0.0.1 presenting ``cert`` (clients fail the handshake)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def script(conn: socket.socket, stop: threading.Event) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            context.wrap_socket(conn, server_side=True).close()

    with raw_server(script) as url:
        yield url.replace("http://", "https://")


@pytest.fixture
def cas(tmp_path: Path) -> dict[str, tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]]:
    return {"trusted": _ca(tmp_path, "trusted-ca"), "other": _ca(tmp_path, "other-ca")}


def _server_for(
    kind: str,
    tmp_path: Path,
    cas: dict[str, tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]],
) -> tuple[Path, Path]:
    signer = cas["other"] if kind == "authority" else cas["trusted"]
    return _leaf(tmp_path, signer, **CASES[kind])


EXPECTED = {
    "expired": "its certificate has expired",
    "not-yet-valid": "its certificate is not valid yet",
    "hostname": "its certificate is not valid for this host name",
    "authority": "its certificate is signed by an unknown authority",
}


@pytest.mark.parametrize("kind", list(CASES))
def test_the_registry_check_names_the_tls_failure(
    kind: str,
    tmp_path: Path,
    cas: dict[str, tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]],
) -> None:
    bundle = str(cas["trusted"][2])
    with tls_server(*_server_for(kind, tmp_path, cas)) as url, pytest.raises(RegistryError) as info:
        verify_registry_credentials(url, "robot$x", "pw-0123456789", ca_bundle=bundle)
    error = info.value
    assert EXPECTED[kind] in error.message, error.message
    assert error.hint is not None
    if kind == "authority":
        # Already set: the hint says it holds the wrong CA, not "set KEYNET_CA_BUNDLE".
        assert f"KEYNET_CA_BUNDLE={bundle} is set but does not hold" in error.hint
    else:
        assert "KEYNET_CA_BUNDLE" not in error.hint, error.hint
    if kind in ("expired", "not-yet-valid"):
        assert "date and time" in error.hint


def test_unknown_authority_without_a_bundle_suggests_one(
    tmp_path: Path, cas: dict[str, tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]]
) -> None:
    with (
        tls_server(*_server_for("authority", tmp_path, cas)) as url,
        pytest.raises(RegistryError) as info,
    ):
        verify_registry_credentials(url, "robot$x", "pw-0123456789")
    assert info.value.hint is not None
    assert "set KEYNET_CA_BUNDLE to its PEM file" in info.value.hint


@pytest.mark.parametrize("kind", ["expired", "hostname", "authority"])
def test_the_backend_client_names_the_tls_failure(
    kind: str,
    tmp_path: Path,
    cas: dict[str, tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]],
) -> None:
    bundle = str(cas["trusted"][2])
    with (
        tls_server(*_server_for(kind, tmp_path, cas)) as url,
        BackendClient(url, "token-0123456789", ca_bundle=bundle) as client,
        pytest.raises(BackendError) as info,
    ):
        client.fetch_trainable_projects()
    assert EXPECTED[kind] in info.value.message
    assert info.value.hint is not None
    assert ("is set but does not hold" in info.value.hint) is (kind == "authority")


@pytest.mark.parametrize(
    ("text", "says", "ca_hint"),
    [
        (
            "x509: certificate has expired or is not yet valid: current time 2026-12-07 is "
            "after 2026-12-01",
            "has expired or is not valid yet",
            False,
        ),
        ("x509: certificate is valid for other.example, not 127.0.0.1", "host name", False),
        (
            "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any "
            "IP SANs",
            "host name",
            False,
        ),
        ("x509: certificate signed by unknown authority", "TLS verification", True),
    ],
)
def test_a_podman_push_tls_failure_is_named(text: str, says: str, ca_hint: bool) -> None:
    error = classify_push_error(
        f"pinging container registry 127.0.0.1:5000: Get https://127.0.0.1:5000/v2/: {text}",
        "127.0.0.1:5000/project/image:tag",
        [],
        robot="robot$x",
    )
    assert isinstance(error, KeynetError)
    assert says in error.message
    assert ("KEYNET_CA_BUNDLE" in (error.hint or "")) is ca_hint
