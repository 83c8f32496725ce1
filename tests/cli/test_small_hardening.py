"""The smaller hardening items of issue 8 (item 12), each through the CLI where it shows."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from keynet_train.config import Config
from keynet_train.config_store import ConfigStore
from tests.cli.conftest import CliRunner, write_config
from tests.support.fake_backend import FakeBackend


def _login(cli: CliRunner, backend: FakeBackend, *extra: str) -> object:
    return cli(
        "login", backend.url, "-u", backend.username, "--password-stdin", *extra,
        stdin=backend.password + "\n",
    )  # fmt: skip


def test_an_already_expired_token_is_refused_at_login(
    cli: CliRunner, offline_backend: FakeBackend
) -> None:
    offline_backend.token_ttl = -60.0
    result = _login(cli, offline_backend, "--json")
    assert result.exit_code == 1, result  # type: ignore[attr-defined]
    assert result.json()["error"]["type"] == "authentication"  # type: ignore[attr-defined]
    assert "already expired" in result.stderr  # type: ignore[attr-defined]
    assert not cli.config_path.exists()  # nothing stored


@pytest.mark.parametrize(
    ("argv", "environ"),
    [
        (["--project", "0"], {}),
        (["--project", "-5"], {}),
        ([], {"KEYNET_PROJECT_ID": "0"}),
        ([], {"KEYNET_PROJECT_ID": "-3"}),
    ],
)
def test_project_ids_are_positive(
    cli: CliRunner,
    offline_backend: FakeBackend,
    logged_in: Config,
    tmp_path: Path,
    argv: list[str],
    environ: dict[str, str],
) -> None:
    (tmp_path / "train.py").write_text("print(1)\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    result = cli(
        "push", str(tmp_path / "train.py"), "--context", str(tmp_path), *argv, "--json",
        environ=environ,
    )  # fmt: skip
    # A bad flag value is a usage error (exit 2), a bad environment value a failure.
    assert result.exit_code == (2 if argv else 1), result
    assert "positive integer" in result.stderr
    assert offline_backend.requests == []


def test_missing_config_directories_are_created_private(tmp_path: Path) -> None:
    store = ConfigStore(tmp_path / "a" / "b" / "c" / "config.json")
    old = os.umask(0)
    try:
        store.save(Config(server_url="https://api.example.com"))
    finally:
        os.umask(old)
    for directory in (tmp_path / "a", tmp_path / "a/b", tmp_path / "a/b/c"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory


def test_no_chmod_through_a_symlinked_config(
    cli: CliRunner, offline_backend: FakeBackend, tmp_path: Path
) -> None:
    write_config(cli, offline_backend)
    target = tmp_path / "dotfiles" / "keynet.json"
    target.parent.mkdir()
    cli.config_path.replace(target)
    target.chmod(0o644)
    cli.config_path.symlink_to(target)
    result = cli("config", "show")
    assert result.exit_code == 0, result
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # not ours to change
    warning = " ".join(result.stderr.split())
    assert "symlink" in warning and f"chmod 600 {target}" in warning


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("http://api.example.com", True),
        ("http://10.0.0.8:8080", True),
        ("http://127.0.0.1:{port}", False),
        ("http://localhost:{port}", False),
        ("https://api.example.com", False),
    ],
)
def test_cleartext_login_to_a_remote_host_warns_before_sending(
    cli: CliRunner, tmp_path: Path, url: str, warned: bool
) -> None:
    # Tests talk to loopback only: an unusable CA bundle stops the login after
    # the warning and before any connection is opened.
    result = cli(
        "login", url.format(port=9), "-u", "alice", "--password-stdin",
        stdin="pw\n", environ={"KEYNET_CA_BUNDLE": str(tmp_path / "no-such-ca.pem")},
    )  # fmt: skip
    assert result.exit_code == 1 and "KEYNET_CA_BUNDLE" in result.stderr, result
    text = " ".join(result.stderr.split())
    assert ("unencrypted" in text) == warned, result
