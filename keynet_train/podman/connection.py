"""Which podman service to use, and why (docs/podman.md).

Order: an explicit URL (``--podman-url`` > ``CONTAINER_HOST`` > config
``podman_url``); else podman's own default connection (``podman system
connection list``: how ``podman machine`` is reached on macOS and Windows,
``unix://`` or ``ssh://`` with an identity file; ``CONTAINER_CONNECTION``
picks another by name, as it does for podman); else the default socket; on
macOS the ``podman machine`` API socket; else a private service started for
the command (:class:`keynet_train.podman.service.PrivatePodmanService`).

The answer carries its reason, so ``push`` and ``whoami`` can say which
service they use and why. Nothing here imports podman-py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from keynet_train.config import parse_ssh_url
from keynet_train.errors import ConfigError, InputError, PodmanUnavailableError, UsageError
from keynet_train.urls import has_password, mask_userinfo

CONNECTION_LIST_TIMEOUT = 10.0
SSH_CHECK_TIMEOUT = 15.0

# Shown whenever podman is needed and missing.
INSTALL_HINT = (
    "Install podman: Debian/Ubuntu `sudo apt-get install podman`, Fedora/RHEL "
    "`sudo dnf install podman`, macOS `brew install podman && podman machine init && "
    "podman machine start`. Or point --podman-url / CONTAINER_HOST at a running "
    "podman service."
)

# How each explicit setting is named in messages.
EXPLICIT_REASONS = {
    "flag": "from --podman-url",
    "env": "from CONTAINER_HOST",
    "config": "from config podman_url",
}


@dataclass(frozen=True)
class PodmanConnection:
    """One entry of ``podman system connection list``."""

    name: str
    uri: str
    identity: str | None
    default: bool


@dataclass(frozen=True)
class ServiceChoice:
    """The podman service a command will use.

    ``url`` is None when nothing answers: a private service is to be started
    (``private``), or none can be because podman is not installed
    (``missing``). ``source`` is one of flag, env, config, connection,
    socket, machine, private, missing.
    """

    url: str | None
    source: str
    reason: str
    identity: str | None = None

    def describe(self) -> str:
        """One line for humans: where, and why."""
        if self.source == "missing":
            return f"none ({self.reason})"
        where = self.url or "a private podman service started for this command"
        return f"{where} ({self.reason})"

    def to_json(self) -> dict[str, str | None]:
        """The ``whoami --json`` form."""
        return {
            "url": self.url,
            "source": self.source,
            "reason": self.reason,
            "identity": self.identity,
        }


def choose_podman_url(
    flag: str | None, environ: Mapping[str, str], config_value: str | None
) -> str | None:
    """``--podman-url`` > ``CONTAINER_HOST`` > config ``podman_url`` > None (default socket)."""
    return flag or environ.get("CONTAINER_HOST") or config_value or None


def normalize_url(url: str) -> str:
    """A bare socket path becomes ``unix://path``; podman-py wants a scheme."""
    return f"unix://{url}" if url.startswith("/") else url


def explicit_source(flag: str | None, environ: Mapping[str, str]) -> str:
    """Which setting an explicitly configured URL came from: flag, env or config."""
    if flag:
        return "flag"
    if environ.get("CONTAINER_HOST"):
        return "env"
    return "config"


def default_socket_url(environ: Mapping[str, str] | None = None) -> str:
    """The podman socket this user's service listens on by default (docs/podman.md)."""
    environ = os.environ if environ is None else environ
    if os.geteuid() == 0:
        return "unix:///run/podman/podman.sock"
    runtime_dir = environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.geteuid()}"
    return f"unix://{runtime_dir}/podman/podman.sock"


def parse_connections(text: str) -> list[PodmanConnection]:
    """Parse ``podman system connection list --format json`` (podman 4 and 5).

    Unknown or malformed entries are skipped: a connection we cannot read is
    one we do not use.
    """
    try:
        data = json.loads(text or "[]")
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    connections = []
    for entry in data:
        if not isinstance(entry, dict):
            continue
        name, uri = entry.get("Name"), entry.get("URI")
        if not isinstance(name, str) or not isinstance(uri, str) or not uri:
            continue
        identity = entry.get("Identity")
        connections.append(
            PodmanConnection(
                name=name,
                uri=uri,
                identity=identity if isinstance(identity, str) and identity else None,
                default=entry.get("Default") is True,
            )
        )
    return connections


def list_connections(environ: Mapping[str, str]) -> list[PodmanConnection]:
    """podman's configured connections; empty if podman is missing or says nothing usable.

    ``CONTAINER_HOST`` is removed from podman's environment: it would turn the
    podman binary into a remote client for this query. Never raises.
    """
    podman = shutil.which("podman", path=environ.get("PATH"))
    if podman is None:
        return []
    child_env = {k: v for k, v in environ.items() if k != "CONTAINER_HOST"}
    try:
        result = subprocess.run(
            [podman, "system", "connection", "list", "--format", "json"],
            capture_output=True,
            text=True,
            timeout=CONNECTION_LIST_TIMEOUT,
            env=child_env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_connections(result.stdout) if result.returncode == 0 else []


def default_connection(
    connections: list[PodmanConnection], environ: Mapping[str, str]
) -> PodmanConnection | None:
    """The connection podman itself would use: ``CONTAINER_CONNECTION`` or the default.

    Raises:
        UsageError: ``CONTAINER_CONNECTION`` names a connection that does not exist.
    """
    wanted = environ.get("CONTAINER_CONNECTION")
    if wanted:
        for connection in connections:
            if connection.name == wanted:
                return connection
        names = ", ".join(c.name for c in connections) or "none"
        raise UsageError(
            f"CONTAINER_CONNECTION={wanted} is not a podman connection (known: {names}).",
            "List them with `podman system connection list`, or unset CONTAINER_CONNECTION.",
        )
    return next((c for c in connections if c.default), None)


def machine_socket_candidates(environ: Mapping[str, str], home: Path) -> list[Path]:
    """Where ``podman machine`` exposes its API socket on the macOS host.

    podman 4 (qemu): ``~/.local/share/containers/podman/machine/<name>/podman.sock``.
    podman 5: ``$TMPDIR/podman/<name>-api.sock``, with
    ``~/.local/share/containers/podman/machine/podman.sock`` linked to the
    default machine's. ``podman machine inspect`` reports the path
    (``ConnectionInfo.PodmanSocket.Path``) and is asked first by
    :func:`machine_socket`; these are the fall-backs for the default machine.
    """
    machine_dir = home / ".local/share/containers/podman/machine"
    candidates = [
        machine_dir / "podman.sock",
        machine_dir / "podman-machine-default" / "podman.sock",
        machine_dir / "qemu" / "podman.sock",
    ]
    tmpdir = environ.get("TMPDIR")
    if tmpdir:
        candidates.append(Path(tmpdir) / "podman" / "podman-machine-default-api.sock")
    return candidates


def machine_socket(environ: Mapping[str, str], home: Path) -> Path | None:
    """The running machine's API socket on macOS, if one exists. Never raises."""
    podman = shutil.which("podman", path=environ.get("PATH"))
    if podman is not None:
        try:
            result = subprocess.run(
                [podman, "machine", "inspect", "--format", "{{.ConnectionInfo.PodmanSocket.Path}}"],
                capture_output=True,
                text=True,
                timeout=CONNECTION_LIST_TIMEOUT,
                check=False,
            )
            path = result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""
            if result.returncode == 0 and path and Path(path).exists():
                return Path(path)
        except (OSError, subprocess.SubprocessError):
            pass
    return next((p for p in machine_socket_candidates(environ, home) if p.exists()), None)


def check_ssh_url(url: str, source: str) -> None:
    """Refuse an ``ssh://`` URL that does not follow the connection grammar, naming its source.

    The check runs before anything is started with the URL: ssh would read a
    host such as ``-oProxyCommand=...`` as an option and run its command
    (docs/security.md). Other schemes pass through unchanged.

    Raises:
        UsageError: from ``--podman-url`` or ``CONTAINER_HOST`` (``source``
            flag or env).
        ConfigError: from config ``podman_url`` or a podman connection.
    """
    if not url.startswith("ssh://"):
        return
    try:
        parse_ssh_url(url)
    except ConfigError as e:
        where = {
            "flag": "--podman-url",
            "env": "CONTAINER_HOST",
            "config": "config podman_url",
        }.get(source, "the podman connection")
        message = f"{where}: {e.message}"
        if source in ("flag", "env"):
            raise UsageError(message, e.hint) from None
        hint = (
            "Set a valid one with: keynet-train config set podman_url <url>"
            if source == "config"
            else "Fix it with `podman system connection` or pick another with CONTAINER_CONNECTION."
        )
        raise ConfigError(message, hint=hint) from None


def _explicit_choice(url: str, source: str, environ: Mapping[str, str]) -> ServiceChoice:
    """The choice of a URL the user gave (``source``: flag, env or config), checked.

    Raises:
        InputError: the URL carries a password.
        UsageError / ConfigError: an ``ssh://`` URL breaks the connection grammar.
    """
    if has_password(url):
        # Refused before the URL is shown anywhere (whoami, errors, --json).
        raise InputError(
            f"The podman service URL {mask_userinfo(url)} "
            f"({EXPLICIT_REASONS[source]}) carries a password; refused so that it is "
            "never printed or passed on.",
            "Use ssh keys (ssh://user@host/run/podman/podman.sock, CONTAINER_SSHKEY) "
            "instead of a password in the URL.",
        )
    check_ssh_url(url, source)
    # podman's own variable for the key of an ssh:// CONTAINER_HOST.
    identity = environ.get("CONTAINER_SSHKEY") if url.startswith("ssh://") else None
    return ServiceChoice(normalize_url(url), source, EXPLICIT_REASONS[source], identity or None)


def choose_service(
    explicit_url: str | None,
    source: str,
    environ: Mapping[str, str],
    *,
    ping: Callable[[str, str | None], bool],
    connections: Callable[[Mapping[str, str]], list[PodmanConnection]] = list_connections,
    platform: str = sys.platform,
    socket: str | None = None,
) -> ServiceChoice:
    """Decide which service to use (see the module docstring), without connecting.

    ``ping(url, identity)`` says whether a service answers; ``socket`` overrides
    the default socket URL. An explicit URL or a
    configured connection is returned whether or not it answers: the caller
    reports a dead one instead of silently using something else.

    Raises:
        UsageError: ``CONTAINER_CONNECTION`` names an unknown connection, or
            an ``ssh://`` URL from the flag or ``CONTAINER_HOST`` breaks the
            connection grammar (:func:`check_ssh_url`).
        ConfigError: the same, from config ``podman_url`` or podman's
            default connection.
        InputError: the explicit URL carries a password (``ssh://user:secret@host``).
    """
    if explicit_url:
        return _explicit_choice(explicit_url, source, environ)
    connection = default_connection(connections(environ), environ)
    if connection is not None:
        check_ssh_url(connection.uri, "connection")
        how = (
            f"CONTAINER_CONNECTION={connection.name}"
            if environ.get("CONTAINER_CONNECTION")
            else f"podman's default connection '{connection.name}'"
        )
        return ServiceChoice(connection.uri, "connection", how, connection.identity)
    socket = socket or default_socket_url(environ)
    if ping(socket, None):
        return ServiceChoice(socket, "socket", "the default podman socket")
    if platform == "darwin":
        home = Path(environ.get("HOME") or Path.home())
        found = machine_socket(environ, home)
        if found is not None and ping(f"unix://{found}", None):
            return ServiceChoice(f"unix://{found}", "machine", "podman machine's API socket")
    if shutil.which("podman", path=environ.get("PATH")) is None:
        # Nothing can be started: saying "a private service is started" would be false.
        return ServiceChoice(
            None, "missing", f"podman is not installed and nothing answers at {socket}"
        )
    return ServiceChoice(
        None, "private", f"nothing answers at {socket}; a private service is started"
    )


def check_ssh(url: str, identity: str | None, timeout: float = SSH_CHECK_TIMEOUT) -> None:
    """Make sure an ``ssh://`` podman URL is reachable before podman-py uses it.

    podman-py's ssh transport starts ``ssh -L`` and waits up to 300 s for the
    forwarded socket, even when ssh has already exited (wrong key, host down):
    checked here with a batch-mode ssh that fails fast instead of hanging.

    Raises:
        ConfigError: the URL breaks the connection grammar (a user or host
            starting with ``-``, a bad port or path).
        PodmanUnavailableError: ssh is missing, or the host refuses or does not answer.
    """
    import shlex

    target = parse_ssh_url(url)
    ssh = shutil.which("ssh")
    if ssh is None:
        raise PodmanUnavailableError(
            f"The podman service {url} is reached over ssh, but ssh is not installed.",
            hint="Install an OpenSSH client, or use a unix:// socket.",
        )
    command = [
        ssh,
        "-o",
        "BatchMode=yes",
        "-o",
        f"ConnectTimeout={int(timeout)}",
        "-o",
        "StrictHostKeyChecking=accept-new",
    ]
    if identity:
        command += ["-i", str(Path(identity).expanduser())]
    if target.port:
        command += ["-p", str(target.port)]
    host = target.destination
    # `test -S` proves the login works and the socket exists, in one round trip.
    # "--" ends ssh's options: nothing after it is read as one, whatever it holds.
    # The remote shell parses the command, so the path is quoted for it.
    command += ["--", host, "test", "-S", shlex.quote(target.path)]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout + 5, check=False
        )
    except subprocess.TimeoutExpired as e:
        raise PodmanUnavailableError(
            f"ssh to {host} did not answer within {timeout:.0f} s ({url}).",
            hint="Check that the host is up (`podman machine start` for a podman machine).",
        ) from e
    except OSError as e:
        raise PodmanUnavailableError(f"Could not run ssh for {url}: {e}") from e
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no socket at " + target.path])[-1]
        raise PodmanUnavailableError(
            f"Cannot reach the podman service {url} over ssh: {detail}",
            hint="Check the connection with `podman --remote info`; for a podman machine "
            "run `podman machine start`.",
        )
