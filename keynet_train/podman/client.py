"""The only module that imports podman-py: the client that builds, tags and pushes.

Everything above it sees plain dataclasses and :mod:`keynet_train.errors`
types: podman-py's two error roots (``APIError`` and ``PodmanError``) and the
transport errors underneath (requests, urllib3, OSError) are translated here
with ``raise ... from e``.

Facts this module relies on, verified against podman 4.3.1 with podman-py 5.8
(see ``docs/testing.md``):

* ``/build`` and ``/images/{name}/push`` stream JSON lines when posted with
  ``stream=True``; errors arrive *inside* the stream with HTTP 200, so the
  stream must be read to know whether the operation worked.
* The build context can be sent as a chunked HTTP body (a generator), so a
  large context is never held in memory.
* The libpod push stream reports each blob but, before podman 5, not the
  manifest digest; the Docker-compatible push reports the digest. After a
  successful push we therefore re-push through the compatible endpoint (all
  blobs are already there: ~60 ms) to learn the digest.
* The service reads ``certs.d`` for every push, so a CA installed with
  :func:`keynet_train.podman.trust.install_registry_ca` works without
  restarting the service.

Which service to use is decided in :mod:`keynet_train.podman.connection`;
connecting to it, or starting a private one, is
:mod:`keynet_train.podman.service`. Reading a failed push's text is
:mod:`keynet_train.registry.push_errors`. Those modules reach podman-py only through
this one.

``podman`` (podman-py) is imported lazily: the CLI imports this module only
for commands that build or push.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import posixpath
import re
import signal
import tarfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keynet_train import limits
from keynet_train.build.failures import BuildStepError, StoreFacts, explain
from keynet_train.build.image_names import validate_repository, validate_tag
from keynet_train.config import RegistryCredentials
from keynet_train.errors import (
    BuildError,
    KeynetError,
    PodmanUnavailableError,
    RegistryError,
)
from keynet_train.interrupts import Stopped
from keynet_train.notices import PUSH_RETRY, Notice
from keynet_train.podman import connection as podman_connection
from keynet_train.progress import LiveTask, NullReporter, Reporter, live_progress
from keynet_train.registry.push_errors import TransientPushError, raise_push_error
from keynet_train.retries import RetryPolicy

if TYPE_CHECKING:
    from keynet_train.build.context import ContextSummary
    from keynet_train.build.tar_stream import DigestSink
    from keynet_train.podman.service import PrivatePodmanService

DEFAULT_PLATFORM = "linux/amd64"
#: podman's push: 3 tries, 1 s then 2 s apart (a registry's blip lasts longer
#: than an API's); which failures are transient is registry/push_errors.py's call.
PUSH_RETRIES = RetryPolicy(attempts=3, base_delay=1.0)
# podman (4.3 and 5, both push endpoints) reports nothing while a layer
# uploads: a multi-GB layer on a slow link looks like a hang without this.
PUSH_HEARTBEAT_SECONDS = 30.0
# How often a long context upload reports how far it got (podman starts
# printing only once it has the whole tar).
CONTEXT_PROGRESS_SECONDS = 10.0
PING_TIMEOUT = 5.0
# A log line at most this often while a build is silent (a long RUN step).
BUILD_HEARTBEAT_SECONDS = 30.0

_STEP_RE = re.compile(r"^STEP (\d+)(?:/(\d+))?: (.*)$")
_IMAGE_ID_RE = re.compile(r"^[0-9a-f]{64}$")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_COMPAT_DIGEST_RE = re.compile(r"digest: (sha256:[0-9a-f]{64})")
_UNCONSUMED_ARGS_RE = re.compile(
    r"^\[Warning\] one or more build args were not consumed: \[(.*)\]$"
)
# podman sets these build args itself for the `platform` this client always
# sends; a Dockerfile that does not declare them made buildah warn about
# arguments the user never gave.
_PLATFORM_BUILD_ARGS = frozenset({"TARGETARCH", "TARGETOS", "TARGETPLATFORM", "TARGETVARIANT"})


# --------------------------------------------------------------------------- results


def registry_auth_header(credentials: RegistryCredentials) -> str:
    """The ``X-Registry-Auth`` header value podman expects (urlsafe base64 JSON).

    The one place the podman client reveals the robot password.
    """
    payload = {"username": credentials.username, "password": credentials.password.reveal()}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@dataclass(frozen=True)
class BuildResult:
    """A finished build."""

    image_id: str
    tag: str | None
    steps: int


@dataclass(frozen=True)
class PushedImage:
    """A finished push of one reference."""

    reference: str
    digest: str | None  # None only when a digest_lookup could not tell
    attempts: int


@dataclass(frozen=True)
class HostFacts:
    """What ``run`` needs to know about the service's host to wire the network."""

    rootless: bool
    bridge_gateway: str | None
    bridge_subnet: str | None


@dataclass(frozen=True)
class ContainerSpec:
    """A container as ``keynet-train run`` starts it (see docs/run.md)."""

    image: str
    command: tuple[str, ...]
    env: Mapping[str, str]
    memory: int
    cpus: float
    shm_size: int
    rlimits: Mapping[str, int]
    network: str  # "bridge" or "slirp4netns"
    devices: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    name: str | None = None


@dataclass(frozen=True)
class ImageConfig:
    """What an image's config says about how a container of it starts."""

    os: str
    architecture: str
    variant: str | None
    #: The image's WORKDIR ("" when it sets none: containers then start in /).
    workdir: str
    env: tuple[str, ...]
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]


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

    Obtained from :meth:`PodmanClient.image_files`. Paths are absolute paths
    inside the image; podman resolves symlinks inside the image's root, never
    on the host.
    """

    def __init__(self, client: PodmanClient, container_id: str) -> None:
        self._client = client
        self._container = container_id

    def stat(self, path: str) -> PathStat | None:
        """What is at ``path`` (symlinks followed); None when nothing is there.

        Raises:
            BuildError: the service refused the request.
            PodmanUnavailableError: the connection to the service broke.
        """
        found = self._stat_once(path)
        if found is None:
            return None
        exists, header = found
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
        raw = response.headers.get(_PATH_STAT_HEADER)
        if response.status_code == 404:
            # A dangling symlink answers 404 with the link's stat; nothing at all, without.
            header = _decode_path_stat(raw) if raw else None
            return (False, header) if header is not None else None
        _raise_for_status(response, BuildError, f"Cannot read {path} in the image")
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
        with self._client._translate("inspect"):
            response = self._client._client.api.get(
                f"/containers/{self._container}/archive", params={"path": path}, stream=True
            )
            try:
                if response.status_code == 404:
                    return None
                _raise_for_status(response, BuildError, f"Cannot read {path} in the image")
                # The tar adds a 512-byte header and pads to 10 KiB records.
                cap = limit + 64 * 1024
                received = bytearray()
                for chunk in response.iter_content(64 * 1024):
                    received += chunk
                    if len(received) > cap:
                        return None
            finally:
                response.close()
        try:
            with tarfile.open(fileobj=io.BytesIO(bytes(received)), mode="r:") as archive:
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


@dataclass
class _BuildProgress:
    step: int = 0
    total: int = 0
    instruction: str = ""
    image_id: str | None = None
    partial: str = ""
    lines: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- progress


def _upload_progress(
    chunks: Iterator[bytes], total: int, reporter: Reporter, interval: float
) -> Iterator[bytes]:
    """Pass ``chunks`` through, reporting how much was sent.

    On a terminal (the reporter has a live display) a bar shows bytes and
    rate throughout; otherwise a line every ``interval`` s, quiet for uploads
    shorter than that. ``total`` is the size of the files (the tar adds
    headers, hence "about").
    """
    from keynet_train.build.context import human_size

    live = live_progress(reporter)
    task = live.transfer("Sending build context", total) if live is not None else None
    started = last = time.monotonic()
    sent = 0
    try:
        for chunk in chunks:
            yield chunk
            sent += len(chunk)
            if task is not None:
                task.advance(sent)
                continue
            now = time.monotonic()
            if now - last >= interval:
                last = now
                reporter.info(
                    f"Sending build context: {human_size(sent)} of about {human_size(total)}"
                )
    finally:
        if task is not None:
            task.close()
    elapsed = time.monotonic() - started
    if elapsed >= interval:
        reporter.info(f"Build context sent: {human_size(sent)} in {elapsed:.0f} s")


class _Heartbeat:
    """Reports ``message (N s so far)`` every ``interval`` s while nothing else arrives,
    and detects a stalled upload.

    Used around podman streams that can stay silent for minutes. With
    ``stall`` > 0 and a ``progress`` counter (bytes the podman service moved,
    see :class:`_ServiceIO`), a stream that neither says anything nor moves a
    byte for ``stall`` s is stalled: :attr:`stalled` is set and the
    ``on_stall`` callback (which aborts the stream) runs once. Without a
    counter there is no stall detection: podman says nothing while a big layer
    uploads, so silence alone proves nothing. The thread is a daemon, stopped
    when the block exits. Raises nothing.
    """

    def __init__(
        self,
        reporter: Reporter,
        message: str,
        interval: float,
        *,
        stall: float = 0.0,
        progress: Callable[[], int | None] | None = None,
    ) -> None:
        self._reporter = reporter
        self._message = message
        self._interval = interval
        self._stall = stall if progress is not None else 0.0
        self._progress = progress
        self._started = self._last = self._moved = time.monotonic()
        self._counter = progress() if progress is not None else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._on_stall: Callable[[], None] | None = None
        self.stalled = False

    def __enter__(self) -> _Heartbeat:
        if self._interval > 0 or self._stall > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def beat(self) -> None:
        """Something arrived: the next report is due ``interval`` s from now."""
        self._last = self._moved = time.monotonic()

    def watch(self, on_stall: Callable[[], None] | None) -> None:
        """Call ``on_stall`` if the stream stalls from now on; None stops watching."""
        self._moved = time.monotonic()
        self._on_stall = on_stall

    def _run(self) -> None:
        tick = min(self._interval or 1.0, 1.0)
        while not self._stop.wait(tick):
            now = time.monotonic()
            if self._interval > 0 and now - self._last >= self._interval:
                self._last = now
                self._reporter.info(f"{self._message} ({now - self._started:.0f} s so far)")
            if self._stall > 0 and self._progress is not None:
                counter = self._progress()
                if _moved_enough(self._counter, counter):
                    self._counter, self._moved = counter, now
                elif now - self._moved >= self._stall and self._on_stall is not None:
                    self.stalled = True
                    on_stall, self._on_stall = self._on_stall, None
                    on_stall()


# An idle podman service still reads and writes a few bytes a second (its
# runtime's timers); an upload, however slow, moves far more than this per
# stall window.
_PROGRESS_BYTES = 16 * 1024


def _moved_enough(before: int | None, now: int | None) -> bool:
    """True when the service moved enough bytes since ``before`` to count as progress."""
    return before is None or now is None or now - before >= _PROGRESS_BYTES


class _ServiceIO:
    """Bytes the local podman service process has read and written, from ``/proc/<pid>/io``.

    The service's pid comes from the unix socket itself (``SO_PEERCRED``: the
    process that listens on it); a socket systemd holds for activation names
    systemd, so then the user's ``podman system service`` processes are used.
    Unavailable (None) for ssh:// and tcp:// services and off Linux: their
    uploads cannot be watched from here. Never raises.
    """

    def __init__(self, pids: list[int]) -> None:
        self._pids = pids

    @classmethod
    def for_url(cls, url: str) -> _ServiceIO | None:
        """The counter for the service at ``url``, or None when it cannot be read."""
        if not url.startswith("unix://") or not Path("/proc/self/io").exists():
            return None
        pid = _listening_pid(url.removeprefix("unix://"))
        pids = [pid] if pid not in (None, 1) else _user_podman_services()
        meter = cls([p for p in pids if p is not None])
        return meter if meter._pids and meter() is not None else None

    def __call__(self) -> int | None:
        total, seen = 0, False
        for pid in self._pids:
            try:
                text = Path(f"/proc/{pid}/io").read_text()
            except OSError:
                continue
            for line in text.splitlines():
                key, _, value = line.partition(":")
                if key in ("rchar", "wchar"):
                    total += int(value)
                    seen = True
        return total if seen else None


def _listening_pid(path: str) -> int | None:
    """The pid of the process listening on the unix socket ``path`` (None if unknown)."""
    import socket
    import struct

    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2.0)
            sock.connect(path)
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (OSError, AttributeError):  # AttributeError: no SO_PEERCRED off Linux
        return None
    pid: int = struct.unpack("3i", creds)[0]
    return pid or None


def _user_podman_services() -> list[int]:
    """This user's ``podman system service`` processes (socket-activated services)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != os.getuid():
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"podman") and b"service" in argv[1:4]:
            found.append(int(entry.name))
    return found


def _abort_stream(response: Any) -> None:
    """Shut the socket of a streamed requests response down, so a blocked read ends."""
    import socket

    raw = getattr(response, "raw", None)
    for sock in (
        getattr(getattr(raw, "_connection", None), "sock", None),
        getattr(
            getattr(getattr(getattr(raw, "_fp", None), "fp", None), "raw", None), "_sock", None
        ),
    ):
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        response.close()


# --------------------------------------------------------------------------- connection


def ping(
    url: str, timeout: float = PING_TIMEOUT, identity: str | None = None, ssh_checked: bool = False
) -> bool:
    """True if a podman service answers at ``url``. Never raises.

    An ``ssh://`` URL is checked with a fail-fast ssh first (see
    :func:`keynet_train.podman.connection.check_ssh`).
    """
    import podman

    if url.startswith("ssh://") and not ssh_checked:
        try:
            podman_connection.check_ssh(url, identity, timeout=max(timeout, 5.0))
        except KeynetError:
            return False
    kwargs: dict[str, Any] = {"identity": identity} if identity else {}
    try:
        with podman.PodmanClient(
            base_url=podman_connection.normalize_url(url), timeout=timeout, **kwargs
        ) as client:
            response = client.api.get("/_ping", timeout=timeout)
            return bool(response.ok)
    except Exception:  # noqa: BLE001 - any failure means "does not answer"
        return False


# --------------------------------------------------------------------------- client


class PodmanClient:
    """Build, tag, push and inspect images through a podman service."""

    def __init__(
        self,
        url: str,
        private_service: PrivatePodmanService | None = None,
        identity: str | None = None,
    ) -> None:
        import podman

        self.url = url
        # Set when podman_service.connect() started this service; it is
        # stopped when connect() exits.
        self.private_service = private_service
        # No client-wide timeout: a silent RUN step or a big layer upload can
        # legitimately take long; Ctrl-C is the way out.
        # Typed as Any: podman-py's annotations do not admit a generator body.
        kwargs: dict[str, Any] = {"identity": identity} if identity else {}
        self._client: Any = podman.PodmanClient(base_url=url, **kwargs)

    @property
    def private(self) -> bool:
        """True if this client talks to a private service started by
        :func:`keynet_train.podman.service.connect`."""
        return self.private_service is not None

    def close(self) -> None:
        """Close the HTTP session. Raises nothing."""
        with contextlib.suppress(Exception):
            self._client.close()

    # -- build -------------------------------------------------------------------

    def build(
        self,
        summary: ContextSummary,
        *,
        tag: str | None = None,
        buildargs: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        platform: str | None = DEFAULT_PLATFORM,
        nocache: bool = False,
        reporter: Reporter | None = None,
        progress_interval: float = CONTEXT_PROGRESS_SECONDS,
        digests: DigestSink | None = None,
    ) -> BuildResult:
        """Build an image from ``summary`` (see :func:`build_context.scan_context`).

        ``digests`` receives each file's SHA-256, computed from the bytes sent.

        The context is streamed as a chunked tar; every output line is passed
        to ``reporter.log_line`` as it arrives. An upload that takes longer
        than ``progress_interval`` s reports its progress every that often,
        and its total at the end, through ``reporter.info``.

        Raises:
            BuildError: "Container image build failed at step N: ..." when a step
                fails, or the service rejected the request.
            PodmanUnavailableError: the connection to the service broke.
        """
        from keynet_train.build.tar_stream import context_tar_stream

        reporter = reporter or NullReporter()
        params: dict[str, Any] = {"dockerfile": summary.dockerfile_name, "nocache": nocache}
        if platform:
            params["platform"] = platform
        if buildargs:
            params["buildargs"] = json.dumps(dict(buildargs))
        if tag and not labels:
            params["t"] = tag
        upload = _upload_progress(
            context_tar_stream(summary, digests=digests),
            summary.total_size,
            reporter,
            progress_interval,
        )
        try:
            image_id, steps = self._post_build(params, upload, reporter)
        except BuildStepError as failure:
            facts = StoreFacts(platform_of=self._stored_platform, rootless=self._rootless())
            raise explain(failure, summary, platform, facts) from failure
        if labels:
            image_id = self.add_labels(image_id, labels, tag=tag, reporter=reporter)
        return BuildResult(image_id, tag, steps)

    def add_labels(
        self,
        image_id: str,
        labels: Mapping[str, str],
        *,
        tag: str | None = None,
        reporter: Reporter | None = None,
    ) -> str:
        """Build ``FROM image_id`` plus one LABEL step; return the new image id.

        Reports one ``reporter.info`` line naming the labels, not podman's log.

        podman turns each entry of the build API's ``labels`` into its own
        committed step (~0.2 s each); this adds them all in one, and keeps the
        user's own build cacheable although these labels change on every push
        (creation time, upload key).

        Raises:
            BuildError: the service refused or reported no image.
            PodmanUnavailableError: the connection to the service broke.
        """
        dockerfile = f"FROM {image_id}\nLABEL {_label_arguments(labels)}\n".encode()
        params: dict[str, Any] = {"dockerfile": "Dockerfile"}
        if tag:
            params["t"] = tag
        # podman's log of this build would echo every label value (the whole
        # hyperparameter JSON) under step numbers unrelated to the user's
        # Dockerfile; the names say what was added. A failure still raises
        # with podman's message.
        labelled, _ = self._post_build(
            params, _single_file_tar("Dockerfile", dockerfile), NullReporter()
        )
        (reporter or NullReporter()).info("Labels: " + ", ".join(labels))
        return labelled

    def _layer_count(self, reference: str) -> int | None:
        """How many layers (blobs to push) ``reference`` has (None: unknown). Never raises."""
        try:
            layers = (self.inspect_image(reference).get("RootFS") or {}).get("Layers")
        except (KeynetError, ValueError, AttributeError):
            return None
        return len(layers) if isinstance(layers, list) and layers else None

    def _stored_platform(self, reference: str) -> str | None:
        """``os/arch`` of ``reference`` in the service's store (None: absent). Never raises."""
        try:
            data = self.inspect_image(reference)
        except (KeynetError, ValueError):
            return None
        os_name, arch = data.get("Os"), data.get("Architecture")
        return f"{os_name}/{arch}" if os_name and arch else None

    def _rootless(self) -> bool | None:
        """Whether the service runs rootless (None: it did not say). Never raises."""
        try:
            with self._translate("info"):
                response = self._client.api.get("/info")
                if response.status_code >= 400:
                    return None
                rootless = ((response.json().get("host") or {}).get("security") or {}).get(
                    "rootless"
                )
        except (KeynetError, ValueError, AttributeError):
            return None
        return rootless if isinstance(rootless, bool) else None

    def image_exists(self, reference: str) -> bool:
        """True if the service's storage holds ``reference`` (an id or a name).

        Raises:
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("inspect"):
            response = self._client.api.get(f"/images/{reference}/exists")
            return bool(response.status_code == 204)

    def image_id(self, reference: str) -> str | None:
        """The id of the image ``reference`` names in the service's storage (None: absent).

        Raises:
            BuildError: the service refused the request.
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("inspect"):
            response = self._client.api.get(f"/images/{reference}/json")
            if response.status_code == 404:
                return None
            _raise_for_status(response, BuildError, f"Cannot inspect image {reference}")
            identifier = response.json().get("Id")
            return str(identifier) if identifier else None

    def _post_build(
        self, params: dict[str, Any], context: Iterator[bytes], reporter: Reporter
    ) -> tuple[str, int]:
        """POST one build and stream its log; return (image id, number of steps).

        Raises:
            BuildError: a step failed, the service refused, or no image id came back.
            PodmanUnavailableError: the connection to the service broke.
        """
        params = {
            "layers": True,
            "rm": True,
            # Also remove the working container when a step fails (rm alone does not).
            "forcerm": True,
            # Without an explicit format the libpod API builds Docker-format
            # intermediates that its own cache lookup never matches, so every
            # build started from scratch. OCI is also what `podman build` uses.
            "outputformat": OCI_MANIFEST,
            **params,
        }
        progress = _BuildProgress()
        live = live_progress(reporter)
        spinner: list[LiveTask] = []

        def sent() -> None:
            # podman unpacks the whole context before it prints anything
            # (~6 s for a large one): without this the screen stands still.
            if live is not None:
                spinner.append(live.activity("podman is unpacking the build context"))

        # A log keeps getting lines while a RUN step is silent; a terminal has the spinner.
        interval = 0.0 if live is not None else BUILD_HEARTBEAT_SECONDS
        try:
            with (
                self._translate("build"),
                _Heartbeat(reporter, "Still building", interval) as beat,
            ):
                response = self._client.api.post(
                    "/build",
                    params=params,
                    data=_then(context, sent, beat.beat),
                    headers={"Content-Type": "application/x-tar"},
                    stream=True,
                )
                try:
                    _raise_for_status(response, BuildError, "Container image build failed")
                    for record in _json_lines(response):
                        beat.beat()
                        step = progress.step
                        self._build_record(record, progress, reporter)
                        if spinner and progress.step != step:
                            spinner[0].describe(
                                f"STEP {progress.step}/{progress.total}: {progress.instruction}"
                            )
                except KeyboardInterrupt as exc:
                    raise self._interrupted_build(exc, progress) from None
                finally:
                    response.close()
        finally:
            for task in spinner:
                task.close()
        if progress.image_id is None:
            raise BuildError(
                "Container image build failed: podman reported no image id",
                hint="Run the build with `podman build` to see the full output.",
            )
        return progress.image_id, progress.total or progress.step

    def _interrupted_build(self, exc: KeyboardInterrupt, progress: _BuildProgress) -> Stopped:
        """``exc`` as a :class:`Stopped` saying what the podman service still runs.

        A private service is stopped with everything it ran; the user's own
        service finishes the step in progress on its own and only then drops
        the build (verified with podman 4.3, see
        tests/podman/test_podman_integration.py), so "nothing was left
        running" would be false for a RUN step there.
        """
        stopped = exc if isinstance(exc, Stopped) else Stopped(signal.SIGINT)
        if not self.private and progress.step and progress.instruction.startswith("RUN"):
            stopped.left_running = (
                f"The podman service at {self.url} finishes the step that was running "
                f"(STEP {progress.step}: {progress.instruction}) on its own, then discards "
                "the build; `podman ps --external` lists it until then"
            )
        return stopped

    @staticmethod
    def _build_record(record: dict[str, Any], progress: _BuildProgress, reporter: Reporter) -> None:
        if "error" in record:
            detail = str(record.get("error") or "").strip()
            raise BuildStepError(progress.step, progress.instruction, detail)
        text = progress.partial + str(record.get("stream") or "")
        *complete, progress.partial = text.split("\n")
        for raw_line in complete:
            line = _without_platform_args(raw_line)
            if line is None:
                continue
            step = _STEP_RE.match(line)
            if step:
                progress.step = int(step.group(1))
                progress.total = int(step.group(2) or 0)
                progress.instruction = step.group(3)
            if _IMAGE_ID_RE.match(line):
                progress.image_id = line
            reporter.log_line(line)

    # -- tag / inspect ------------------------------------------------------------

    def tag(self, image_id: str, repository: str, tag: str) -> str:
        """Tag ``image_id`` as ``repository:tag`` and return that reference.

        Raises:
            InputError: invalid repository or tag.
            BuildError: podman refused (e.g. unknown image).
        """
        validate_repository(repository)
        validate_tag(tag)
        with self._translate("tag"):
            response = self._client.api.post(
                f"/images/{image_id}/tag", params={"repo": repository, "tag": tag}
            )
            _raise_for_status(response, BuildError, f"Tagging {image_id[:12]} failed")
        return f"{repository}:{tag}"

    def inspect_image(self, reference: str) -> dict[str, Any]:
        """The service's inspect JSON of an image.

        Raises:
            BuildError: unknown image or service error.
        """
        with self._translate("inspect"):
            response = self._client.api.get(f"/images/{reference}/json")
            _raise_for_status(response, BuildError, f"Cannot inspect image {reference}")
            return dict(response.json())

    def image_labels(self, reference: str) -> dict[str, str]:
        """The labels of an image (empty dict when it has none).

        Raises:
            BuildError: unknown image or service error.
        """
        data = self.inspect_image(reference)
        labels = data.get("Labels") or (data.get("Config") or {}).get("Labels") or {}
        return {str(k): str(v) for k, v in labels.items()}

    def image_config(self, reference: str) -> ImageConfig:
        """The platform, WORKDIR, environment, ENTRYPOINT and CMD of an image.

        Raises:
            BuildError: unknown image or service error.
            PodmanUnavailableError: the connection to the service broke.
        """
        data = self.inspect_image(reference)
        config = data.get("Config") or {}

        def strings(value: object) -> tuple[str, ...]:
            return tuple(str(v) for v in value) if isinstance(value, list) else ()

        return ImageConfig(
            os=str(data.get("Os") or ""),
            architecture=str(data.get("Architecture") or ""),
            variant=str(data["Variant"]) if data.get("Variant") else None,
            workdir=str(config.get("WorkingDir") or ""),
            env=strings(config.get("Env")),
            entrypoint=strings(config.get("Entrypoint")),
            cmd=strings(config.get("Cmd")),
        )

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
                _raise_for_status(response, BuildError, f"Cannot read the files of image {image}")
            yield ImageFiles(self, name)
            failed = False
        finally:
            with shielded():
                try:
                    self.remove_container(name)
                except KeynetError:
                    if not failed:
                        raise

    def remove_image(self, reference: str, force: bool = False) -> None:
        """Remove an image; a missing image is not an error.

        Raises:
            BuildError: podman refused (e.g. in use without ``force``).
        """
        with self._translate("remove"):
            response = self._client.api.delete(f"/images/{reference}", params={"force": force})
            if response.status_code != 404:
                _raise_for_status(response, BuildError, f"Cannot remove image {reference}")

    # -- containers (keynet-train run) ---------------------------------------------

    def host_facts(self) -> HostFacts:
        """Whether the service runs rootless, and the default bridge's gateway and subnet.

        Raises:
            BuildError: the service refused.
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("info"):
            response = self._client.api.get("/info")
            _raise_for_status(response, BuildError, "Cannot read podman info")
            host = response.json().get("host") or {}
            rootless = bool((host.get("security") or {}).get("rootless"))
            gateway = subnet = None
            if not rootless:
                network = self._client.api.get("/networks/podman/json")
                if network.status_code == 200:
                    for item in network.json().get("subnets") or []:
                        if item.get("gateway") and item.get("subnet"):
                            gateway, subnet = str(item["gateway"]), str(item["subnet"])
                            break
            return HostFacts(rootless, gateway, subnet)

    def create_container(self, spec: ContainerSpec) -> str:
        """Create (not start) a container from ``spec``; return its id.

        Raises:
            BuildError: podman refused the container (unknown image, bad limits...).
            PodmanUnavailableError: the connection to the service broke.
        """
        body: dict[str, Any] = {
            "image": spec.image,
            "command": list(spec.command),
            "env": dict(spec.env),
            "labels": dict(spec.labels),
            "shm_size": spec.shm_size,
            "resource_limits": {
                "memory": {"limit": spec.memory},
                "cpu": {"quota": int(spec.cpus * 100_000), "period": 100_000},
            },
            "r_limits": [
                {"type": name, "soft": value, "hard": value} for name, value in spec.rlimits.items()
            ],
            "netns": {"nsmode": spec.network},
            "devices": [{"path": device} for device in spec.devices],
            "remove": False,
        }
        if spec.name:
            body["name"] = spec.name
        if spec.network == "slirp4netns":
            # The container reaches the host's 127.0.0.1 as 10.0.2.2 only with this.
            body["network_options"] = {"slirp4netns": ["allow_host_loopback=true"]}
        with self._translate("create container"):
            response = self._client.api.post(
                "/containers/create",
                data=json.dumps(body),
                headers={"Content-Type": "application/json"},
            )
            _raise_for_status(response, BuildError, "podman could not create the container")
            return str(response.json()["Id"])

    def start_container(self, container_id: str) -> None:
        """Start a created container.

        Raises:
            BuildError: the start failed (the OCI runtime's message included).
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("start container"):
            response = self._client.api.post(f"/containers/{container_id}/start")
            _raise_for_status(response, BuildError, "podman could not start the container")

    def container_exit_code(self, container_id: str) -> int | None:
        """The container's exit code once it has stopped; None while it runs.

        Polled instead of the ``wait`` endpoint: ``wait`` returns only after
        podman's clean-up of the container, which some services here finish
        20 s after the process ended; the state says ``stopped`` at once.

        Raises:
            BuildError: the container is gone, or the service refused.
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("inspect container"):
            response = self._client.api.get(f"/containers/{container_id}/json")
            _raise_for_status(response, BuildError, "podman lost the container")
            state = response.json().get("State") or {}
            if state.get("Status") in ("stopped", "exited"):
                return int(state.get("ExitCode") or 0)
            return None

    def signal_container(self, container_id: str, signal: str) -> None:
        """Send ``signal`` (``SIGTERM``, ``SIGKILL``) to the container; gone already is fine.

        Raises:
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("kill"):
            self._client.api.post(f"/containers/{container_id}/kill", params={"signal": signal})

    def remove_container(self, container_id: str) -> None:
        """Remove the container (forced: stopped first if running); gone already is fine.

        Raises:
            BuildError: podman refused.
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("remove container"):
            response = self._client.api.delete(
                f"/containers/{container_id}", params={"force": True, "v": True, "timeout": 0}
            )
            if response.status_code not in (404,):
                _raise_for_status(response, BuildError, "podman could not remove the container")

    def container_logs(self, container_id: str) -> Iterator[tuple[str, str]]:
        """Follow the container's output: ``(stream, line)`` pairs until it exits.

        ``stream`` is ``stdout`` or ``stderr``; lines keep no newline. The
        libpod API multiplexes a container without a TTY in frames of an
        8-byte header (stream id, 3 zero bytes, big-endian length).

        Raises:
            PodmanUnavailableError: the connection to the service broke.
        """
        with self._translate("logs"):
            response = self._client.api.get(
                f"/containers/{container_id}/logs",
                params={"follow": True, "stdout": True, "stderr": True},
                stream=True,
            )
            try:
                yield from _log_lines(response.iter_content(chunk_size=None))
            finally:
                response.close()

    # -- push ---------------------------------------------------------------------

    def push(
        self,
        reference: str,
        credentials: RegistryCredentials,
        *,
        tls_verify: bool = True,
        reporter: Reporter | None = None,
        retries: RetryPolicy = PUSH_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
        heartbeat: float = PUSH_HEARTBEAT_SECONDS,
        digest_lookup: Callable[[str], str | None] | None = None,
        stall: float | None = None,
    ) -> PushedImage:
        """Push ``reference`` with explicit ``credentials`` and return its digest.

        podman 5 reports the digest in the push stream. For podman 4.3,
        ``digest_lookup(reference)`` asks the registry; without one, the digest
        comes from a re-push through the Docker-compatible endpoint, which
        leaves a ``digest.txtNNN`` file in the service's TMPDIR each time.

        Transient failures (5xx, connection reset, timeout) are retried as
        ``retries`` says (:data:`PUSH_RETRIES`: 3 tries, waits doubling from
        1 s); blobs already in the registry are not sent again. While podman
        stays silent (it reports no bytes while a layer uploads), a "still
        pushing" line goes to ``reporter.info`` every ``heartbeat`` seconds.

        An upload that makes no progress for ``stall`` seconds (default
        ``limits.UPLOAD_STALL``, 120 s) — no line from podman and no byte read
        or written by the service — is a transient failure: the stream is cut
        and the push retried. Progress is measured on a local service only
        (:class:`_ServiceIO`); for ssh:// and tcp:// services silence alone
        is never taken for a stall.

        Raises:
            RegistryAuthError: the registry rejected the credentials (401).
            RegistryQuotaError: Harbor's storage or count quota is exhausted.
            RegistryPermissionError: the robot may not push to the project (denied).
            HarborProjectNotFoundError: the Harbor project does not exist.
            RegistryError: 413 (proxy body-size limit), TLS trust failure,
                unreachable registry, or transient failures on every attempt.
            PodmanUnavailableError: the connection to the service broke.
        """
        reporter = reporter or NullReporter()
        live = live_progress(reporter)
        # On a terminal a spinner shows the elapsed time instead of the
        # 30-second lines, which stay for logs.
        interval = 0.0 if live is not None else heartbeat
        # podman reports no bytes while a blob uploads, but each blob it starts:
        # "blob 2/5" is how far the push got.
        blobs = self._layer_count(reference) if live is not None else None
        attempts = retries.attempts
        stall_limit = limits.UPLOAD_STALL if stall is None else stall
        meter = _ServiceIO.for_url(self.url)
        for attempt in range(1, attempts + 1):
            spinner = live.activity(f"Pushing {reference}") if live is not None else None
            try:
                with _Heartbeat(
                    reporter,
                    f"Still pushing {reference}",
                    interval,
                    stall=stall_limit,
                    progress=meter,
                ) as beat:
                    try:
                        digest = self._push_once(
                            reference,
                            credentials,
                            tls_verify,
                            reporter,
                            beat,
                            digest_lookup,
                            spinner,
                            blobs,
                        )
                    except (KeynetError, TransientPushError) as e:
                        if not beat.stalled:
                            raise
                        raise TransientPushError(
                            f"no upload progress for {stall_limit:g} s (the registry stopped "
                            "answering)"
                        ) from e
                return PushedImage(reference, digest, attempt)
            except TransientPushError as e:
                if not retries.another_try(attempt):
                    stalled = "no upload progress" in str(e)
                    raise RegistryError(
                        f"Pushing {reference} failed after {attempts} attempts: {e}",
                        hint=(
                            "The registry accepted the upload but stopped answering; check its "
                            f"status and push again. On a link that is merely slow, raise "
                            f"{limits.UPLOAD_STALL_ENV} (seconds, default "
                            f"{limits.DEFAULT_UPLOAD_STALL:g})."
                            if stalled
                            else "The registry keeps failing; check its status and push again."
                        ),
                    ) from e
                delay = retries.delay(attempt)
                reporter.notice(
                    Notice(
                        PUSH_RETRY,
                        f"Push of {reference} failed ({e}); retrying in {delay:g}s "
                        f"(attempt {attempt + 1}/{attempts})",
                    )
                )
                sleep(delay)
            finally:
                if spinner is not None:
                    spinner.close()
        raise AssertionError("unreachable")  # pragma: no cover

    def _push_once(
        self,
        reference: str,
        credentials: RegistryCredentials,
        tls_verify: bool,
        reporter: Reporter,
        beat: _Heartbeat,
        digest_lookup: Callable[[str], str | None] | None,
        spinner: LiveTask | None = None,
        blobs: int | None = None,
    ) -> str | None:
        headers = {"X-Registry-Auth": registry_auth_header(credentials)}
        digest: str | None = None
        started = 0
        secrets = [credentials.password.reveal()]
        with self._translate("push"):
            response = self._client.api.post(
                f"/images/{reference}/push",
                params={"tlsVerify": tls_verify, "quiet": False},
                headers=headers,
                stream=True,
            )
            beat.watch(lambda: _abort_stream(response))
            for record in _push_records(response, reference, secrets, credentials.username):
                beat.beat()
                for line in str(record.get("stream") or "").splitlines():
                    if line.strip():
                        reporter.log_line(line.strip())
                        if spinner is not None:
                            # The changing part first: a narrow terminal cuts the end.
                            if line.strip().startswith("Copying blob"):
                                started += 1
                                of = f"/{blobs}" if blobs and started <= blobs else ""
                                spinner.describe(f"Pushing blob {started}{of} of {reference}")
                            else:
                                spinner.describe(f"Pushing {reference}: {line.strip()[:60]}")
                digest = record.get("manifestdigest") or digest
            if beat.stalled:  # the cut stream may simply have ended
                raise TransientPushError("the upload stalled")
            beat.watch(None)  # the upload is over; what follows has deadlines of its own
            if digest:
                return str(digest)
            if digest_lookup is not None:
                return digest_lookup(reference)
            return self._digest_via_compat_push(
                reference, headers, tls_verify, secrets, credentials.username
            )

    def _digest_via_compat_push(
        self,
        reference: str,
        headers: dict[str, str],
        tls_verify: bool,
        secrets: list[str],
        robot: str,
    ) -> str:
        # podman < 5 does not report the digest on the libpod endpoint; the
        # Docker-compatible one does. Every blob is already there, so this only
        # re-puts the (identical) manifest.
        repository, _, tag = reference.rpartition(":")
        if "/" in tag or not repository:
            repository, tag = reference, "latest"
        response = self._client.api.post(
            f"/images/{repository}/push",
            params={"tag": tag, "tlsVerify": tls_verify},
            headers=headers,
            stream=True,
            compatible=True,
        )
        for record in _push_records(response, reference, secrets, robot):
            found = _COMPAT_DIGEST_RE.search(str(record.get("status") or ""))
            if found:
                return found.group(1)
        raise RegistryError(
            f"Pushed {reference} but podman did not report the manifest digest",
            hint="Check the image in the registry; push again if it is missing.",
        )

    # -- error translation --------------------------------------------------------

    @contextlib.contextmanager
    def _translate(self, operation: str) -> Iterator[None]:
        """Turn podman-py and transport errors into keynet errors."""
        import podman.errors
        import requests
        import urllib3.exceptions

        try:
            yield
        except KeynetError:
            raise
        except podman.errors.APIError as e:
            raise BuildError(f"podman {operation} failed: {_api_error_text(e)}") from e
        except podman.errors.PodmanError as e:
            raise BuildError(f"podman {operation} failed: {e}") from e
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
            raise PodmanUnavailableError(
                f"Lost the connection to the podman service at {self.url} during {operation}: "
                f"{e.__class__.__name__}",
                hint="Check that the podman service is still running (`podman info`).",
            ) from e


def _push_records(
    response: Any, reference: str, secrets: Iterable[str], robot: str
) -> Iterator[dict[str, Any]]:
    """The JSON records of a push response; error records raise. Closes the response.

    Raises:
        RegistryError / RegistryAuthError: the push failed (see :func:`classify_push_error`).
        TransientPushError: a failure worth retrying.
    """
    try:
        _check_push_status(response, reference, secrets, robot)
        for record in _json_lines(response):
            if record.get("error"):
                raise_push_error(str(record["error"]), reference, secrets, robot)
            yield record
    finally:
        response.close()


def _check_push_status(response: Any, reference: str, secrets: Iterable[str], robot: str) -> None:
    if response.status_code < 400:
        return
    text = _response_text(response)
    if response.status_code == 404:
        raise BuildError(f"Cannot push {reference}: {text}")
    raise_push_error(f"{text} ({response.status_code})", reference, secrets, robot)


def _raise_for_status(response: Any, error: type[KeynetError], what: str) -> None:
    if response.status_code >= 400:
        raise error(f"{what}: {_response_text(response)}")


def _response_text(response: Any) -> str:
    try:
        body = response.json()
        return str(body.get("message") or body.get("cause") or body.get("error") or body)
    except ValueError:
        return str(response.text).strip() or f"HTTP {response.status_code}"


def _api_error_text(error: Any) -> str:
    return str(getattr(error, "explanation", None) or error)


def _json_lines(response: Any) -> Iterator[dict[str, Any]]:
    """Decode a podman JSON-lines stream; non-JSON lines become ``{"stream": line}``."""
    for raw in response.iter_lines():
        if not raw:
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            record = {"stream": raw.decode(errors="replace") + "\n"}
        if isinstance(record, dict):
            yield record


_STREAMS = {1: "stdout", 2: "stderr"}


def _log_lines(chunks: Iterable[bytes]) -> Iterator[tuple[str, str]]:
    """Split a multiplexed log stream into ``(stream, line)`` pairs (see ``container_logs``)."""
    buffer = b""
    partial: dict[str, bytes] = {"stdout": b"", "stderr": b""}
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= 8:
            size = int.from_bytes(buffer[4:8], "big")
            if len(buffer) < 8 + size:
                break
            stream = _STREAMS.get(buffer[0], "stdout")
            text = partial[stream] + buffer[8 : 8 + size]
            buffer = buffer[8 + size :]
            *lines, partial[stream] = text.split(b"\n")
            for line in lines:
                yield stream, line.decode("utf-8", "replace").rstrip("\r")
    for stream, rest in partial.items():
        if rest:
            yield stream, rest.decode("utf-8", "replace")


def _without_platform_args(line: str) -> str | None:
    """``line``, minus the platform build args from buildah's "not consumed" warning.

    None when nothing else is left in it (the warning was about our own arguments).
    """
    found = _UNCONSUMED_ARGS_RE.match(line.strip())
    if found is None:
        return line
    theirs = [name for name in found.group(1).split() if name not in _PLATFORM_BUILD_ARGS]
    if not theirs:
        return None
    return f"[Warning] one or more build args were not consumed: [{' '.join(theirs)}]"


def _then(
    chunks: Iterator[bytes], after: Callable[[], None], each: Callable[[], None]
) -> Iterator[bytes]:
    """``chunks``, calling ``each()`` per chunk and ``after()`` once all were sent."""
    for chunk in chunks:
        each()
        yield chunk
    after()


def _label_arguments(labels: Mapping[str, str]) -> str:
    """``"k"="v" ...`` for one Dockerfile LABEL instruction, quoted so any value survives."""

    def quote(text: str) -> str:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
        # A Dockerfile instruction is one line; newlines are kept as JSON-style escapes.
        return '"' + escaped.replace("\n", "\\n") + '"'

    return " ".join(f"{quote(key)}={quote(value)}" for key, value in labels.items())


def _single_file_tar(name: str, content: bytes) -> Iterator[bytes]:
    """A one-file tar archive, as a build context."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    yield buffer.getvalue()
