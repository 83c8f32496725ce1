"""The pushed digest is cross-checked, not taken from the registry alone (issue 21 item 15).

Real podman pushes to the real TLS registry through the fault proxy; the proxy
then answers the manifest lookup with a lie: a ``Docker-Content-Digest``
header that is not the manifest's hash, or another image's manifest (whose
hash and header agree, but whose config is not the image podman pushed).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from keynet_train.errors import RegistryError
from keynet_train.podman import client as pc
from tests.podman.test_podman_integration import _creds, _remove_image, _unique_image, client
from tests.support.fault_proxy import FaultProxy, InjectedAnswer
from tests.support.registry_calls import manifest_digest
from tests.support.services import MANIFEST_ACCEPT, RegistryHandle

__all__ = ["client"]  # the module-scoped podman client fixture


def _lookup(
    proxy: FaultProxy, registry: RegistryHandle, image_id: str
) -> Callable[[str], str | None]:
    def lookup(reference: str) -> str | None:
        name, _, tag = reference.rpartition(":")
        return manifest_digest(
            proxy.url,
            name.split("/", 1)[1],
            tag,
            registry.username,
            registry.password,
            ca_bundle=str(registry.ca_cert),
            expected_config=image_id,
        )

    return lookup


def _manifest(registry: RegistryHandle, repository: str, tag: str) -> tuple[bytes, str]:
    status, headers, body = registry._request(
        f"/v2/{repository}/manifests/{tag}", accept=MANIFEST_ACCEPT
    )
    assert status == 200
    return body, headers.get("Content-Type", "application/vnd.oci.image.manifest.v1+json")


def _push(
    client: pc.PodmanClient,
    tmp_path: Path,
    registry: RegistryHandle,
    proxy: FaultProxy,
    lie: Callable[[str], InjectedAnswer] | None,
) -> tuple[str, str]:
    """Push a unique image through the proxy; ``lie(path)`` answers manifest GETs."""
    image_id = _unique_image(client, tmp_path)
    name = f"keynet-test/digest-{uuid.uuid4().hex[:8]}"
    reference = client.tag(image_id, f"{proxy.host}/{name}", "v1")
    if lie is not None:
        proxy.answer_with(
            lambda method, path: lie(path) if method == "GET" and "/manifests/" in path else None
        )
    try:
        pushed = client.push(
            reference, _creds(registry), digest_lookup=_lookup(proxy, registry, image_id)
        )
    finally:
        _remove_image(image_id)
    assert pushed.digest is not None
    return name, pushed.digest


def test_an_honest_registry_digest_is_checked_and_accepted(
    tmp_path: Path, client: pc.PodmanClient, registry: RegistryHandle, fault_proxy: FaultProxy
) -> None:
    name, digest = _push(client, tmp_path, registry, fault_proxy, None)
    body, _ = _manifest(registry, name, "v1")
    assert digest == registry.manifest_digest(name, "v1")
    assert digest == "sha256:" + hashlib.sha256(body).hexdigest()


def test_a_digest_header_that_is_not_the_manifests_hash_fails_the_push(
    tmp_path: Path, client: pc.PodmanClient, registry: RegistryHandle, fault_proxy: FaultProxy
) -> None:
    forged = "sha256:" + "0" * 64

    def lie(path: str) -> InjectedAnswer:
        repository, _, tag = path.removeprefix("/v2/").partition("/manifests/")
        body, media = _manifest(registry, repository, tag)
        return 200, {"Docker-Content-Digest": forged, "Content-Type": media}, body

    with pytest.raises(RegistryError, match=f"reports digest {forged}") as info:
        _push(client, tmp_path, registry, fault_proxy, lie)
    assert info.value.hint is not None and "do not use this digest" in info.value.hint


def test_another_images_manifest_fails_the_push(
    tmp_path: Path, client: pc.PodmanClient, registry: RegistryHandle, fault_proxy: FaultProxy
) -> None:
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other_name, other_digest = _push(client, other_dir, registry, fault_proxy, None)
    other_body, media = _manifest(registry, other_name, "v1")

    def lie(path: str) -> InjectedAnswer:
        return 200, {"Docker-Content-Digest": other_digest, "Content-Type": media}, other_body

    with pytest.raises(RegistryError, match="is not the image podman pushed"):
        _push(client, tmp_path, registry, fault_proxy, lie)
