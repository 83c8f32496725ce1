"""End-to-end fixtures: the CLI run in-process against real podman, a real TLS
registry and the fake backend over real sockets."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest

from keynet_train.cli.environment import Environment
from keynet_train.cli.main import main
from keynet_train.config_store import ConfigStore
from tests.support.fake_backend import FakeBackend
from tests.support.services import (
    BASE_IMAGE,
    PodmanServiceHandle,
    RegistryHandle,
    certs_dir_root,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"


@dataclass
class CliResult:
    """Exit code and captured streams of one in-process CLI run."""

    code: int
    out: str
    err: str


class Cli:
    """Runs ``keynet-train`` in-process with an isolated environment."""

    def __init__(self, environ: dict[str, str], backend: FakeBackend) -> None:
        self.environ = environ
        self.backend = backend

    @property
    def store(self) -> ConfigStore:
        return ConfigStore(Path(self.environ["KEYNET_CONFIG"]))

    def __call__(self, *args: str, stdin: str = "", **extra_env: str) -> CliResult:
        env = Environment(
            stdin=StringIO(stdin),
            stdout=StringIO(),
            stderr=StringIO(),
            environ={**self.environ, **extra_env},
        )
        code = main(list(args), env=env)
        assert isinstance(env.stdout, StringIO) and isinstance(env.stderr, StringIO)
        return CliResult(code, env.stdout.getvalue(), env.stderr.getvalue())

    def login(self) -> None:
        result = self(
            "login",
            self.backend.url,
            "-u",
            self.backend.username,
            "--password-stdin",
            stdin=self.backend.password + "\n",
        )
        assert result.code == 0, result.err

    def set_harbor(self, url: str | None = None, password: str | None = None) -> None:
        """Rewrite the stored Harbor credentials (to point a push at a proxy or a bad password)."""
        from keynet_train.config import Secret

        def change(config):  # type: ignore[no-untyped-def]
            assert config is not None and config.harbor is not None
            if url is not None:
                config.harbor.url = url
            if password is not None:
                config.harbor.password = Secret(password)
            return config

        self.store.update(change)


@pytest.fixture
def backend(registry: RegistryHandle) -> Iterator[FakeBackend]:
    """A fake backend whose sign-in hands out the real test registry's robot account."""
    with FakeBackend(
        harbor_url=registry.url,
        harbor_username=registry.username,
        harbor_password=registry.password,
    ) as fake:
        yield fake


@pytest.fixture
def cli(
    tmp_path: Path,
    backend: FakeBackend,
    registry: RegistryHandle,
    podman_service: PodmanServiceHandle,
    base_image: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Cli]:
    """The CLI wired to the session's podman service, registry and a fresh fake backend."""
    assert base_image == BASE_IMAGE
    # podman login/logout run as subprocesses: keep them off the machine's auth file.
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(tmp_path / "auth.json"))
    before = set(certs_dir_root().glob("127.0.0.1:*")) if certs_dir_root().exists() else set()
    # Rootless podman (a private service the CLI starts) refuses a missing HOME.
    (tmp_path / "home").mkdir(exist_ok=True)
    environ = {
        "HOME": str(tmp_path / "home"),
        "PATH": os.environ.get("PATH", ""),
        "KEYNET_CONFIG": str(tmp_path / "keynet" / "config.json"),
        "KEYNET_CA_BUNDLE": str(registry.ca_cert),
        "CONTAINER_HOST": podman_service.url,
    }
    try:
        yield Cli(environ, backend)
    finally:
        # login/push install the private CA into certs.d for hosts a test made up.
        # Only entries holding this session's CA are ours: as root certs.d is
        # machine-wide, and another test run's live entries must survive.
        ours = registry.ca_cert.read_bytes() if registry.ca_cert else b""
        if certs_dir_root().exists():
            for leftover in set(certs_dir_root().glob("127.0.0.1:*")) - before:
                with contextlib.suppress(OSError):
                    if (leftover / "ca.crt").read_bytes() != ours:
                        continue
                shutil.rmtree(leftover, ignore_errors=True)


def make_context(root: Path, dockerfile: str, files: dict[str, str] | None = None) -> Path:
    """A build context with a Dockerfile, a train.py and extra files."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Dockerfile").write_text(dockerfile)
    (root / "train.py").write_text(
        "import argparse\n"
        "p = argparse.ArgumentParser()\n"
        "p.add_argument('--epochs', type=int, default=3, help='epochs')\n"
        "p.add_argument('--lr', default=0.01)\n"
        "p.parse_args()\n"
    )
    for name, text in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# WORKDIR: the platform runs `python train.py` in the image's WORKDIR (docs/push.md).
SIMPLE_DOCKERFILE = f"FROM {BASE_IMAGE}\nWORKDIR /app\nCOPY train.py /app/train.py\n"
