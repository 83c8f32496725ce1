"""podman pushes to a Harbor-like registry: Bearer tokens, robot scopes and Harbor's refusals.

Real podman service, the real distribution registry with ``auth: token``, our
token service and the Harbor-error proxy (``tests/support/harbor.py``), all
over real sockets. Each refusal must come back as its own error type with
the project and robot named, and must not be retried.
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from keynet_train.build import context as bc
from keynet_train.config import RegistryCredentials, Secret
from keynet_train.errors import (
    HarborProjectNotFoundError,
    RegistryAuthError,
    RegistryPermissionError,
    RegistryQuotaError,
)
from keynet_train.podman import client as pc
from keynet_train.podman.pusher import PushedImage
from keynet_train.podman.service import connect
from keynet_train.podman.trust import install_registry_ca
from tests.support.harbor import (
    ADMIN,
    MISSING_PROJECT,
    PROJECT,
    PULL_ROBOT,
    PUSH_ROBOT,
    HarborErrors,
    HarborStack,
)
from tests.support.services import PodmanServiceHandle

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(podman_service: PodmanServiceHandle) -> Iterator[pc.PodmanClient]:
    with connect(podman_service.url) as podman:
        yield podman


@pytest.fixture
def trusted(harbor: HarborStack) -> Iterator[HarborStack]:
    """The Harbor proxy's CA in podman's certs.d for the test (as ``push`` installs it)."""
    installed = [
        install_registry_ca(host, harbor.ca_cert)
        for host in (harbor.proxy.host, harbor.registry.host)
    ]
    try:
        yield harbor
    finally:
        for path in installed:
            with contextlib.suppress(OSError):
                shutil.rmtree(path.parent)


def _image(client: pc.PodmanClient, tmp_path: Path) -> str:
    """A one-layer image whose layer is new to the registry, so a push uploads a blob."""
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY payload /payload\n")
    (tmp_path / "payload").write_text(uuid.uuid4().hex)
    return client.build(bc.scan_context(tmp_path, tmp_path / "Dockerfile")).image_id


class Sleeps:
    """Records the backoff sleeps of a push: any entry means it was retried."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def _push(
    client: pc.PodmanClient,
    harbor: HarborStack,
    image_id: str,
    robot: str,
    project: str = PROJECT,
    password: str | None = None,
) -> tuple[PushedImage | None, Exception | None, Sleeps]:
    reference = client.tag(image_id, f"{harbor.proxy.host}/{project}/m{uuid.uuid4().hex[:8]}", "v1")
    account = harbor.robot(robot)
    credentials = RegistryCredentials(
        f"https://{harbor.proxy.host}", account.name, Secret(password or account.password)
    )
    sleeps = Sleeps()
    try:
        return client.push(reference, credentials, sleep=sleeps), None, sleeps
    except Exception as error:  # the test inspects it
        return None, error, sleeps


def test_push_with_robot_name_dollar_plus(
    client: pc.PodmanClient, trusted: HarborStack, tmp_path: Path
) -> None:
    pushed, error, _ = _push(client, trusted, _image(client, tmp_path), PUSH_ROBOT)
    assert error is None and pushed is not None
    repository = pushed.reference.split("/", 1)[1].rsplit(":", 1)[0]
    assert trusted.registry.tags(repository) == ["v1"]
    assert trusted.registry.manifest_digest(repository, "v1") == pushed.digest
    # podman fetched its tokens as the robot: X-Registry-Auth and account= kept "$" and "+".
    robot_requests = [r for r in trusted.token_service.requests if r.username != ADMIN]
    assert robot_requests and all(
        r.username == PUSH_ROBOT and r.account == PUSH_ROBOT and r.status == 200
        for r in robot_requests
    )


def test_pull_only_robot_cannot_push(
    client: pc.PodmanClient, trusted: HarborStack, tmp_path: Path
) -> None:
    _, error, sleeps = _push(client, trusted, _image(client, tmp_path), PULL_ROBOT)
    assert isinstance(error, RegistryPermissionError), error
    assert f"robot account {PULL_ROBOT} cannot push to Harbor project {PROJECT}" in error.message
    assert "re-login" not in (error.hint or "") and "push permission" in (error.hint or "")
    assert sleeps.calls == []


def test_harbor_denies_push(client: pc.PodmanClient, trusted: HarborStack, tmp_path: Path) -> None:
    """Harbor's own check: 401 "unauthorized to access repository … action: push"."""
    trusted.proxy.answer_with(HarborErrors.push_denied(trusted.token_service.realm))
    _, error, sleeps = _push(client, trusted, _image(client, tmp_path), PUSH_ROBOT)
    assert isinstance(error, RegistryPermissionError), error
    assert f"robot account {PUSH_ROBOT} cannot push to Harbor project {PROJECT}" in error.message
    assert "unauthorized to access repository" in error.message
    assert sleeps.calls == []


def test_wrong_robot_secret(client: pc.PodmanClient, trusted: HarborStack, tmp_path: Path) -> None:
    _, error, sleeps = _push(
        client, trusted, _image(client, tmp_path), PUSH_ROBOT, password="wrong-robot-secret"
    )
    assert type(error) is RegistryAuthError, error
    assert "Harbor Registry authentication failed" in error.message
    assert error.hint is not None and "re-login" in error.hint
    assert "wrong-robot-secret" not in f"{error.message} {error.hint}"
    assert sleeps.calls == []


def test_storage_quota_on_first_blob(
    client: pc.PodmanClient, trusted: HarborStack, tmp_path: Path
) -> None:
    trusted.proxy.answer_with(HarborErrors.storage_quota("29.0 MiB", "152.4 MiB", "10.0 MiB"))
    _, error, sleeps = _push(client, trusted, _image(client, tmp_path), PUSH_ROBOT)
    assert isinstance(error, RegistryQuotaError), error
    assert error.error_type == "registry"
    assert f"Harbor project {PROJECT} is over its storage quota" in error.message
    assert "152.4 MiB used of 10.0 MiB" in error.message and "adds 29.0 MiB" in error.message
    assert error.hint is not None and "delete old images or ask the project admin" in error.hint
    assert sleeps.calls == []
    refused = [r for r in trusted.proxy.requests if r.status == 403]
    assert [r.method for r in refused] == ["PUT"] and "/blobs/uploads/" in refused[0].path


def test_count_quota_on_manifest(
    client: pc.PodmanClient, trusted: HarborStack, tmp_path: Path
) -> None:
    trusted.proxy.answer_with(HarborErrors.count_quota(10, 10))
    _, error, sleeps = _push(client, trusted, _image(client, tmp_path), PUSH_ROBOT)
    assert isinstance(error, RegistryQuotaError), error
    assert f"Harbor project {PROJECT} is at its artifact count quota: 10 of 10" in error.message
    assert error.hint is not None and "delete old images or ask the project admin" in error.hint
    assert sleeps.calls == []
    assert [r.method for r in trusted.proxy.requests if r.status == 403] == ["PUT"]


def test_missing_project(client: pc.PodmanClient, trusted: HarborStack, tmp_path: Path) -> None:
    trusted.proxy.answer_with(HarborErrors.project_not_found(MISSING_PROJECT))
    _, error, sleeps = _push(
        client, trusted, _image(client, tmp_path), PUSH_ROBOT, project=MISSING_PROJECT
    )
    assert isinstance(error, HarborProjectNotFoundError), error
    assert error.message.startswith(
        f"Harbor project {MISSING_PROJECT} does not exist; "
        "check --harbor-project / KEYNET_HARBOR_PROJECT"
    )
    assert sleeps.calls == []
