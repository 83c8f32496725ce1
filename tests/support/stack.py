"""The whole local platform in one call: registry, podman service, base image, fake backend.

Used by ``scripts/demo`` and ``benchmarks/bench_push.py``; no pytest import.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.fake_backend import FakeBackend
from tests.support.harbor import PUSH_ROBOT, HarborStack, start_harbor
from tests.support.services import (
    PodmanServiceHandle,
    RegistryHandle,
    ensure_base_image,
    isolated_storage,
    remove_storage,
    start_podman_service,
    start_registry,
)

KEYNET = [sys.executable, "-m", "keynet_train"]
"""How to run the CLI under test as a child process."""


@dataclass
class LocalStack:
    """Running services plus the environment that points keynet-train at them."""

    registry: RegistryHandle
    podman: PodmanServiceHandle
    backend: FakeBackend
    base_image: str
    workdir: Path
    env: dict[str, str]
    harbor: HarborStack | None = None
    """With ``local_stack(harbor=True)``: the token service and Harbor-error proxy too."""

    def login_args(self) -> list[str]:
        """``login`` arguments for the fake backend (the password goes on stdin)."""
        return ["login", self.backend.url, "-u", self.backend.username, "--password-stdin"]


@contextlib.contextmanager
def local_stack(
    prefix: str = "keynet-stack-",
    announce: Callable[[str], None] = lambda _: None,
    harbor: bool = False,
) -> Iterator[LocalStack]:
    """Start everything on 127.0.0.1 in a temp dir; stop and remove it all on exit.

    ``announce`` receives one line per service as it comes up. With
    ``harbor``, the registry is the Harbor-like one (token auth, robot scopes,
    Harbor's errors: ``tests/support/harbor.py``) and the backend hands out
    its push robot; otherwise a TLS + htpasswd registry.
    Raises ServiceError if a service does not start.
    """
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    registry = podman = None
    harbor_stack: HarborStack | None = None
    try:
        if harbor:
            harbor_stack = start_harbor(workdir / "harbor")
            registry = harbor_stack.registry
            robot = harbor_stack.robot(PUSH_ROBOT)
            registry_url, username, password = harbor_stack.proxy.url, robot.name, robot.password
            trusted = [registry.host, harbor_stack.proxy.host]
            announce(
                f"Harbor-like registry: {registry_url} (token service "
                f"{harbor_stack.token_service.realm}, robot account {username})"
            )
        else:
            registry = start_registry(workdir / "registry")
            registry_url, username, password = registry.url, registry.username, registry.password
            trusted = [registry.host]
            announce(f"registry: {registry.url} (TLS + htpasswd, robot account {username})")
        ca_cert = registry.ca_cert
        assert ca_cert is not None
        # A private image store: nothing the demo or a benchmark builds is
        # left in the machine's own podman storage.
        podman = start_podman_service(
            workdir / "podman",
            registry_ca=[(host, ca_cert) for host in trusted],
            extra_env=isolated_storage(workdir / "storage"),
        )
        announce(f"podman service: {podman.url}")
        base = ensure_base_image(podman.url)
        announce(f"offline base image: {base}")
        with FakeBackend(
            harbor_url=registry_url, harbor_username=username, harbor_password=password
        ) as backend:
            announce(f"fake KeyNet backend: {backend.url} (user {backend.username})")
            env = _stack_env(workdir, podman, ca_cert)
            yield LocalStack(registry, podman, backend, base, workdir, env, harbor_stack)
    finally:
        if podman is not None:
            podman.stop()
        if harbor_stack is not None:
            harbor_stack.stop()
        elif registry is not None:
            registry.stop()
        remove_storage(workdir / "storage")
        shutil.rmtree(workdir, ignore_errors=True)


def _stack_env(workdir: Path, podman: PodmanServiceHandle, ca_cert: Path) -> dict[str, str]:
    """The environment of a command run against the stack: its config, cache, CA and podman."""
    # podman's CLI (the benchmarks' baselines) fails on a missing auth file.
    (workdir / "auth.json").write_text('{"auths": {}}\n')
    return {
        **os.environ,
        **podman.env,
        "KEYNET_CONFIG": str(workdir / "keynet" / "config.json"),
        # push's build-reuse map, otherwise ~/.cache/keynet/builds.json.
        "XDG_CACHE_HOME": str(workdir / "cache"),
        "KEYNET_CA_BUNDLE": str(ca_cert),
        "CONTAINER_HOST": podman.url,
        # podman login/logout must not touch the machine's own auth file.
        "REGISTRY_AUTH_FILE": str(workdir / "auth.json"),
    }
