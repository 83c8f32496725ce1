"""``logout`` removes the registry CA that ``login`` installed into certs.d, and only that."""

from __future__ import annotations

from pathlib import Path

import pytest

from keynet_train.podman import trust as registry_trust
from tests.cli.conftest import CliRunner
from tests.support.fake_backend import FakeBackend
from tests.support.services import RegistryHandle

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.fixture
def certs_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """certs.d under tmp_path (its parent ``containers`` does not exist yet, as for a new user)."""
    (tmp_path / "config").mkdir()
    root = tmp_path / "config" / "containers" / "certs.d"
    monkeypatch.setattr(registry_trust, "certs_dir", lambda host: root / host)
    return root


def test_install_then_remove_leaves_nothing(tmp_path: Path, certs_root: Path) -> None:
    pem = tmp_path / "ca.pem"
    pem.write_bytes(PEM)

    installed = registry_trust.install_registry_ca("127.0.0.1:5000", pem)
    assert installed.read_bytes() == PEM
    assert (installed.parent / registry_trust.CA_MARKER).exists()

    assert registry_trust.remove_registry_ca("127.0.0.1:5000") == installed
    # Every directory the install created is gone, up to the first that existed.
    assert not (tmp_path / "config" / "containers").exists()
    assert (tmp_path / "config").exists()


def test_a_ca_the_user_installed_is_kept(tmp_path: Path, certs_root: Path) -> None:
    own = certs_root / "registry.example:443" / "ca.crt"
    own.parent.mkdir(parents=True)
    own.write_bytes(PEM)
    pem = tmp_path / "ca.pem"
    pem.write_bytes(PEM)

    registry_trust.install_registry_ca("registry.example:443", pem)  # same content: untouched

    assert registry_trust.remove_registry_ca("registry.example:443") is None
    assert own.read_bytes() == PEM


def test_a_directory_holding_other_files_is_kept(tmp_path: Path, certs_root: Path) -> None:
    pem = tmp_path / "ca.pem"
    pem.write_bytes(PEM)
    installed = registry_trust.install_registry_ca("127.0.0.1:5000", pem)
    client_cert = installed.parent / "client.cert"
    client_cert.write_text("mine")

    registry_trust.remove_registry_ca("127.0.0.1:5000")

    assert not installed.exists()
    assert client_cert.read_text() == "mine"


@pytest.mark.integration
def test_logout_removes_the_ca_login_installed(
    cli: CliRunner,
    backend: FakeBackend,
    registry: RegistryHandle,
    podman_auth_file: Path,
    certs_root: Path,
) -> None:
    login = cli(
        "login", backend.url, "-u", backend.username, "--password-stdin", stdin=backend.password
    )
    assert login.exit_code == 0, login
    installed = certs_root / registry.host / "ca.crt"
    assert installed.exists()

    result = cli("logout")

    assert result.exit_code == 0, result
    assert f"Removed the registry CA installed at login ({installed})" in result.stderr
    assert not certs_root.exists()
