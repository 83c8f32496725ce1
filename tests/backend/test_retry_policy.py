"""The one retry policy (keynet_train/retries.py) and which HTTP failures are transient."""

from __future__ import annotations

import httpx
import pytest

from keynet_train.backend.http import (
    BACKEND_RETRIES,
    REGISTRY_RETRIES,
    RequestDeadlineError,
    ResponseTooLargeError,
    transient_failure,
)
from keynet_train.podman.pusher import PUSH_RETRIES
from keynet_train.retries import RetryPolicy


def test_waits_double_and_honour_a_longer_retry_after_up_to_a_cap() -> None:
    policy = RetryPolicy(frozenset({503}))
    assert [policy.delay(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert policy.delay(1, "3") == 3.0
    assert policy.delay(2, "0.2") == 1.0  # shorter than the backoff: the backoff wins
    assert policy.delay(1, "999") == 30.0
    assert policy.delay(1, "Wed, 21 Oct 2015 07:28:00 GMT") == 0.5


def test_statuses_are_retried_for_idempotent_requests_within_the_attempts() -> None:
    policy = RetryPolicy(frozenset({503}), attempts=3)
    assert policy.retries_status(503, 1, idempotent=True)
    assert policy.retries_status(503, 2, idempotent=True)
    assert not policy.retries_status(503, 3, idempotent=True)
    assert not policy.retries_status(503, 1, idempotent=False)
    assert not policy.retries_status(500, 1, idempotent=True)
    assert [policy.another_try(n) for n in (1, 2, 3)] == [True, True, False]


@pytest.mark.parametrize(
    ("exc", "idempotent", "transient"),
    [
        (httpx.ConnectError("refused"), False, True),  # nothing was sent: even a POST
        (httpx.ConnectTimeout("slow"), False, True),
        (httpx.ReadError("reset"), True, True),
        (httpx.ReadError("reset"), False, False),  # a POST may have reached the server
        (httpx.RemoteProtocolError("closed"), True, True),
        (httpx.ReadTimeout("slow"), True, False),  # three long waits would look like a hang
        (RequestDeadlineError("deadline"), True, False),
        (ResponseTooLargeError("big"), True, False),
    ],
)
def test_transient_transport_failures(
    exc: httpx.TransportError, idempotent: bool, transient: bool
) -> None:
    assert transient_failure(exc, idempotent=idempotent) is transient


def test_backend_registry_and_push_differ_only_where_said() -> None:
    assert BACKEND_RETRIES.statuses == {429, 502, 503, 504}
    assert REGISTRY_RETRIES.statuses == {500, 502, 503, 504}
    for name in ("attempts", "base_delay", "max_retry_after"):
        assert getattr(BACKEND_RETRIES, name) == getattr(REGISTRY_RETRIES, name)
    assert (PUSH_RETRIES.attempts, PUSH_RETRIES.base_delay) == (3, 1.0)


def test_the_podman_client_does_not_load_httpx_for_its_retries() -> None:
    import subprocess
    import sys

    probe = "import sys, keynet_train.podman.client\nprint('httpx' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
