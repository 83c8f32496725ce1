"""Reading a built image's files through a never-started container, against real podman.

:meth:`ImageFiles.fetch` must tell exactly what :meth:`ImageFiles.stat` and
:meth:`ImageFiles.read` tell, in one request (the image check's hot path).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from keynet_train.build import context as bc
from keynet_train.podman import client as pc
from keynet_train.podman.service import connect
from tests.support.services import PodmanServiceHandle

pytestmark = pytest.mark.integration

SCRIPT = b"import argparse\nargparse.ArgumentParser().parse_args()\n"
LIMIT = len(SCRIPT)


@pytest.fixture(scope="module")
def client(podman_service: PodmanServiceHandle) -> Iterator[pc.PodmanClient]:
    with connect(podman_service.url) as podman:
        yield podman


@pytest.fixture(scope="module")
def image(client: pc.PodmanClient, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A FROM scratch image with a file, symlinks to it, a dangling one, a folder, a big file."""
    context = tmp_path_factory.mktemp("image-files")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY app /app\n")
    app = context / "app"
    (app / "sub").mkdir(parents=True)
    (app / "train.py").write_bytes(SCRIPT)
    (app / "tool.sh").write_bytes(b"#!/bin/sh\n")
    (app / "tool.sh").chmod(0o755)
    (app / "big.py").write_bytes(SCRIPT * 3)
    (app / "sub" / "inner.py").write_bytes(b"x = 1\n")
    os.symlink("train.py", app / "link.py")
    os.symlink("/app/link.py", app / "chain.py")
    os.symlink("sub", app / "dirlink")
    os.symlink("/nowhere", app / "dangling")
    summary = bc.scan_context(context, context / "Dockerfile")
    return client.build(summary).image_id


PATHS = [
    "/app/train.py",
    "/app/tool.sh",
    "/app/big.py",
    "/app/sub",
    "/app/link.py",
    "/app/chain.py",
    "/app/dirlink",
    "/app/dangling",
    "/app/missing.py",
    "/app/sub/inner.py",
]


@pytest.mark.parametrize("path", PATHS)
def test_fetch_tells_what_stat_and_read_tell(
    client: pc.PodmanClient, image: str, path: str
) -> None:
    with client.image_files(image) as files:
        found, content = files.fetch(path, LIMIT)
        assert found == files.stat(path)
        expected = files.read(path, LIMIT) if found is not None and found.exists else None
        assert content == expected


def test_what_fetch_finds(client: pc.PodmanClient, image: str) -> None:
    with client.image_files(image) as files:
        found, content = files.fetch("/app/chain.py", LIMIT)
        assert found is not None and found.exists and found.is_regular
        assert (found.target, found.size, content) == ("/app/train.py", LIMIT, SCRIPT)
        big, over = files.fetch("/app/big.py", LIMIT)
        assert big is not None and (big.size, over) == (3 * LIMIT, None)
        folder, nothing = files.fetch("/app/dirlink", LIMIT)
        assert folder is not None and folder.is_dir and nothing is None
        dangling, none = files.fetch("/app/dangling", LIMIT)
        assert dangling is not None and not dangling.exists and none is None
        assert files.fetch("/app/missing.py", LIMIT) == (None, None)


def test_a_regular_file_takes_one_request(client: pc.PodmanClient, image: str) -> None:
    """Each archive request costs podman a mount and helper processes: the file and its
    stat come in one, and the container is created with a numeric user (fewer lookups)."""
    api: Any = client._client.api
    calls: list[str] = []
    original = api.request

    def counting(method: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(method)
        return original(method, *args, **kwargs)

    with client.image_files(image) as files:
        inspect = client._client.api.get(f"/containers/{files._container}/json").json()
        assert inspect["Config"]["User"] == "0:0"
        api.request = counting
        try:
            found, content = files.fetch("/app/train.py", LIMIT)
        finally:
            del api.request
    assert content == SCRIPT and found is not None and found.size == LIMIT
    assert calls == ["GET"]
