"""An offline Python base image made from the interpreter running the tests.

There is no registry to pull ``python:3.x`` from here (docs/testing.md), yet
``keynet-train run`` must be tested with a real Python inside the container.
The interpreter running pytest is copied instead: its binary, the shared
libraries ``ldd`` lists for it and for its extension modules, and its
standard library (without ``site-packages``, tests and GUI toolkits) go into
a rootfs tar at their own absolute paths (so the interpreter finds its prefix
exactly as on the host), and ``podman import`` turns the tar into an image
with ``python``/``python3`` on ``PATH``. About 50 MB and 3 s.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from tests.support.services import podman_import

#: Standard-library folders a training script never needs (big, or GUI-only).
_SKIPPED = {
    "site-packages",
    "dist-packages",
    "test",
    "tests",
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "lib2to3",
    "pydoc_data",
    "config-3.10-x86_64-linux-gnu",
    "config-3.11-x86_64-linux-gnu",
    "config-3.12-x86_64-linux-gnu",
}
_LDD_PATH = re.compile(r"(/\S+)")
BIN_DIR = "/usr/local/bin"


def host_interpreter() -> Path:
    """The real binary of the interpreter running this process (through any venv)."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return Path(os.path.realpath(base))


def _shared_libraries(binaries: Iterable[Path]) -> set[Path]:
    """Every library ``ldd`` lists for ``binaries`` (and the dynamic loader), resolved."""
    found: set[Path] = set()
    for binary in binaries:
        done = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False)
        for line in done.stdout.splitlines():
            if "=>" in line:
                line = line.split("=>", 1)[1]
            match = _LDD_PATH.search(line)
            if match:
                found.add(Path(match.group(1)))
    return found


def _stdlib_files(stdlib: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(stdlib):
        dirs[:] = [d for d in dirs if d not in _SKIPPED]
        for name in files:
            yield Path(root, name)


def write_python_rootfs(archive: Path) -> str:
    """Write the rootfs tar of the host interpreter to ``archive``; return its ``X.Y`` version."""
    binary = host_interpreter()
    stdlib = Path(sysconfig.get_path("stdlib"))
    dynload = Path(str(sysconfig.get_config_var("DESTSHARED") or stdlib / "lib-dynload"))
    extensions = sorted(dynload.glob("*.so")) if dynload.is_dir() else []
    libraries = _shared_libraries([binary, *extensions])
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    with tarfile.open(archive, "w") as tar:
        for directory in ("tmp", "app", "usr/local/bin"):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if directory == "tmp" else 0o755
            tar.addfile(info)
        tar.add(binary, arcname=str(binary).lstrip("/"))
        for library in sorted(libraries):
            # Add the file itself under every name ldd gave (symlinks resolved).
            tar.add(os.path.realpath(library), arcname=str(library).lstrip("/"))
        for path in _stdlib_files(stdlib):
            tar.add(path, arcname=str(path).lstrip("/"), recursive=False)
        if dynload.is_dir() and not str(dynload).startswith(str(stdlib) + "/"):
            for path in _stdlib_files(dynload):
                tar.add(path, arcname=str(path).lstrip("/"), recursive=False)
        for name in ("python", "python3", f"python{version}"):
            link = tarfile.TarInfo(f"{BIN_DIR.lstrip('/')}/{name}")
            link.type = tarfile.SYMTYPE
            link.linkname = str(binary)
            if str(binary) != f"{BIN_DIR}/{name}":
                tar.addfile(link)
    return version


def ensure_python_image(podman_url: str, reference: str, env: dict[str, str]) -> str:
    """Import the host interpreter as ``reference`` unless it exists; return the reference.

    Raises:
        ServiceError: ``podman import`` failed.
    """
    exists = subprocess.run(
        ["podman", "--url", podman_url, "image", "exists", reference], env=env, check=False
    )
    if exists.returncode == 0:
        return reference
    with tempfile.TemporaryDirectory(prefix="keynet-python-rootfs-") as tmp:
        archive = Path(tmp, "rootfs.tar")
        write_python_rootfs(archive)
        changes = [f"ENV PATH={BIN_DIR}:/usr/bin:/bin", "WORKDIR /app"]
        podman_import(podman_url, archive, reference, changes, env)
    return reference
