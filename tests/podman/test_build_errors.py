"""Build and base-image failures explained (docs/build-errors.md), against the real podman service.

Each case builds a Dockerfile that fails in podman and checks the exact
message and hint the user sees: the cause in their terms, the Dockerfile
line and the fix, never podman's Go struct dump or "pinging container
registry localhost".
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from keynet_train.build import context as bc
from keynet_train.build.failures import BuildStepError, StoreFacts, explain, qualified_name
from keynet_train.errors import BuildError
from keynet_train.podman import client as pc
from keynet_train.podman.service import connect
from tests.support.services import PodmanServiceHandle


@pytest.fixture(scope="module")
def client(podman_service: PodmanServiceHandle) -> Iterator[pc.PodmanClient]:
    with connect(podman_service.url) as podman:
        yield podman


def _fail(
    client: pc.PodmanClient,
    context: Path,
    dockerfile: str,
    files: dict[str, str] | None = None,
    ignore: str | None = None,
    platform: str = "linux/amd64",
) -> BuildError:
    context.mkdir(exist_ok=True)
    (context / "Dockerfile").write_text(dockerfile)
    for name, text in (files or {}).items():
        (context / name).write_text(text)
    if ignore is not None:
        (context / ".dockerignore").write_text(ignore)
    with pytest.raises(BuildError) as caught:
        client.build(bc.scan_context(context, context / "Dockerfile"), platform=platform)
    assert "imagebuilder.Step" not in caught.value.message
    return caught.value


pytestmark = pytest.mark.integration


def test_short_name_suggests_the_qualified_name(
    tmp_path: Path, client: pc.PodmanClient, podman_service: PodmanServiceHandle
) -> None:
    conf = podman_service.env.get("CONTAINERS_REGISTRIES_CONF", "/etc/containers/registries.conf")
    error = _fail(client, tmp_path, "FROM pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime\n")

    assert error.message == (
        "Container image build failed at step 1: FROM pytorch/pytorch:2.4.0-cuda12.1-cudnn9-"
        "runtime … the base image pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime "
        f"({tmp_path}/Dockerfile:1) is a short name, and podman does not guess which "
        "registry it comes from"
    )
    assert error.hint == (
        "Write the fully qualified name: FROM "
        "docker.io/pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime (Docker Hub), or list the "
        f"registries to search as unqualified-search-registries in {conf} (rootless podman: "
        "~/.config/containers/registries.conf)."
    )


def test_image_missing_from_this_store_names_the_other_store(
    tmp_path: Path, client: pc.PodmanClient
) -> None:
    image = f"localhost/keynet-absent-{uuid.uuid4().hex[:8]}:latest"
    error = _fail(client, tmp_path, f"# base\n\nFROM {image}\n")

    if os.geteuid() == 0:
        store = "root's store"
        hint = (
            "Images built or pulled without sudo are in each user's own store, which root's "
            f"podman does not see: copy it with `podman save {image} | sudo podman load`, or "
            "build it again as root."
        )
    else:  # scripts/test-rootless: the service is the user's rootless podman
        store = "rootless podman's own store"
        hint = (
            "Images built or pulled with sudo are in root's store, which rootless podman does "
            f"not see: copy it with `sudo podman save {image} | podman load`, or build it "
            "again without sudo."
        )
    assert error.message == (
        f"Container image build failed at step 1: FROM {image} … the base image {image} "
        f"({tmp_path}/Dockerfile:3) is not in {store}"
    )
    assert error.hint == hint


def test_unreachable_base_registry_is_named(tmp_path: Path, client: pc.PodmanClient) -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    image = f"127.0.0.1:{port}/team/base:1"
    error = _fail(client, tmp_path, f"FROM {image}\nRUN true\n")

    assert error.message == (
        f"Container image build failed at step 1: FROM {image} … cannot pull the base image "
        f"{image} ({tmp_path}/Dockerfile:1): the registry 127.0.0.1:{port} cannot be "
        f"reached (127.0.0.1:{port} refused the connection)"
    )
    assert error.hint == (
        "Check the network and the proxy settings of the podman service (HTTPS_PROXY), or "
        f"load the image into podman's store first: `podman pull {image}` on a machine that "
        "reaches the registry, then `podman save` there and `podman load` here."
    )


def test_base_image_of_another_platform(
    tmp_path: Path, client: pc.PodmanClient, base_image: str
) -> None:
    error = _fail(client, tmp_path, f"FROM {base_image}\n", platform="linux/arm64")

    assert error.message == (
        f"Container image build failed at step 1: FROM {base_image} … the base image "
        f"{base_image} ({tmp_path}/Dockerfile:1) is in podman's image store for linux/amd64, "
        "not for the platform linux/arm64"
    )
    assert error.hint == (
        "Build for the image's platform with --platform linux/amd64, or make a linux/arm64 "
        "variant of the base image."
    )


def test_unknown_instruction_names_the_line_and_the_nearest_one(
    tmp_path: Path, client: pc.PodmanClient, base_image: str
) -> None:
    error = _fail(client, tmp_path, f"FROM {base_image}\nCOPPY train.py /app/\n", {"train.py": "x"})

    assert error.message == (
        "Container image build failed at step 2: COPPY train.py /app/ … unknown Dockerfile "
        f"instruction COPPY ({tmp_path}/Dockerfile:2)"
    )
    assert error.hint is not None and error.hint.startswith(
        "Did you mean COPY? Dockerfile instructions are: ADD, ARG, CMD, COPY,"
    )


def test_copy_source_absent_suggests_the_nearest_file(
    tmp_path: Path, client: pc.PodmanClient, base_image: str
) -> None:
    error = _fail(
        client,
        tmp_path,
        f"FROM {base_image}\nWORKDIR /app\nCOPY requirments.txt ./\n",
        {"requirements.txt": "torch\n"},
    )

    assert error.message == (
        "Container image build failed at step 3: COPY requirments.txt ./ … the COPY source "
        f"requirments.txt ({tmp_path}/Dockerfile:3) does not exist in the build context "
        f"{tmp_path}"
    )
    assert error.hint == (
        "Did you mean requirements.txt? COPY paths are relative to the build context, not to "
        "the Dockerfile; pass --context to send another directory."
    )


def test_add_source_in_an_excluded_directory_names_the_pattern(
    tmp_path: Path, client: pc.PodmanClient, base_image: str
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "labels.json").write_text("{}")
    error = _fail(
        client,
        tmp_path,
        f"FROM {base_image}\nADD data/labels.json /app/\n",
        ignore="# keep the image small\ndata/\n",
    )

    assert error.message == (
        "Container image build failed at step 2: ADD data/labels.json /app/ … the ADD source "
        f"data/labels.json ({tmp_path}/Dockerfile:2) exists but is excluded from the build "
        f"context by the pattern 'data' in {tmp_path}/.dockerignore"
    )


def test_copy_source_excluded_by_dockerignore_names_the_pattern(
    tmp_path: Path, client: pc.PodmanClient, base_image: str
) -> None:
    error = _fail(
        client,
        tmp_path,
        f"FROM {base_image}\nCOPY weights.pt /app/\n",
        {"weights.pt": "w"},
        ignore="# keep the image small\n*.pt\n",
    )

    assert error.message == (
        "Container image build failed at step 2: COPY weights.pt /app/ … the COPY source "
        f"weights.pt ({tmp_path}/Dockerfile:2) exists but is excluded from the build context "
        f"by the pattern '*.pt' in {tmp_path}/.dockerignore"
    )
    assert error.hint == (
        f"Edit {tmp_path}/.dockerignore: remove that pattern, or add a line '!weights.pt' after it."
    )


# --------------------------------------------------------------------------- podman's text, offline


def _summary(tmp_path: Path, dockerfile: str) -> bc.ContextSummary:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    return bc.scan_context(tmp_path, tmp_path / "Dockerfile")


NO_STORE = StoreFacts(platform_of=lambda reference: None, rootless=True)


def test_no_dns_for_the_base_registry(tmp_path: Path) -> None:
    """podman 4.3's words without network (captured on this machine kind)."""
    detail = (
        "creating build container: initializing source docker://python:3.11: pinging "
        'container registry registry-1.docker.io: Get "https://registry-1.docker.io/v2/": '
        "dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host"
    )
    summary = _summary(tmp_path, "FROM docker.io/library/python:3.11\n")
    failure = BuildStepError(1, "FROM docker.io/library/python:3.11", detail)

    error = explain(failure, summary, "linux/amd64", NO_STORE)

    assert error.message == (
        "Container image build failed at step 1: FROM docker.io/library/python:3.11 … cannot "
        f"pull the base image docker.io/library/python:3.11 ({tmp_path}/Dockerfile:1): the "
        "registry registry-1.docker.io cannot be reached (no DNS answer for "
        "registry-1.docker.io: no network, or a name only an intranet knows)"
    )


def test_rootless_store_hint(tmp_path: Path) -> None:
    detail = (
        "creating build container: initializing source docker://localhost/base:1: pinging "
        'container registry localhost: Get "https://localhost/v2/": dial tcp 127.0.0.1:443: '
        "connect: connection refused"
    )
    summary = _summary(tmp_path, "FROM localhost/base:1\n")

    error = explain(BuildStepError(1, "FROM localhost/base:1", detail), summary, None, NO_STORE)

    assert error.message.endswith(
        f"the base image localhost/base:1 ({tmp_path}/Dockerfile:1) is not in rootless "
        "podman's own store"
    )
    assert error.hint == (
        "Images built or pulled with sudo are in root's store, which rootless podman does "
        "not see: copy it with `sudo podman save localhost/base:1 | podman load`, or build it "
        "again without sudo."
    )


def test_unrecognised_failures_keep_podmans_words(tmp_path: Path) -> None:
    summary = _summary(tmp_path, "FROM scratch\nRUN exit 3\n")
    failure = BuildStepError(2, "RUN exit 3", "error building at STEP: exit status 3")

    assert explain(failure, summary, None, NO_STORE) is failure


@pytest.mark.parametrize(
    ("short", "qualified"),
    [
        ("python:3.11", "docker.io/library/python:3.11"),
        ("pytorch/pytorch", "docker.io/pytorch/pytorch"),
        ("ghcr.io/org/img:1", "ghcr.io/org/img:1"),
        ("localhost/x", "localhost/x"),
        ("host:5000/x", "host:5000/x"),
    ],
)
def test_qualified_name(short: str, qualified: str) -> None:
    assert qualified_name(short) == qualified
