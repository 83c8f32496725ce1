"""Fixtures that run the CLI in-process against the fake backend and a real registry.

* ``cli`` — a :class:`CliRunner`: ``cli("config", "path")`` runs
  ``keynet_train.cli.main.main`` with in-memory streams and a private
  environment (``HOME``, ``KEYNET_CONFIG`` under ``tmp_path``) and returns a
  :class:`CliResult` (exit code, stdout, stderr).
* ``backend`` — a :class:`FakeBackend` whose Harbor URL and robot credentials
  are the session's real TLS ``registry``; it also sets ``KEYNET_CA_BUNDLE``
  for ``cli`` and puts the registry's ``certs.d`` entry back the way it was
  at teardown (login installs the CA there as root).
* ``offline_backend`` — a FakeBackend with fake Harbor credentials, for
  commands that never touch the registry (projects, config).
* ``logged_in`` — writes a valid config for ``offline_backend`` without a
  login (fast; no registry, no podman).

Side effects outside ``tmp_path`` are isolated: ``podman login/logout`` run
as subprocesses with ``os.environ``, so ``REGISTRY_AUTH_FILE`` points to a
temp file for every test in this directory.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from io import StringIO
from pathlib import Path
from typing import Any, TextIO

import pytest

from keynet_train.cli.environment import Environment
from keynet_train.cli.main import main
from keynet_train.config import Config, RegistryCredentials, Secret
from keynet_train.config_store import ConfigStore
from keynet_train.podman.trust import certs_dir
from tests.support.fake_backend import FakeBackend
from tests.support.services import RegistryHandle


@dataclass
class CliResult:
    """What one in-process CLI run produced."""

    exit_code: int
    stdout: str
    stderr: str
    argv: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        """stdout and stderr together (for "appears nowhere" checks)."""
        return self.stdout + self.stderr

    def json(self) -> Any:
        """stdout parsed as exactly one JSON document."""
        return json.loads(self.stdout)

    def __str__(self) -> str:
        return (
            f"$ keynet-train {' '.join(self.argv)} -> {self.exit_code}\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )


class CliRunner:
    """Runs ``keynet-train`` in-process with an isolated environment."""

    def __init__(self, tmp_path: Path) -> None:
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.config_path = tmp_path / "keynet" / "config.json"
        # Only what the CLI reads: nothing from the developer's own environment
        # (KEYNET_*, XDG_CONFIG_HOME, NO_COLOR) leaks into a test.
        self.environ: dict[str, str] = {
            "HOME": str(self.home),
            "KEYNET_CONFIG": str(self.config_path),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        }

    def store(self) -> ConfigStore:
        """The config store the CLI uses."""
        return ConfigStore(self.config_path)

    def __call__(
        self,
        *argv: str,
        stdin: str | TextIO = "",
        tty: bool = False,
        stdin_isatty: bool | None = None,
        stderr_isatty: bool | None = None,
        getpass: Callable[[str], str] | None = None,
        environ: Mapping[str, str] | None = None,
        unset: tuple[str, ...] = (),
    ) -> CliResult:
        """Run ``keynet-train *argv``; ``tty`` makes stdin and stderr terminals."""
        env_vars = {**self.environ, **(environ or {})}
        for name in unset:
            env_vars.pop(name, None)
        stdout, stderr = StringIO(), StringIO()
        env = Environment(
            stdin=StringIO(stdin) if isinstance(stdin, str) else stdin,
            stdout=stdout,
            stderr=stderr,
            environ=env_vars,
            stdin_isatty=tty if stdin_isatty is None else stdin_isatty,
            stderr_isatty=tty if stderr_isatty is None else stderr_isatty,
        )
        if getpass is not None:
            env.extra["getpass"] = getpass
        code = main(list(argv), env=env)
        return CliResult(code, stdout.getvalue(), stderr.getvalue(), list(argv))


class UnreadableStdin(StringIO):
    """A stdin that fails the test if anything reads it (proves "never blocks")."""

    def read(self, size: int | None = -1, /) -> str:
        raise AssertionError("the CLI read stdin")

    def readline(self, size: int | None = -1, /) -> str:  # type: ignore[override]
        raise AssertionError("the CLI read stdin")


@pytest.fixture(autouse=True)
def _isolated_podman_auth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``podman login/logout`` (subprocesses) write a temp auth file, not the machine's."""
    auth_file = tmp_path / "podman-auth.json"
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth_file))
    return auth_file


@pytest.fixture
def podman_auth_file(_isolated_podman_auth: Path) -> Path:
    """The ``REGISTRY_AUTH_FILE`` podman login writes during this test."""
    return _isolated_podman_auth


@pytest.fixture
def cli(tmp_path: Path) -> CliRunner:
    """Run the CLI in-process: ``cli(*argv, stdin=..., tty=..., getpass=...)``."""
    return CliRunner(tmp_path)


@pytest.fixture
def registry_certs_guard(registry: RegistryHandle) -> Iterator[Path]:
    """Restore ``certs.d/<registry host>`` after the test.

    ``login`` with ``KEYNET_CA_BUNDLE`` installs the CA there (as root:
    ``/etc/containers/certs.d``). The session's podman service may have put
    the same file there first, so the entry is restored rather than deleted
    when it existed before.
    """
    directory = certs_dir(registry.host)
    existed = directory.exists()
    before = {p.name: p.read_bytes() for p in directory.iterdir()} if existed else {}
    try:
        yield directory
    finally:
        if not existed:
            shutil.rmtree(directory, ignore_errors=True)
        else:
            for path in directory.iterdir():
                if path.name not in before:
                    path.unlink()
            for name, content in before.items():
                (directory / name).write_bytes(content)


_RESETTABLE = (
    "username",
    "password",
    "harbor_url",
    "harbor_username",
    "harbor_password",
    "token_ttl",
    "slow_delay",
    "command_override",
)


@pytest.fixture(scope="session")
def _shared_backend() -> Iterator[FakeBackend]:
    # One server for the session: stopping a FakeBackend waits for its poll
    # interval (0.5 s), which per test would dominate this suite's run time.
    with FakeBackend() as fake:
        yield fake


@pytest.fixture
def offline_backend(_shared_backend: FakeBackend) -> Iterator[FakeBackend]:
    """A fake backend whose Harbor credentials point nowhere (no registry needed).

    Shared by the session; its settings, projects, failures and request log
    are reset around each test (issued tokens stay valid).
    """
    fake = _shared_backend
    saved = {name: getattr(fake, name) for name in _RESETTABLE}
    saved_projects = list(fake.projects)
    fake.reset()
    try:
        yield fake
    finally:
        fake.reset()
        for name, value in saved.items():
            setattr(fake, name, value)
        fake.projects = saved_projects


@pytest.fixture
def backend(
    cli: CliRunner,
    offline_backend: FakeBackend,
    registry: RegistryHandle,
    registry_certs_guard: Path,
) -> FakeBackend:
    """The fake backend handing out the real test registry's robot credentials."""
    assert registry.ca_cert is not None
    cli.environ["KEYNET_CA_BUNDLE"] = str(registry.ca_cert)
    offline_backend.harbor_url = registry.url
    offline_backend.harbor_username = registry.username
    offline_backend.harbor_password = registry.password
    return offline_backend


def write_config(
    cli: CliRunner,
    backend: FakeBackend,
    *,
    token: str | None = None,
    expires_in: float = 3600.0,
    **preferences: Any,
) -> Config:
    """Store a logged-in config for ``backend`` directly (no sign-in request)."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    config = Config(
        server_url=backend.url,
        username=backend.username,
        api_token=Secret(token if token is not None else backend.issue_token()),
        api_token_expires_at=now + timedelta(seconds=expires_in),
        harbor=RegistryCredentials(
            url=backend.harbor_url,
            username=backend.harbor_username,
            password=Secret(backend.harbor_password),
        ),
        last_login=now,
        **preferences,
    )
    cli.store().save(config)
    return config


@pytest.fixture
def logged_in(cli: CliRunner, offline_backend: FakeBackend) -> Config:
    """A valid stored login for ``offline_backend``."""
    return write_config(cli, offline_backend)
