"""A registry upload with no progress is a transient failure, then a clear error (issue 21 item 10).

Real podman pushes through the fault proxy, which takes a blob upload's body
and never answers: podman then waits forever, saying nothing and moving no
byte. The push must notice (no line from podman, no byte read or written by
the service for ``stall`` seconds), retry, and finally fail with a message
that names the stall and the setting that changes it.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from keynet_train import limits
from keynet_train.errors import RegistryError
from keynet_train.podman import client as pc
from keynet_train.podman.heartbeat import ServiceIO
from keynet_train.progress import RecordingReporter
from keynet_train.retries import RetryPolicy
from tests.podman.test_podman_integration import _creds, _remove_image, _unique_image, client
from tests.support.fault_proxy import FaultProxy
from tests.support.services import PodmanServiceHandle, RegistryHandle

__all__ = ["client"]  # the module-scoped podman client fixture


def _reference(client: pc.PodmanClient, tmp_path: Path, proxy: FaultProxy) -> tuple[str, str, str]:
    image_id = _unique_image(client, tmp_path)
    name = f"keynet-test/stall-{uuid.uuid4().hex[:8]}"
    return image_id, name, client.tag(image_id, f"{proxy.host}/{name}", "v1")


def test_a_stalled_upload_is_retried_then_reported(
    tmp_path: Path, client: pc.PodmanClient, registry: RegistryHandle, fault_proxy: FaultProxy
) -> None:
    image_id, _, reference = _reference(client, tmp_path, fault_proxy)
    fault_proxy.stall_uploads(10)
    reporter = RecordingReporter()
    started = time.monotonic()
    try:
        with pytest.raises(RegistryError) as info:
            client.push(
                reference,
                _creds(registry),
                reporter=reporter,
                stall=2.0,
                retries=RetryPolicy(attempts=2, base_delay=0),
            )
    finally:
        fault_proxy.reset()  # lets the held requests (and podman's push) finish
        _remove_image(image_id)
    elapsed = time.monotonic() - started
    assert "failed after 2 attempts: no upload progress for 2 s" in info.value.message
    assert info.value.hint is not None and limits.UPLOAD_STALL_ENV in info.value.hint
    assert elapsed < 30, elapsed
    retries = [text for kind, text in reporter.events if kind == "warning" and "retrying" in text]
    assert len(retries) == 1 and "no upload progress" in retries[0]


def test_a_stall_that_clears_is_retried_and_the_push_succeeds(
    tmp_path: Path, client: pc.PodmanClient, registry: RegistryHandle, fault_proxy: FaultProxy
) -> None:
    image_id, name, reference = _reference(client, tmp_path, fault_proxy)
    fault_proxy.stall_uploads(1)
    try:
        pushed = client.push(
            reference, _creds(registry), stall=2.0, retries=RetryPolicy(base_delay=0)
        )
    finally:
        fault_proxy.reset()
        _remove_image(image_id)
    assert pushed.attempts == 2
    assert pushed.digest == registry.manifest_digest(name, "v1")


def test_the_service_io_counter_sees_a_push(
    tmp_path: Path,
    client: pc.PodmanClient,
    registry: RegistryHandle,
    podman_service: PodmanServiceHandle,
) -> None:
    meter = ServiceIO.for_url(podman_service.url)
    assert meter is not None, "the local test service's I/O must be measurable"
    before = meter()
    image_id = _unique_image(client, tmp_path)
    reference = client.tag(image_id, f"{registry.host}/keynet-test/io-{uuid.uuid4().hex[:8]}", "v1")
    try:
        client.push(reference, _creds(registry))
    finally:
        _remove_image(image_id)
    after = meter()
    assert before is not None and after is not None and after > before


def test_remote_services_are_not_measured() -> None:
    assert ServiceIO.for_url("ssh://core@host/run/podman/podman.sock") is None
    assert ServiceIO.for_url("tcp://127.0.0.1:9") is None
