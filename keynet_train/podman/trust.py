"""What podman trusts and remembers about a registry: its CA and a ``podman login``.

A CA from ``KEYNET_CA_BUNDLE`` goes into podman's ``certs.d`` (read on every
push, so a running service picks it up), marked so ``logout`` removes only
what keynet-train added. ``podman login`` is a convenience for the user's own
podman use; pushes pass credentials explicitly and never rely on it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from keynet_train.errors import PodmanUnavailableError, RegistryError
from keynet_train.files import write_atomically
from keynet_train.podman.connection import INSTALL_HINT
from keynet_train.registry.push_errors import TransientPushError, classify_push_error

if TYPE_CHECKING:
    from keynet_train.podman.client import RegistryCredentials


def certs_dir(registry_host: str) -> Path:
    """Directory podman reads ``ca.crt`` from for ``registry_host`` (host[:port])."""
    if os.geteuid() == 0:
        return Path("/etc/containers/certs.d") / registry_host
    return Path.home() / ".config/containers/certs.d" / registry_host


# Written next to a CA that login/push installed, listing the directories that
# were created for it, so logout removes exactly what we added. podman reads
# only *.crt, *.cert and *.key files from certs.d, so this name is ignored.
CA_MARKER = "keynet-train.installed"


def install_registry_ca(registry_host: str, ca_pem: Path) -> Path:
    """Install ``ca_pem`` as the CA podman trusts for ``registry_host``.

    Writes ``certs.d/<host:port>/ca.crt`` (``/etc/containers`` as root,
    ``~/.config/containers`` otherwise). Podman reads certs.d on every push,
    so a running service picks it up. Unchanged content is not rewritten. A
    CA that was not there before is recorded (:data:`CA_MARKER`) so
    :func:`remove_registry_ca` can take it away again. Returns the installed path.

    Raises:
        RegistryError: the PEM cannot be read or the target cannot be written.
    """
    target = certs_dir(registry_host) / "ca.crt"
    try:
        content = Path(ca_pem).read_bytes()
        if b"-----BEGIN CERTIFICATE-----" not in content:
            raise RegistryError(f"{ca_pem} is not a PEM certificate (KEYNET_CA_BUNDLE)")
        if target.exists() and target.read_bytes() == content:
            return target
        ours = not target.exists() or (target.parent / CA_MARKER).exists()
        created = _make_dirs(target.parent)
        write_atomically(target, content, mode=0o644)
        if ours:
            marker = target.parent / CA_MARKER
            previous = marker.read_text().splitlines() if marker.exists() else []
            marker.write_text("".join(f"{d}\n" for d in [*previous, *map(str, created)]))
    except OSError as e:
        raise RegistryError(
            f"Cannot install the registry CA for {registry_host} at {target}: {e.strerror}",
            hint="Copy the CA there yourself (it may need sudo), or use --insecure-registry.",
        ) from e
    return target


def _make_dirs(directory: Path) -> list[Path]:
    """``mkdir -p directory``; returns the directories it created, deepest first."""
    missing = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    directory.mkdir(parents=True, exist_ok=True)
    return missing


def remove_registry_ca(registry_host: str) -> Path | None:
    """Remove the CA :func:`install_registry_ca` installed for ``registry_host``.

    Only a CA installed by keynet-train (it left :data:`CA_MARKER`) is
    removed, with the directories created for it once they are empty; a CA
    the user put there stays. Returns the removed path, or None. Never raises.
    """
    directory = certs_dir(registry_host)
    marker = directory / CA_MARKER
    try:
        created = [Path(line) for line in marker.read_text().splitlines() if line]
    except OSError:
        return None
    target = directory / "ca.crt"
    with contextlib.suppress(OSError):
        target.unlink()
    with contextlib.suppress(OSError):
        marker.unlink()
    # Deepest first; a directory that holds anything else is kept (rmdir fails).
    for path in sorted(set(created), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            path.rmdir()
    return target


# --------------------------------------------------------------------------- login


def login(
    registry_host: str,
    credentials: RegistryCredentials,
    *,
    tls_verify: bool = True,
    timeout: float = 60.0,
) -> None:
    """``podman login`` to ``registry_host`` (the password goes through stdin).

    Best effort convenience for the user's own podman use: pushes never rely
    on it, they pass credentials explicitly.

    Raises:
        PodmanUnavailableError: podman is not installed.
        RegistryAuthError: the registry rejected the credentials.
        RegistryError: any other failure (TLS, unreachable, timeout).
    """
    podman = shutil.which("podman")
    if podman is None:
        raise PodmanUnavailableError("podman is not installed", hint=INSTALL_HINT)
    command = [
        podman,
        "login",
        f"--tls-verify={'true' if tls_verify else 'false'}",
        "--username",
        credentials.username,
        "--password-stdin",
        registry_host,
    ]
    try:
        result = subprocess.run(
            command,
            input=credentials.password.reveal(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RegistryError(f"podman login to {registry_host} failed: {e}") from e
    if result.returncode != 0:
        error = classify_push_error(
            result.stderr,
            registry_host + "/",
            [credentials.password.reveal()],
            action=f"podman login to {registry_host}",
            robot=credentials.username,
        )
        if isinstance(error, TransientPushError):
            raise RegistryError(f"podman login to {registry_host} failed … {error}") from None
        raise error


def logout(registry_host: str) -> bool:
    """``podman logout`` from ``registry_host``; True if it succeeded. Never raises."""
    podman = shutil.which("podman")
    if podman is None:
        return False
    try:
        result = subprocess.run(
            [podman, "logout", registry_host], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0
