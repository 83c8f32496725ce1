"""The build context as an uncompressed tar, streamed chunk by chunk from disk.

:func:`context_tar_stream` sends the files :func:`~keynet_train.build.context.scan_context`
listed, in that order, so a large context is never held in memory or copied to a
temporary file; a file that changed since the scan stops the build. Common
entries get a hand-packed ustar header (see :func:`_tar_header`).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tarfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from keynet_train.build.context import PRIVATE_DOCKERFILE
from keynet_train.errors import BuildError

if TYPE_CHECKING:
    from keynet_train.build.context import ContextEntry, ContextSummary

CHUNK_SIZE = 1024 * 1024


def _tar_header(info: tarfile.TarInfo) -> bytes:
    """The entry's header, byte for byte what ``info.tobuf(PAX_FORMAT)`` returns.

    The common entry (an ASCII name and link target of at most 100 bytes,
    size and mtime in octal range, uid/gid 0, no user names) is a single
    ustar block, packed here directly: ``TarInfo.tobuf`` costs ~30 µs an
    entry, which set the upload speed of contexts of many small files. Any
    other entry goes through :mod:`tarfile` (pax extended headers).
    """
    fast = _ustar_header(info)
    return fast if fast is not None else info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _entry_header(name: str, st: os.stat_result, linkname: str = "") -> bytes:
    """:func:`_tar_header` of the entry ``st`` describes, without a TarInfo in the common case."""
    if stat.S_ISREG(st.st_mode):
        kind, size = tarfile.REGTYPE, st.st_size
    else:
        kind, size = (tarfile.DIRTYPE if stat.S_ISDIR(st.st_mode) else tarfile.SYMTYPE), 0
    fast = _ustar_block(name, kind, st.st_mode, size, int(st.st_mtime), linkname)
    if fast is not None:
        return fast
    return _tar_info(name, st, linkname).tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


# magic + version, uname, gname, devmajor, devminor (empty for files, dirs and
# symlinks), prefix, and the 12 padding bytes of a 512-byte ustar block.
_USTAR_TAIL = b"ustar\x0000" + b"\0" * (32 + 32 + 8 + 8 + 155 + 12)
_OCTAL_LIMIT = 8**11  # what an 11-digit octal field holds (size, mtime)
_SIMPLE_TYPES = (tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE)
_FIXED_SUM = 8 * 0x20 + sum(_USTAR_TAIL)  # the checksum's spaces and the fixed tail


def _ustar_header(info: tarfile.TarInfo) -> bytes | None:
    """A plain ustar block for ``info``, or None when it needs :mod:`tarfile`'s pax path."""
    if info.type not in _SIMPLE_TYPES or info.uid or info.gid or info.uname or info.gname:
        return None
    if info.pax_headers or isinstance(info.mtime, float):  # tarfile: a float mtime needs pax
        return None
    return _ustar_block(info.name, info.type, info.mode, info.size, info.mtime, info.linkname)


def _ustar_block(
    name: str, kind: bytes, mode: int, size: int, mtime: int, linkname: str
) -> bytes | None:
    """The ustar block of a root-owned entry; None when a field needs a pax header."""
    if not (0 <= size < _OCTAL_LIMIT and 0 <= mtime < _OCTAL_LIMIT):
        return None
    if kind == tarfile.DIRTYPE and not name.endswith("/"):
        name += "/"
    if not (name.isascii() and linkname.isascii()):
        return None
    raw_name, raw_link = name.encode("ascii"), linkname.encode("ascii")
    if len(raw_name) > 100 or len(raw_link) > 100:
        return None
    # mode, uid 0, gid 0, size and mtime: the 44 bytes after the name, in one go.
    fields = b"%07o\x000000000\x000000000\x00%011o\x00%011o\x00" % (mode & 0o7777, size, mtime)
    # The checksum is the sum of the block's bytes with its own 8 bytes as
    # spaces; padding NULs add nothing, so only the written bytes are summed.
    checksum = sum(raw_name) + sum(fields) + sum(raw_link) + kind[0] + _FIXED_SUM
    return b"".join(
        (
            raw_name.ljust(100, b"\0"),
            fields,
            b"%06o\0 " % checksum,
            kind,
            raw_link.ljust(100, b"\0"),
            _USTAR_TAIL,
        )
    )


def _tar_info(name: str, st: os.stat_result, linkname: str = "") -> tarfile.TarInfo:
    """The entry ``st`` describes (a directory, symlink to ``linkname``, or regular file)."""
    info = tarfile.TarInfo(name)
    info.mode = stat.S_IMODE(st.st_mode)
    info.mtime = int(st.st_mtime)
    # Owned by root in the image, as the docker CLI sends contexts.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if stat.S_ISDIR(st.st_mode):
        info.type = tarfile.DIRTYPE
    elif stat.S_ISLNK(st.st_mode):
        info.type = tarfile.SYMTYPE
        info.linkname = linkname
    else:
        info.type = tarfile.REGTYPE
        info.size = st.st_size
    return info


# Non-blocking: a FIFO swapped in since the scan would block open(). Not
# following a last-component symlink: one swapped in for a file is not read
# (its target may be outside the context).
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_member(source: str, name: str, follow: bool) -> int:
    """A descriptor of ``source`` to send as ``name``; ``follow``: a symlink is followed.

    Raises:
        BuildError: it was deleted, or replaced by a symlink, since the scan.
        OSError: it cannot be opened.
    """
    try:
        return os.open(source, _OPEN_FLAGS if follow else _OPEN_FLAGS | _NOFOLLOW)
    except FileNotFoundError:
        raise _changed_while_sent(name, "was deleted") from None
    except OSError as e:
        if e.errno == errno.ELOOP and not follow:
            raise _changed_while_sent(name, "was replaced by a symbolic link") from None
        raise


def _file_member(
    source: str, name: str, chunk_size: int, digests: DigestSink | None, follow: bool = False
) -> Iterator[bytes]:
    """The tar member of a regular file: its header, exactly its bytes, then the padding.

    Header, bytes and digest all describe the one file opened: the stat is
    taken on the descriptor. A file that changes while it is read would
    otherwise be sent padded with zeros or cut short under a header
    announcing its old size: a corrupt copy (a checkpoint still being
    written, say) in the image. A file smaller than ``chunk_size`` is read
    with one unbuffered ``read`` (asking for one byte more than announced
    tells a file that grew) and yielded as one piece with its header.
    ``digests`` gets the SHA-256 of the bytes sent, if it wants it, once the
    whole file went out unchanged.

    Raises:
        BuildError: ``source`` was deleted or replaced by something other than
            a regular file since the scan, or grew, shrank or was rewritten
            while it was read (the message names ``name``).
        OSError: it cannot be read.
    """
    fd = _open_member(source, name, follow)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _changed_while_sent(
                name, "was replaced by a FIFO, device or other non-regular file"
            )
        hasher = hashlib.sha256() if digests is not None and digests.wants(source, st) else None
        if st.st_size < chunk_size:
            data = _read_small(fd, st.st_size, name)
            if hasher is not None:
                hasher.update(data)
            _check_unchanged(fd, st, name)
            padding = b"\0" * (-st.st_size % tarfile.BLOCKSIZE)
            yield b"".join((_entry_header(name, st), data, padding))
        else:
            yield _entry_header(name, st)
            yield from _read_large(fd, st, name, chunk_size, hasher)
    finally:
        os.close(fd)
    if hasher is not None and digests is not None:
        digests.streamed(source, st, hasher.hexdigest())


def _read_small(fd: int, size: int, name: str) -> bytes:
    """All ``size`` bytes of the file open as ``fd``, normally in one ``read``.

    Raises:
        BuildError: the file is shorter or longer than ``size``.
    """
    data = os.read(fd, size + 1)
    while len(data) < size:  # a short read (some network file systems)
        more = os.read(fd, size + 1 - len(data))
        if not more:
            raise _size_changed(name, size, len(data), fd)
        data += more
    if len(data) > size:
        raise _size_changed(name, size, len(data), fd)
    return data


def _read_large(
    fd: int, st: os.stat_result, name: str, chunk_size: int, hasher: hashlib._Hash | None
) -> Iterator[bytes]:
    """The ``st.st_size`` bytes of ``fd`` in ``chunk_size`` reads, then the tar padding.

    Raises:
        BuildError: the file shrank, grew or was rewritten while it was read.
    """
    size = remaining = st.st_size
    while remaining > 0:
        data = os.read(fd, min(remaining, chunk_size))
        if not data:
            raise _size_changed(name, size, size - remaining, fd)
        remaining -= len(data)
        if hasher is not None:
            hasher.update(data)
        yield data
    if os.read(fd, 1):
        raise _size_changed(name, size, size + 1, fd)
    _check_unchanged(fd, st, name)
    yield b"\0" * (-size % tarfile.BLOCKSIZE)


def _size_changed(name: str, size: int, read: int, fd: int) -> BuildError:
    """The error for a file found to be another size than announced (``read`` bytes so far)."""
    if read < size:
        return _changed_while_sent(name, f"shrank from {size} bytes to {read} bytes")
    return _changed_while_sent(name, f"grew from {size} bytes to {os.fstat(fd).st_size} bytes")


def _check_unchanged(fd: int, st: os.stat_result, name: str) -> None:
    """Raise BuildError if the file open as ``fd`` was written since ``st`` was taken."""
    if _identity(os.fstat(fd)) != _identity(st):
        raise _changed_while_sent(name, "was rewritten")


def _identity(st: os.stat_result) -> tuple[int, ...]:
    """What changes when a file is replaced, resized or written (ctime moves on every write)."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _changed_while_sent(name: str, how: str) -> BuildError:
    return BuildError(
        f"{name} changed while the build context was being sent (it {how}); "
        "the build was stopped so the image does not get a corrupt copy of it",
        hint="Wait until whatever writes it (a running training job saving checkpoints?) "
        "has finished, or exclude it in .dockerignore, then push again.",
    )


class DigestSink(Protocol):
    """Receives the SHA-256 of each regular file as its bytes go into the tar.

    The build cache (:class:`keynet_train.build.fingerprint.FileDigests`) is one: a
    file is then read once per push, for the tar and its digest together.
    """

    def wants(self, path: str, st: os.stat_result) -> bool:
        """Whether the digest of ``path`` (as ``st`` describes it) is still unknown."""
        ...

    def streamed(self, path: str, st: os.stat_result, digest: str) -> None:
        """The digest of ``path`` whose bytes were just sent, unchanged since ``st``."""
        ...


def context_tar_stream(
    summary: ContextSummary, chunk_size: int = CHUNK_SIZE, digests: DigestSink | None = None
) -> Iterator[bytes]:
    """Yield the build context as an uncompressed tar, in ``summary`` order.

    Memory use is bounded by ``chunk_size`` whatever the context size; nothing
    is written to disk. Small members are batched into chunks of about
    ``chunk_size`` so the HTTP body is not split into thousands of tiny
    pieces. Each file ``digests`` wants is hashed from the same bytes as they
    are sent, and reported once the whole file went out unchanged.

    Raises:
        BuildError: a file vanished or became unreadable since the scan, or
            changed while it was being sent (grew, shrank, was rewritten).
    """
    pending = bytearray()
    outside = summary.dockerfile_name == PRIVATE_DOCKERFILE
    for entry, source in summary.sources():
        # The Dockerfile from outside the context is read through a symlink
        # if it is one, as ``podman build -f`` reads it.
        private = outside and entry.path == PRIVATE_DOCKERFILE
        try:
            for piece in _member(source, entry, chunk_size, digests, private):
                if len(piece) >= chunk_size:
                    if pending:
                        yield bytes(pending)
                        pending.clear()
                    yield piece
                    continue
                pending += piece
                if len(pending) >= chunk_size:
                    yield bytes(pending)
                    pending.clear()
        except FileNotFoundError:
            raise _changed_while_sent(entry.path, "was deleted") from None
        except OSError as e:
            raise BuildError(
                f"Cannot read {source} while sending the build context: {e.strerror}"
            ) from e
    pending += b"\0" * (2 * tarfile.BLOCKSIZE)
    yield bytes(pending)


def _member(
    source: str, entry: ContextEntry, chunk_size: int, digests: DigestSink | None, follow: bool
) -> Iterator[bytes]:
    """The pieces of ``entry``'s tar member, as ``source`` is now.

    Raises:
        BuildError: a regular file changed since the scan or while sent.
        OSError: ``source`` cannot be read.
    """
    if entry.kind == "file":
        return _file_member(source, entry.path, chunk_size, digests, follow)
    st = os.lstat(source)
    if stat.S_ISDIR(st.st_mode):
        return iter((_entry_header(entry.path, st),))
    if stat.S_ISLNK(st.st_mode):
        return iter((_entry_header(entry.path, st, os.readlink(source)),))
    # Listed as a directory or symlink, now something else: sent as a file if it is one.
    return _file_member(source, entry.path, chunk_size, digests)
