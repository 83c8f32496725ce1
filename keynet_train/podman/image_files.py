"""Reading an image's files without running it, for the image check before a push (docs/push.md).

A container of the image is created, never started; podman's archive endpoint
answers what is at a path (``HEAD``) and sends a file as a tar (``GET``, which
answers the ``HEAD``'s question too: :meth:`ImageFiles.fetch`).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import posixpath
import tarfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from keynet_train.errors import BuildError, KeynetError
from keynet_train.podman.api import PodmanAPI, raise_for_status
from keynet_train.podman.containers import Containers


@dataclass(frozen=True)
class PathStat:
    """What is at a path inside an image, symlinks followed (see :meth:`ImageFiles.stat`)."""

    path: str
    #: False for a symlink whose target does not exist (``target`` names it).
    exists: bool
    #: The path with every symlink on the way resolved, inside the image.
    target: str
    is_dir: bool = False
    is_regular: bool = False
    #: Permission bits (``0o755``) of the final target.
    mode: int = 0
    size: int = 0

    @property
    def via_symlink(self) -> bool:
        """True when ``path`` itself or a folder on the way is a symlink."""
        return self.target != posixpath.normpath(self.path)

    @property
    def executable(self) -> bool:
        """A regular file with an execute bit set."""
        return self.is_regular and bool(self.mode & 0o111)


# Go's os.FileMode type bits, as the archive endpoint's path-stat header carries them.
_GO_MODE_DIR = 1 << 31
_GO_MODE_SYMLINK = 1 << 27
_GO_MODE_TYPE = (1 << 31) | (1 << 27) | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 21) | (1 << 19)
_PATH_STAT_HEADER = "X-Docker-Container-Path-Stat"
# A marker command: the container is created to read files and is never started.
_NEVER_STARTED = ["/keynet-train-image-check-never-started"]


class ImageFiles:
    """Read-only access to an image's file system through a created, never started container.

    Obtained from :meth:`ImageFileReader.image_files`. Paths are absolute paths
    inside the image; podman resolves symlinks inside the image's root, never
    on the host.
    """

    def __init__(self, client: PodmanAPI, container_id: str) -> None:
        self._client = client
        self._container = container_id

    def stat(self, path: str) -> PathStat | None:
        """What is at ``path`` (symlinks followed); None when nothing is there.

        Raises:
            BuildError: the service refused the request.
            PodmanUnavailableError: the connection to the service broke.
        """
        found = self._stat_once(path)
        return None if found is None else self._follow(path, *found)

    def fetch(self, path: str, limit: int) -> tuple[PathStat | None, bytes | None]:
        """:meth:`stat` of ``path`` and, for a regular file of at most ``limit`` bytes,
        its content (else None): what :meth:`stat` then :meth:`read` tell, in one request.

        podman's ``GET`` of a path sends the ``HEAD``'s path-stat header along
        with a tar of the file (symlinks followed); each archive request costs
        it a mount and helper processes (docs/performance.md, issue 20).

        Raises:
            BuildError: the service refused the request.
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._client._translate("inspect"):
            response = self._client._client.api.get(
                f"/containers/{self._container}/archive", params={"path": path}, stream=True
            )
            try:
                answer = self._answer(response, path)
                if answer is None:
                    return None, None
                exists, header = answer
                mode, size = int(header.get("mode") or 0), int(header.get("size") or 0)
                # A symlink's header describes the link; its tar holds the file it ends at.
                wanted = exists and (
                    bool(mode & _GO_MODE_SYMLINK) or (not mode & _GO_MODE_TYPE and size <= limit)
                )
                received = _receive(response, limit) if wanted else None
            finally:
                response.close()
        found = self._follow(path, exists, header)
        if received is None or not found.is_regular or found.size > limit:
            return found, None
        return found, _file_in(received, path, limit)

    def _follow(self, path: str, exists: bool, header: dict[str, Any]) -> PathStat:
        """The :class:`PathStat` of ``path`` from its path-stat header, a symlink followed."""
        target = str(header.get("linkTarget") or path)
        mode = int(header.get("mode") or 0)
        if exists and mode & _GO_MODE_SYMLINK:
            # The header describes the link itself; linkTarget is already fully
            # resolved, so one more look gives the file it ends at.
            final = self._stat_once(target)
            if final is None:
                return PathStat(path, False, target)
            exists, header = final
            mode = int(header.get("mode") or 0)
        if not exists:
            return PathStat(path, False, target)
        return PathStat(
            path,
            True,
            target,
            is_dir=bool(mode & _GO_MODE_DIR),
            is_regular=not mode & _GO_MODE_TYPE,
            mode=mode & 0o7777,
            size=int(header.get("size") or 0),
        )

    def _stat_once(self, path: str) -> tuple[bool, dict[str, Any]] | None:
        with self._client._translate("inspect"):
            response = self._client._client.api.head(
                f"/containers/{self._container}/archive", params={"path": path}
            )
        return self._answer(response, path)

    @staticmethod
    def _answer(response: Any, path: str) -> tuple[bool, dict[str, Any]] | None:
        """(exists, path-stat header) of an archive answer; None when nothing is at ``path``.

        Raises:
            BuildError: the service refused, or sent no readable path-stat header.
        """
        raw = response.headers.get(_PATH_STAT_HEADER)
        if response.status_code == 404:
            # A dangling symlink answers 404 with the link's stat; nothing at all, without.
            header = _decode_path_stat(raw) if raw else None
            return (False, header) if header is not None else None
        raise_for_status(response, BuildError, f"Cannot read {path} in the image")
        header = _decode_path_stat(raw) if raw else None
        if header is None:
            raise BuildError(
                f"Cannot read {path} in the image: podman sent no readable {_PATH_STAT_HEADER}",
                hint="Update podman (4.3 or later answers it).",
            )
        return True, header

    def read(self, path: str, limit: int) -> bytes | None:
        """The content of the regular file at ``path`` (symlinks followed), at most ``limit`` bytes.

        Returns None when nothing is there, it is not a regular file, or it is
        longer than ``limit``.

        Raises:
            BuildError: the service refused the request.
            PodmanUnavailableError: the connection to the service broke.
        """
        return self.fetch(path, limit)[1]


def _receive(response: Any, limit: int) -> bytes | None:
    """The tar of one file of at most ``limit`` bytes; None once more has arrived."""
    # The tar adds a 512-byte header and pads to 10 KiB records.
    cap = limit + 64 * 1024
    received = bytearray()
    for chunk in response.iter_content(64 * 1024):
        received += chunk
        if len(received) > cap:
            return None
    return bytes(received)


def _file_in(archive_bytes: bytes, path: str, limit: int) -> bytes | None:
    """The first member of a tar when it is a regular file of at most ``limit`` bytes.

    Raises:
        BuildError: the tar is unreadable.
    """
    try:
        with tarfile.open(fileobj=io.BytesIO(archive_bytes), mode="r:") as archive:
            member = archive.next()
            if member is None or not member.isreg() or member.size > limit:
                return None
            handle = archive.extractfile(member)
            return handle.read() if handle is not None else None
    except tarfile.TarError as e:
        raise BuildError(f"Cannot read {path} in the image: podman sent {e}") from e


def _decode_path_stat(raw: str) -> dict[str, Any] | None:
    """The JSON in a path-stat header: base64, URL-safe alphabet (podman) or standard."""
    text = raw.strip().replace("+", "-").replace("/", "_")
    try:
        decoded = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


class ImageFileReader(Containers):
    """Opens an image's files for reading (:meth:`image_files`)."""

    @contextlib.contextmanager
    def image_files(self, image: str) -> Iterator[ImageFiles]:
        """Read an image's files without running it: a container is created, never started.

        The container is removed when the block ends, however it ends (a stop
        signal waits until it is gone).

        Raises:
            BuildError: the image is unknown or the service refused.
            PodmanUnavailableError: the connection to the service broke.
        """
        from keynet_train.interrupts import shielded

        # A name of our own: the container can be removed even when the create
        # request was cut short before its answer (its id) arrived.
        name = f"keynet-image-check-{uuid.uuid4().hex[:12]}"
        spec = {
            "name": name,
            "image": image,
            # An image without CMD (FROM scratch) cannot be created without a
            # command; this one never runs.
            "command": _NEVER_STARTED,
            "netns": {"nsmode": "none"},
            # For every archive GET podman looks the container's user up in the
            # image's /etc/passwd and /etc/group, one helper process per lookup;
            # a numeric user:group leaves one of three (docs/performance.md,
            # issue 20). Nothing runs as this user: the container never starts.
            "user": "0:0",
            "labels": {"ai.keynet.train.image-check": "true"},
        }
        failed = True
        try:
            # Shielded: a stop signal during the create waits for its answer,
            # so the removal below never races a create still in progress.
            with shielded(), self._translate("create"):
                response = self._client.api.post(
                    "/containers/create",
                    data=json.dumps(spec),
                    headers={"Content-Type": "application/json"},
                )
                raise_for_status(response, BuildError, f"Cannot read the files of image {image}")
            yield ImageFiles(self, name)
            failed = False
        finally:
            with shielded():
                try:
                    self.remove_container(name)
                except KeynetError:
                    if not failed:
                        raise
