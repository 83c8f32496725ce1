"""The podman service a command uses: the chosen one, or a private one it starts.

:mod:`keynet_train.podman.connection` decides which service and why
(docs/podman.md) without touching podman-py; this module acts on that choice.
:func:`connect` pings the chosen service, or starts a
:class:`PrivatePodmanService` when nothing answers, and yields a
:class:`~keynet_train.podman.client.PodmanClient`. The private service is
stopped by PID, with what it ran, however the block exits.

podman-py is reached only through :mod:`keynet_train.podman.api`
(:func:`~keynet_train.podman.api.ping` and the client built on it).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from keynet_train.errors import PodmanUnavailableError
from keynet_train.podman import connection as podman_connection
from keynet_train.podman.api import ping
from keynet_train.podman.client import PodmanClient
from keynet_train.podman.connection import INSTALL_HINT
from keynet_train.progress import NullReporter, Reporter

RUNTIME_ENV = "KEYNET_PODMAN_RUNTIME"
SERVICE_START_TIMEOUT = 30.0


def choose_service(
    url: str | None, source: str, environ: Mapping[str, str]
) -> podman_connection.ServiceChoice:
    """Which service :func:`connect` would use for ``url`` (see ``podman_connection``).

    Raises:
        UsageError: ``CONTAINER_CONNECTION`` names an unknown connection.
    """
    return podman_connection.choose_service(
        url,
        source,
        environ,
        ping=lambda target, identity: ping(target, identity=identity),
    )


# sockaddr_un.sun_path holds 108 bytes on Linux, 104 on macOS (with the NUL).
MAX_SOCKET_PATH = 103


def private_service_dir() -> Path:
    """A new private directory for a service socket, in TMPDIR when the path fits.

    A long TMPDIR (a CI workspace, pytest's temp dirs for a long user name)
    would make ``<dir>/podman.sock`` too long to bind ("bind: invalid
    argument"); /tmp is used then.
    """
    directory = Path(tempfile.mkdtemp(prefix="keynet-podman-"))
    if len(str(directory / "podman.sock")) <= MAX_SOCKET_PATH:
        return directory
    directory.rmdir()
    return Path(tempfile.mkdtemp(prefix="keynet-podman-", dir="/tmp"))


class PrivatePodmanService:
    """A ``podman system service`` on a socket in a private temp dir.

    Started when no service answers; always stopped by PID, and its temp dir
    removed, by :meth:`stop` (also on errors and Ctrl-C via :func:`connect`).
    It runs in its own session so a Ctrl-C in the terminal reaches only us,
    and we shut it down in order.
    """

    def __init__(self, runtime: str | None = None) -> None:
        self.runtime = runtime
        self.directory: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at: float | None = None

    @property
    def url(self) -> str:
        """``unix://`` URL of the socket (valid after :meth:`start`)."""
        assert self.directory is not None
        return f"unix://{self.directory / 'podman.sock'}"

    def start(self, ping: Callable[[str], bool]) -> str:
        """Start the service and wait until ``ping(url)`` is true; return the URL.

        Raises:
            PodmanUnavailableError: the binary is missing, or the service exits
                or does not answer within 30 s.
        """
        podman = shutil.which("podman")
        if podman is None:
            raise PodmanUnavailableError("podman is not installed", hint=INSTALL_HINT)
        self.directory = private_service_dir()
        # Whole seconds: podman reports container creation times that way.
        self.started_at = float(int(time.time()))
        try:
            command = [podman]
            if self.runtime:
                command += ["--runtime", self.runtime]
            command += ["system", "service", "--time=0", self.url]
            # buildah leaves its scratch dirs behind when a build is interrupted;
            # keeping them inside our directory means stop() removes them too.
            scratch = self.directory / "tmp"
            scratch.mkdir()
            with (self.directory / "service.log").open("wb") as log:
                self.process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    env={**os.environ, "TMPDIR": str(scratch)},
                )
            deadline = time.monotonic() + SERVICE_START_TIMEOUT
            while not ping(self.url):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log_tail = (self.directory / "service.log").read_text(errors="replace")
                    raise PodmanUnavailableError(
                        "Could not start a podman service: "
                        + (log_tail.strip().splitlines() or ["no answer"])[-1],
                        hint="Run `podman system service --time=0` yourself and pass "
                        "--podman-url, or check `podman info`.",
                    )
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise
        return self.url

    def stop(self, interrupted: bool = False) -> None:
        """Stop the service and what it runs, by PID; remove the temp dir.

        The service gets SIGTERM (SIGKILL after 10 s). A RUN step of an
        interrupted build runs in its own session under the service and
        survives the service's exit (verified with podman 4.3), so the
        service's descendants, collected first, get SIGKILL afterwards.
        With ``interrupted`` (the caller is leaving on an error or Ctrl-C,
        maybe mid-build), buildah's working containers this service created
        are removed too: killed mid-build, podman leaves them in storage with
        their overlay mounted and the base image pinned.

        Runs shielded from stop signals (:func:`keynet_train.interrupts.shielded`),
        and its podman commands in their own session: a CI runner signalling
        the process group again must not leave a half-removed service.

        Raises:
            Stopped: only a stop signal that arrived while it ran, re-raised
                once everything is removed.
        """
        from keynet_train.interrupts import shielded

        with shielded():
            self._stop(interrupted)

    def _stop(self, interrupted: bool) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            descendants = _descendant_pids(process.pid)
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            for pid in descendants:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        if interrupted and process is not None and self.started_at is not None:
            _remove_build_containers(created_since=self.started_at)
        directory, self.directory = self.directory, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)
            if directory.exists() and os.geteuid() != 0:
                # Rootless: an interrupted build leaves scratch files owned by
                # sub-uids, which only the user namespace may delete.
                _unshare_remove(directory)


def _unshare_remove(directory: Path) -> None:
    """``podman unshare rm -rf directory``. Never raises."""
    podman = shutil.which("podman")
    if podman is None:
        return
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            [podman, "unshare", "rm", "-rf", str(directory)],
            capture_output=True,
            timeout=60,
            check=False,
        )


def _remove_build_containers(created_since: float) -> None:
    """``podman rm -f`` buildah working containers created since ``created_since``.

    Only a private service's own storage user is affected in practice: the
    filter (buildah's command, "storage" state, created while our service
    ran) would only also match a build someone else started in the same
    storage during those seconds. Best effort; never raises.
    """
    try:
        listed = subprocess.run(
            ["podman", "ps", "--all", "--external", "--format", "json"],
            capture_output=True,
            timeout=30,
            check=False,
            start_new_session=True,
        )
        containers = json.loads(listed.stdout or b"[]") if listed.returncode == 0 else []
        doomed = [
            str(c["Id"])
            for c in containers
            if c.get("State") == "storage"
            and c.get("Command") == ["buildah"]
            and float(c.get("Created") or 0) >= created_since
        ]
        if doomed:
            subprocess.run(
                ["podman", "rm", "--force", *doomed],
                capture_output=True,
                timeout=60,
                check=False,
                start_new_session=True,
            )
    except (OSError, ValueError, TypeError, KeyError, AttributeError, subprocess.SubprocessError):
        pass


def _descendant_pids(root: int) -> list[int]:
    """PIDs of all descendants of ``root`` (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name (field 2) may contain spaces; ppid follows its ")".
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.parent.name))
    found: list[int] = []
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _check_answers(url: str, choice: podman_connection.ServiceChoice) -> None:
    """Fail unless the service the user named (``choice``, at ``url``) answers.

    Raises:
        PodmanUnavailableError: ssh cannot reach the host, or nothing answers at ``url``.
        ConfigError: an ``ssh://`` URL breaks the connection grammar.
    """
    if url.startswith("ssh://"):
        # Fails fast with ssh's own reason instead of a 300 s wait.
        podman_connection.check_ssh(url, choice.identity)
    if not ping(url, identity=choice.identity, ssh_checked=True):
        raise PodmanUnavailableError(
            f"No podman service answers at {url} ({choice.reason})",
            hint="Start it with `podman system service --time=0 <url>` (a podman "
            "machine: `podman machine start`), or drop --podman-url/CONTAINER_HOST "
            "to let keynet-train start one.",
        )


@contextlib.contextmanager
def connect(
    url: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    reporter: Reporter | None = None,
    source: str = "flag",
) -> Iterator[PodmanClient]:
    """Connect to podman as docs/podman.md describes and yield a :class:`PodmanClient`.

    ``url`` is what the caller resolved (see
    :func:`keynet_train.podman.connection.choose_podman_url`) and
    ``source`` where it came from (flag, env or config). With an explicit URL
    or a podman connection that does not answer, this fails. Otherwise the
    default socket is tried, and if nothing answers a private service is
    started (with ``--runtime $KEYNET_PODMAN_RUNTIME`` if set) and stopped
    when the block exits, however it exits. The reporter is told which
    service is used and why.

    Raises:
        PodmanUnavailableError: nothing answers and no service can be started.
        UsageError: ``CONTAINER_CONNECTION`` names an unknown connection.
    """
    environ = os.environ if environ is None else environ
    reporter = reporter or NullReporter()
    private: PrivatePodmanService | None = None
    try:
        choice = choose_service(url, source, environ)
        target = choice.url
        if target is not None and choice.source not in ("socket", "machine"):
            _check_answers(target, choice)
        if target is None:
            if shutil.which("podman") is None:
                raise PodmanUnavailableError(
                    "podman is not installed and no podman service is running",
                    hint=INSTALL_HINT,
                )
            reporter.info("No podman service running; starting a private one")
            private = PrivatePodmanService(runtime=environ.get(RUNTIME_ENV) or None)
            target = private.start(ping)
        else:
            reporter.info(f"Podman service: {choice.describe()}")
        client = PodmanClient(target, private_service=private, identity=choice.identity)
        try:
            yield client
        finally:
            client.close()
    except BaseException:
        if private is not None:
            private.stop(interrupted=True)
        raise
    else:
        if private is not None:
            private.stop()
