"""What podman trusts and remembers about a registry: its CA, and removing a ``podman login``.

A CA from ``KEYNET_CA_BUNDLE`` goes into podman's ``certs.d`` (read on every
push, so a running service picks it up), marked so ``logout`` removes only
what keynet-train added. keynet-train never runs ``podman login``: it would
leave the robot password in podman's auth file, outliving the job's
``KEYNET_CONFIG``; a push passes the credentials explicitly. ``logout``
still runs ``podman logout`` to remove what older versions left there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

from keynet_train.backend.tls import MAX_CA_BUNDLE_BYTES
from keynet_train.errors import RegistryError
from keynet_train.files import UnreadableFile, read_regular_file, write_atomically


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
        content = read_regular_file(Path(ca_pem), MAX_CA_BUNDLE_BYTES)
    except UnreadableFile as e:
        raise RegistryError(
            f"Cannot use the registry CA {ca_pem} (KEYNET_CA_BUNDLE): it {e.reason}.",
            hint="Point KEYNET_CA_BUNDLE at a PEM file of CA certificates.",
        ) from None
    try:
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


# --------------------------------------------------------------------------- logout


def logout(registry_host: str) -> bool:
    """``podman logout`` from ``registry_host``; True if it succeeded. Never raises.

    keynet-train no longer logs podman in; this removes a login an older
    version made (with the robot password in podman's auth file).
    """
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
