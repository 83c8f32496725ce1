"""Reading a file that must be a regular file of bounded size, and writing one atomically.

Reading (docs/security.md): every place that reads a file named by the user, the project or the
environment (the config file, the build caches, ``.pth`` files, sources,
ignore files, ``pyvenv.cfg``) goes through :func:`read_regular_file`, so a
FIFO, a device such as ``/dev/zero`` or a kernel file such as ``/proc/kmsg``
gives a clear error instead of a hang or unbounded memory.

Writing: :func:`write_atomically` is the one way keynet-train replaces a
file it owns (the config file, the build caches, an installed registry CA):
readers see the old content or the new, never a part of it.

A base module: imports only the standard library; it raises its own
:class:`UnreadableFile`, which each caller turns into its own error type
(a config error, an entrypoint error) or a skip.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from pathlib import Path

__all__ = ["UnreadableFile", "open_regular_fd", "read_regular_file", "write_atomically"]

# Kernel pseudo-file systems: their "regular" files have no size and their
# reads may block (/proc/kmsg) or consume state; nothing keynet-train reads
# legitimately lives there.
_PSEUDO_ROOTS = ("/proc/", "/sys/", "/dev/")


class UnreadableFile(Exception):
    """A file that is missing, not a regular file, too large or unreadable.

    ``reason`` completes a sentence about the file ("is a FIFO, not a regular
    file"); ``missing`` is True when it does not exist, so callers can treat
    absence as "no file" rather than as an error.
    """

    def __init__(self, path: str | Path, reason: str, *, missing: bool = False) -> None:
        super().__init__(f"{path} {reason}")
        self.path = path
        self.reason = reason
        self.missing = missing


def _check_mode(path: str | Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    kind = next((name for test, name in kinds if test(mode)), "a special file")
    raise UnreadableFile(path, f"is {kind}, not a regular file")


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` (symlinks followed): a regular file of at most ``limit`` bytes.

    Never blocks on a FIFO or device: the type is checked before opening and
    again on the open descriptor (it may have been swapped in between), and
    the open itself is non-blocking. Reads at most ``limit + 1`` bytes, so a
    file that grows while it is read is still caught.

    Raises:
        UnreadableFile: the file is missing (``missing=True``), is a
            directory, FIFO, device, socket or kernel pseudo-file, is larger
            than ``limit`` bytes, or cannot be opened or read.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UnreadableFile(path, "does not exist", missing=True) from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        raise UnreadableFile(path, f"cannot be read ({_reason(exc)})") from None
    _check_mode(path, st.st_mode)
    if sys.platform.startswith("linux"):
        real = os.path.realpath(path)
        if real.startswith(_PSEUDO_ROOTS):
            raise UnreadableFile(path, f"is a kernel pseudo-file ({real}), not a regular file")
    if st.st_size > limit:
        raise UnreadableFile(path, f"is too large ({st.st_size} bytes, limit {limit})")
    fd = open_regular_fd(path)
    try:
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UnreadableFile(path, f"cannot be read ({_reason(exc)})") from None
    finally:
        os.close(fd)
    if size > limit:
        raise UnreadableFile(path, f"is too large (over {limit} bytes)")
    return b"".join(chunks)


def open_regular_fd(path: str | Path) -> int:
    """A read-only descriptor of ``path``, which must be a regular file; never blocks.

    The open is non-blocking (a FIFO swapped in after the caller's ``stat``
    would otherwise block the open until a writer comes), and the type is
    checked on the descriptor itself. The caller closes it.

    Raises:
        UnreadableFile: missing (``missing=True``), not a regular file, or
            cannot be opened.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise UnreadableFile(path, "does not exist", missing=True) from None
    except (OSError, ValueError) as exc:
        raise UnreadableFile(path, f"cannot be read ({_reason(exc)})") from None
    try:
        _check_mode(path, os.fstat(fd).st_mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower() if exc.strerror[:1].isupper() else exc.strerror
    if isinstance(exc, ValueError):
        return "the path contains a NUL byte"
    return str(exc)


def write_atomically(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data``, so a reader sees the old file or the new one, never a part.

    The data goes to a temp file created exclusively with ``mode`` in the same
    directory (the mode is set again on the open file, whatever the umask),
    is fsync'ed and renamed over ``path``; then the directory is fsync'ed so
    the rename survives a crash. On any failure the temp file is removed and
    ``path`` is left as it was. The directory must exist.

    Raises:
        OSError: the temp file cannot be created, written or renamed, or the
            directory cannot be synced (a file system that cannot sync
            directories at all is not an error).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0), mode)
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable. Some file systems refuse fsync on a
    # directory (EINVAL); the data is still safely in place, so carry on.
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)
