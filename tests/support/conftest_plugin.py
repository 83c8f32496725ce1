"""Pytest fixtures for real services.

Fixtures: ``registry``, ``fault_proxy``, ``podman_service``, ``base_image``,
and ``harbor`` (a token-auth registry, its token service and a Harbor-error
proxy: ``tests/support/harbor.py``).

Loaded from ``tests/conftest.py`` via ``pytest_plugins``. Each service is
started once per session and stopped by PID at the end, temp dirs removed,
even when tests fail. Every podman process of the session (the services,
the podman CLI, the private services keynet-train starts) uses one private
containers-storage, deleted at the end, so runs never leave images behind in
the machine's own storage. A missing binary is always a failure, never a skip
(docs/testing.md: setup installs every service, so a skip could only hide a broken
machine), with or without ``CI`` set.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fault_proxy import FaultProxy, start_fault_proxy
from tests.support.harbor import HarborStack, start_harbor
from tests.support.services import (
    PodmanServiceHandle,
    RegistryHandle,
    ensure_base_image,
    isolated_storage,
    missing_binaries,
    remove_storage,
    start_podman_service,
    start_registry,
)

INSTALL_COMMAND = "scripts/install-system-deps"
_STORAGE_DIR: Path | None = None


def pytest_sessionstart(session: pytest.Session) -> None:
    """Point every podman process of this session at a private storage; let SIGINT through."""
    global _STORAGE_DIR
    # A shell that starts the suite in the background sets SIGINT to "ignore",
    # which every CLI child would inherit (and keynet-train, like Python,
    # keeps an ignored signal ignored): the Ctrl-C tests need it delivered.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    _STORAGE_DIR = Path(tempfile.mkdtemp(prefix="keynet-test-storage-"))
    os.environ.update(isolated_storage(_STORAGE_DIR))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Delete the session's storage (its services were stopped by their fixtures)."""
    if _STORAGE_DIR is not None:
        remove_storage(_STORAGE_DIR)


def require_binaries(*names: str) -> None:
    """Fail the test when a required binary is missing (whether or not ``CI`` is set)."""
    missing = missing_binaries(names)
    if missing:
        pytest.fail(
            f"integration services are unavailable: missing {', '.join(missing)}; "
            f"run {INSTALL_COMMAND}"
        )


@pytest.fixture
def default_stop_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP at their default dispositions while a test runs.

    keynet-train keeps a signal ignored if it was ignored when it started
    (``nohup`` ignores SIGHUP, by design), and children inherit that. A suite
    started under ``nohup`` or by a runner that ignores SIGHUP would then see
    every SIGHUP test fail for a reason that is not the code's: the tests
    that send stop signals reset them first, and the previous dispositions
    come back afterwards.
    """
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGHUP, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, signal.SIG_DFL)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@pytest.fixture(scope="session")
def services_workdir() -> Iterator[Path]:
    """A temp dir for all session services, removed at the end."""
    directory = Path(tempfile.mkdtemp(prefix="keynet-services-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def registry(services_workdir: Path) -> Iterator[RegistryHandle]:
    """A TLS + htpasswd docker-registry on 127.0.0.1."""
    require_binaries("docker-registry", "htpasswd", "openssl")
    handle = start_registry(services_workdir / "registry")
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="session")
def _fault_proxy_session(registry: RegistryHandle) -> Iterator[FaultProxy]:
    proxy = start_fault_proxy(registry)
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def fault_proxy(_fault_proxy_session: FaultProxy) -> Iterator[FaultProxy]:
    """The fault-injecting proxy in front of ``registry``, reset around each test."""
    _fault_proxy_session.reset()
    try:
        yield _fault_proxy_session
    finally:
        _fault_proxy_session.reset()


@pytest.fixture(scope="session")
def _harbor_session(services_workdir: Path, registry: RegistryHandle) -> Iterator[HarborStack]:
    # One TLS certificate for both registries, so one CA bundle trusts both.
    assert registry.ca_cert is not None and registry.cert_key is not None
    stack = start_harbor(services_workdir / "harbor", tls=(registry.ca_cert, registry.cert_key))
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def harbor(_harbor_session: HarborStack) -> Iterator[HarborStack]:
    """A Harbor-like registry (token auth, robot scopes, Harbor errors), reset per test."""
    _harbor_session.reset()
    try:
        yield _harbor_session
    finally:
        _harbor_session.reset()


@pytest.fixture(scope="session")
def podman_service(
    services_workdir: Path, registry: RegistryHandle, _fault_proxy_session: FaultProxy
) -> Iterator[PodmanServiceHandle]:
    """A private podman service (runc) trusting the registry's and the proxy's CA."""
    require_binaries("podman", "runc")
    assert registry.ca_cert is not None
    handle = start_podman_service(
        services_workdir / "podman",
        registry_ca=[
            (registry.host, registry.ca_cert),
            (_fault_proxy_session.host, registry.ca_cert),
        ],
    )
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture(scope="session")
def base_image(podman_service: PodmanServiceHandle) -> str:
    """``localhost/busybox:latest`` imported into podman's storage (idempotent)."""
    require_binaries("busybox")
    return ensure_base_image(podman_service.url)
