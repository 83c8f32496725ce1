"""A push leaves no temporary file behind (issue 8 item 5).

podman 4.3's Docker-compatible push endpoint writes the manifest digest to
``$TMPDIR/digest.txtNNN`` (``/var/tmp`` by default) and never removes it. The
test gives a podman service of its own a private TMPDIR, so the check sees
only what this push created even while other pushes run on the machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import SIMPLE_DOCKERFILE, Cli, make_context
from tests.support.services import (
    PodmanServiceHandle,
    RegistryHandle,
    start_podman_service,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def private_tmp_service(
    tmp_path: Path, registry: RegistryHandle, base_image: str
) -> Iterator[tuple[PodmanServiceHandle, Path]]:
    service_tmp = tmp_path / "service-tmp"
    service_tmp.mkdir()
    # No registry_ca: the session's service already installed the registry's CA
    # in the machine-wide certs.d, and this handle's stop() would remove it
    # from under every later test.
    handle = start_podman_service(tmp_path / "podman", extra_env={"TMPDIR": str(service_tmp)})
    try:
        yield handle, service_tmp
    finally:
        handle.stop()


def test_push_leaves_no_digest_file(
    cli: Cli, registry: RegistryHandle, private_tmp_service: tuple[PodmanServiceHandle, Path],
    tmp_path: Path,
) -> None:  # fmt: skip
    service, service_tmp = private_tmp_service
    cli.login()
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE + "LABEL leaves=nothing\n")
    before = sorted(p.name for p in service_tmp.iterdir())
    result = cli(
        "push", str(context / "train.py"), "--context", str(context), "--project", "1",
        "--tag", "v1", "--json", CONTAINER_HOST=service.url,
    )  # fmt: skip
    assert result.code == 0, result.err
    payload = json.loads(result.out)
    repository = payload["image"].split("/", 1)[1]
    # The digest is still reported, and it is the registry's.
    assert payload["digest"] == registry.manifest_digest(repository, "latest")
    assert payload["digest"] == registry.manifest_digest(repository, "v1")
    leftovers = sorted(p.name for p in service_tmp.iterdir() if p.name not in before)
    assert leftovers == []
