"""One-shot registry calls for tests: a :class:`RegistryClient` built, used once and closed.

The package has one way to talk to the registry (``RegistryClient``); these
keep the tests' many single checks short.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from keynet_train.backend.http import DebugLog
from keynet_train.config import RegistryCredentials, Secret
from keynet_train.errors import KeynetError
from keynet_train.registry.answers import RegistryCheck, normalise_registry_url, refuse_cleartext
from keynet_train.registry.client import RegistryClient
from keynet_train.urls import is_cleartext_remote


def verify_registry_credentials(
    registry_url: str,
    username: str,
    password: str,
    *,
    ca_bundle: str | None = None,
    insecure: bool = False,
    debug_log: DebugLog | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout | float | None = None,
    push_project: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RegistryCheck:
    """One :meth:`RegistryClient.verify_push_access` with a client of its own.

    Raises:
        RegistryAuthError, RegistryPermissionError, HarborProjectNotFoundError,
        RegistryError: as :meth:`RegistryClient.verify_push_access`.
        ConfigError: the CA bundle is missing or unusable.
    """
    base = normalise_registry_url(registry_url)
    if is_cleartext_remote(base) and not insecure:
        raise refuse_cleartext(base, username, "the registry")  # before any client exists
    with RegistryClient(
        RegistryCredentials(registry_url, username, Secret(password)),
        ca_bundle=ca_bundle,
        insecure=insecure,
        debug_log=debug_log,
        transport=transport,
        timeout=timeout,
        sleep=sleep,
    ) as client:
        return client.verify_push_access(push_project)


def manifest_digest(
    registry_url: str,
    repository: str,
    tag: str,
    username: str,
    password: str,
    *,
    ca_bundle: str | None = None,
    insecure: bool = False,
    debug_log: DebugLog | None = None,
    transport: httpx.BaseTransport | None = None,
    expected_config: str | None = None,
) -> str | None:
    """One :meth:`RegistryClient.manifest_digest` with a client of its own.

    Raises:
        RegistryError: as :meth:`RegistryClient.manifest_digest`; a client that
            cannot be built (bad URL, unusable CA bundle) is a None instead.
    """
    try:
        client = RegistryClient(
            RegistryCredentials(registry_url, username, Secret(password)),
            ca_bundle=ca_bundle,
            insecure=insecure,
            debug_log=debug_log,
            transport=transport,
        )
    except KeynetError:
        return None
    with client:
        return client.manifest_digest(repository, tag, expected_config)
