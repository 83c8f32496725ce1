"""The build context as an uncompressed tar, streamed chunk by chunk from disk.

:func:`context_tar_stream` sends the files :func:`~keynet_train.build.context.scan_context`
listed, in that order, so a large context is never held in memory or copied to a
temporary file; a file that changed since the scan stops the build. Common
entries get a hand-packed ustar header (see :func:`_tar_header`).
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from keynet_train.errors import BuildError
from keynet_train.files import UnreadableFile, open_regular_fd

if TYPE_CHECKING:
    from keynet_train.build.context import ContextSummary

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


# magic + version, uname, gname, devmajor, devminor (empty for files, dirs and
# symlinks), prefix, and the 12 padding bytes of a 512-byte ustar block.
_USTAR_TAIL = b"ustar\x0000" + b"\0" * (32 + 32 + 8 + 8 + 155 + 12)
_ZERO_ID = b"0000000\0"
_OCTAL_LIMIT = 8**11  # what an 11-digit octal field holds (size, mtime)
_SIMPLE_TYPES = (tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE)
_FIXED_SUM = 2 * sum(_ZERO_ID) + 8 * 0x20 + sum(_USTAR_TAIL)


def _ustar_header(info: tarfile.TarInfo) -> bytes | None:
    """A plain ustar block for ``info``, or None when it needs :mod:`tarfile`'s pax path."""
    if info.type not in _SIMPLE_TYPES or info.uid or info.gid or info.uname or info.gname:
        return None
    if info.pax_headers or not (0 <= info.size < _OCTAL_LIMIT and 0 <= info.mtime < _OCTAL_LIMIT):
        return None
    name = (
        info.name + "/"
        if info.type == tarfile.DIRTYPE and not info.name.endswith("/")
        else info.name
    )
    if not (name.isascii() and info.linkname.isascii()):
        return None
    raw_name, raw_link = name.encode("ascii"), info.linkname.encode("ascii")
    if len(raw_name) > 100 or len(raw_link) > 100:
        return None
    mode = b"%07o\0" % (info.mode & 0o7777)
    size = b"%011o\0" % info.size
    mtime = b"%011o\0" % int(info.mtime)
    # The checksum is the sum of the block's bytes with its own 8 bytes as
    # spaces; padding NULs add nothing, so only the written bytes are summed.
    checksum = (
        sum(raw_name) + sum(mode) + sum(size) + sum(mtime) + sum(raw_link) + info.type[0]
    ) + _FIXED_SUM
    return b"".join(
        (
            raw_name.ljust(100, b"\0"),
            mode,
            _ZERO_ID,
            _ZERO_ID,
            size,
            mtime,
            b"%06o\0 " % checksum,
            info.type,
            raw_link.ljust(100, b"\0"),
            _USTAR_TAIL,
        )
    )


def _tar_info(name: str, source: str | Path, st: os.stat_result) -> tarfile.TarInfo:
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
        info.linkname = os.readlink(source)
    else:
        info.type = tarfile.REGTYPE
        info.size = st.st_size
    return info


def _file_chunks(
    source: str | Path, name: str, scanned: os.stat_result, chunk_size: int
) -> Iterator[bytes]:
    """Exactly ``scanned.st_size`` bytes of ``source`` (the caller adds the tar padding).

    A file that changes while it is read would otherwise be sent padded with
    zeros or cut short under a header announcing its old size: a corrupt
    copy (a checkpoint still being written, say) in the image. Unbuffered
    reads: a small file costs one ``read`` (asking for one byte more than
    announced tells a file that grew).

    Raises:
        BuildError: ``source`` was deleted, replaced (by a FIFO, say), grew,
            shrank or was rewritten since ``scanned`` was taken (the message
            names ``name``).
        OSError: it cannot be read.
    """
    size = scanned.st_size
    remaining = size
    try:
        # Non-blocking and type-checked: a FIFO swapped in since the scan would block open().
        fd = open_regular_fd(source)
    except UnreadableFile as e:
        if e.missing:
            raise _changed_while_sent(name, "was deleted") from None
        raise _changed_while_sent(name, f"was replaced and now {e.reason}") from None
    with os.fdopen(fd, "rb", buffering=0) as handle:
        if _identity(os.fstat(fd)) != _identity(scanned):
            raise _changed_while_sent(name, "was replaced or modified")
        at_end = False
        while remaining > 0:
            asked = remaining + 1 if remaining < chunk_size else chunk_size
            data = handle.read(asked)
            if not data:
                raise _changed_while_sent(
                    name, f"shrank from {size} bytes to {size - remaining} bytes"
                )
            if len(data) > remaining:
                grown = os.fstat(fd).st_size
                raise _changed_while_sent(name, f"grew from {size} bytes to {grown} bytes")
            remaining -= len(data)
            at_end = len(data) < asked
            yield data
        if not at_end and handle.read(1):
            grown = os.fstat(fd).st_size
            raise _changed_while_sent(name, f"grew from {size} bytes to {grown} bytes")
        if _identity(os.fstat(fd)) != _identity(scanned):
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

    The build cache (:class:`keynet_train.build.cache.FileDigests`) is one: a
    file is then read once per push, for the tar and its digest together.
    """

    def wants(self, path: str, st: os.stat_result) -> bool:
        """Whether the digest of ``path`` (as ``st`` describes it) is still unknown."""
        ...

    def streamed(self, path: str, st: os.stat_result, digest: str) -> None:
        """The digest of ``path`` whose bytes were just sent, unchanged since ``st``."""
        ...


# Over 60 lines on purpose: a generator whose state is the batching buffer
# ``pending``; split, each piece would have to hand the buffer back and forth
# (or yield through it) once per file of the context.
def context_tar_stream(
    summary: ContextSummary, chunk_size: int = CHUNK_SIZE, digests: DigestSink | None = None
) -> Iterator[bytes]:
    """Yield the build context as an uncompressed tar, in ``summary`` order.

    Memory use is bounded by ``chunk_size`` whatever the context size; nothing
    is written to disk. Small headers are batched so the HTTP body is not
    split into thousands of tiny chunks. Each file ``digests`` wants is
    hashed from the same bytes as they are sent, and reported once the whole
    file went out unchanged.

    Raises:
        BuildError: a file vanished or became unreadable since the scan, or
            changed while it was being sent (grew, shrank, was rewritten).
    """
    pending = bytearray()
    # Plain strings, not Path objects: this loop runs once per file (20,000
    # times for a large context) and pathlib's joins cost more than the I/O.
    root = os.fspath(summary.context_dir).rstrip(os.sep) + os.sep
    dockerfile = os.fspath(summary.dockerfile)
    for entry in summary.entries:
        source = (
            dockerfile
            if entry.path == ".keynet-Dockerfile" and summary.dockerfile_name == entry.path
            else root + entry.path
        )
        try:
            st = os.lstat(source)
            if entry.kind == "file" and not stat.S_ISREG(st.st_mode):
                # Sent as what it is now, a FIFO would become an empty file in the image.
                raise _changed_while_sent(
                    entry.path, "was replaced by a FIFO, device or other non-regular file"
                )
            info = _tar_info(entry.path, source, st)
            pending += _tar_header(info)
            if info.type == tarfile.REGTYPE and info.size:
                hasher = hashlib.sha256() if digests and digests.wants(source, st) else None
                if len(pending) >= chunk_size or info.size >= chunk_size:
                    yield bytes(pending)
                    pending.clear()
                for data in _file_chunks(source, entry.path, st, chunk_size):
                    if hasher is not None:
                        hasher.update(data)
                    if len(data) >= chunk_size:
                        if pending:
                            yield bytes(pending)
                            pending.clear()
                        yield data
                    else:
                        pending += data
                if info.size % tarfile.BLOCKSIZE:
                    pending += b"\0" * (tarfile.BLOCKSIZE - info.size % tarfile.BLOCKSIZE)
                if hasher is not None and digests is not None:
                    # _file_chunks checked the file was unchanged until its last byte.
                    digests.streamed(source, st, hasher.hexdigest())
            elif info.type == tarfile.REGTYPE and digests and digests.wants(source, st):
                digests.streamed(source, st, hashlib.sha256().hexdigest())
        except FileNotFoundError:
            raise _changed_while_sent(entry.path, "was deleted") from None
        except OSError as e:
            raise BuildError(
                f"Cannot read {source} while sending the build context: {e.strerror}"
            ) from e
        if len(pending) >= chunk_size:
            yield bytes(pending)
            pending.clear()
    pending += b"\0" * (2 * tarfile.BLOCKSIZE)
    yield bytes(pending)
