"""Content fingerprints of a build's inputs: the reuse key and the file-digest memo.

The reuse key (:func:`reuse_key`) covers everything a build reads:

* the context (:func:`context_fingerprint`): every sent entry's path, type
  and permission bits, each regular file's size and content digest (SHA-256),
  each symlink's target, and the Dockerfile's content;
* the build args and the platform;
* the image id of every external image the Dockerfile reads (each stage's
  ``FROM``, ``COPY --from=``; see :mod:`keynet_train.build.dockerfile`), so a
  re-tagged or re-pulled base image means a new build.

Hashing every file on every push would cost as much as reading the context,
so a file's digest is memoised under its full stat: device, inode, size,
mode, mtime *and* ctime (nanoseconds). ``cp -p``, ``touch -r`` and
``os.utime`` can put an old mtime back, but no unprivileged call can set
ctime, and every write, chmod, rename-over or utime moves it. A digest is
only memoised for a file whose mtime and ctime are older than
:data:`RACY_SECONDS` when it is read: file systems stamp times from a coarse
clock, so a write in the same tick as our read would leave the stat
unchanged (git's "racily clean" problem). File modification times are not
part of the key: a ``touch`` alone reuses the image (its files keep the
older times).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from keynet_train.build.cache_files import read_json, write_json
from keynet_train.files import UnreadableFile, open_regular_fd

if TYPE_CHECKING:
    from keynet_train.build.context import ContextSummary

# Memoised file digests kept across contexts (about 150 bytes each on disk).
MAX_FILE_DIGESTS = 50_000
#: file-digests.json: MAX_FILE_DIGESTS entries of ~150 bytes; a larger file is ignored.
MAX_DIGESTS_BYTES = 16 * 1024 * 1024
# A file changed less than this long before we read it may change again within
# the same timestamp tick without its stat changing: its digest is not memoised.
RACY_SECONDS = 2.0
# Bump when the meaning of the key changes, so old entries stop matching.
KEY_VERSION = "3"
_READ_SIZE = 1024 * 1024


def _stat_key(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mode, st.st_mtime_ns, st.st_ctime_ns]


def _key(path: str | Path) -> str:
    """The memo key of a file: its absolute path (context paths already are)."""
    if isinstance(path, str) and path.startswith("/"):
        return path  # the common case, once per file of the context: no conversion
    text = os.fsdecode(path)
    return text if os.path.isabs(text) else os.path.abspath(text)


class FileDigests:
    """Content digests of files, memoised under their full stat (see the module doc).

    ``path`` None keeps the memo in memory only. Reading and saving never raise.
    """

    def __init__(self, path: Path | None, now: float | None = None) -> None:
        self.path = path
        self._now_ns = int((time.time() if now is None else now) * 1e9)
        self._memo: dict[str, list[object]] = {}
        self._used: set[str] = set()
        # Digests known in this run (read or streamed), under the stat they had,
        # and whether that stat was racy (see RACY_SECONDS).
        self._run: dict[str, tuple[list[int], str, bool]] = {}
        self.files_read = 0  # how many files were read to hash them (not memo, not stream)
        self.files_streamed = 0  # how many were hashed from the bytes sent to the build
        if path is not None:
            data = read_json(path, MAX_DIGESTS_BYTES)
            if isinstance(data, dict):
                self._memo = {k: v for k, v in data.items() if isinstance(v, list)}

    def digest(self, path: str | Path) -> str:
        """SHA-256 of the regular file at ``path``, read only if its stat changed.

        Raises:
            OSError: the file cannot be stat'ed or read.
        """
        key = _key(path)
        st = os.lstat(path)
        known = self._known(key, st, racy_ok=True)
        if known is not None:
            return known
        hasher = hashlib.sha256()
        try:
            # Non-blocking and type-checked: a FIFO swapped in since the lstat would block.
            fd = open_regular_fd(path)
        except UnreadableFile as e:
            raise OSError(f"{path} {e.reason}") from None
        try:
            # Unbuffered reads: a buffered file object costs ~5 µs more a file (0.1 s for
            # 20,000 small files on this machine, measured quiet).
            after_open = os.fstat(fd)
            while data := os.read(fd, _READ_SIZE):
                hasher.update(data)
            after_read = os.fstat(fd)
        finally:
            os.close(fd)
        digest = hasher.hexdigest()
        self.files_read += 1
        stable = _stat_key(st) == _stat_key(after_open) == _stat_key(after_read)
        self._remember(key, st, digest, stable)
        return digest

    def wants(self, path: str | Path, st: os.stat_result) -> bool:
        """Whether ``path``'s digest is unknown for this stat (the tar stream then hashes it).

        A digest read moments after the file was written is not trusted for
        the stream: a write in the same clock tick leaves the stat unchanged,
        and hashing the bytes being sent costs no extra read.
        """
        return self._known(_key(path), st, racy_ok=False) is None

    def streamed(self, path: str | Path, st: os.stat_result, digest: str) -> None:
        """Record the digest the tar stream computed while sending ``path`` unchanged."""
        self.files_streamed += 1
        self._remember(_key(path), st, digest, True)

    def unchanged_as(self, path: str | Path, st: os.stat_result) -> str | None:
        """The digest known in this run for ``path`` if ``st`` (just taken) is the stat it had."""
        return self._known(_key(path), st, racy_ok=True)

    def unchanged(self, path: Path) -> str | None:
        """The digest known in this run if ``path``'s stat has not changed since; else None.

        A re-stat, never a read: after a build, a file whose device, inode,
        size, mode, mtime and ctime are those it had when it was hashed is
        the file that was sent.
        """
        key = _key(path)
        try:
            st = os.lstat(path)
        except OSError:
            return None
        return self._known(key, st, racy_ok=True)

    def _known(self, key: str, st: os.stat_result, racy_ok: bool) -> str | None:
        stat_key = _stat_key(st)
        known = self._run.get(key)
        if known is not None and known[0] == stat_key and (racy_ok or not known[2]):
            return known[1]
        entry = self._memo.get(key)
        if entry is not None and entry[:-1] == stat_key and isinstance(entry[-1], str):
            self._used.add(key)
            self._run[key] = (stat_key, entry[-1], False)
            return entry[-1]
        return None

    def _remember(self, key: str, st: os.stat_result, digest: str, stable: bool) -> None:
        racy = max(st.st_mtime_ns, st.st_ctime_ns) >= self._now_ns - int(RACY_SECONDS * 1e9)
        if stable:
            self._run[key] = (_stat_key(st), digest, racy)
        if stable and not racy:
            self._memo[key] = [*_stat_key(st), digest]
            self._used.add(key)
        else:
            self._memo.pop(key, None)

    def save(self) -> None:
        """Write the memo; the entries used by this run are kept first. Never raises."""
        if self.path is None:
            return
        memo = self._memo
        if len(memo) > MAX_FILE_DIGESTS:
            kept = [k for k in memo if k in self._used]
            kept += [k for k in memo if k not in self._used]
            memo = {k: memo[k] for k in kept[:MAX_FILE_DIGESTS]}
        with contextlib.suppress(OSError):
            write_json(self.path, memo)


def context_fingerprint(
    summary: ContextSummary,
    build_args: Mapping[str, str],
    platform: str | None,
    digests: FileDigests | None = None,
    *,
    restat_only: bool = False,
) -> str | None:
    """A digest that changes whenever the content a build of ``summary`` sends changes.

    Covers the Dockerfile's content, every sent entry's path, type and
    permission bits, each file's size and SHA-256 (memoised in ``digests``),
    each symlink's target, the build args and the platform. Returns None if
    an entry cannot be read (the build then simply runs). With
    ``restat_only`` (after a build) no file is read: each file's digest must
    be one ``digests`` learnt in this run for the stat it still has, else
    None (the file changed since it was sent). Never raises.
    """
    digests = digests or FileDigests(None)
    hasher = hashlib.sha256(f"keynet-build-key {KEY_VERSION}\n".encode())
    hasher.update(json.dumps([sorted(build_args.items()), platform]).encode())
    from keynet_train.build.context import read_dockerfile
    from keynet_train.errors import BuildError

    try:
        dockerfile = read_dockerfile(summary.dockerfile)
    except BuildError:
        return None
    hasher.update(dockerfile.encode("utf-8", "surrogateescape"))
    try:
        for entry, source in summary.sources():
            st = os.lstat(source)
            content = ""
            if stat.S_ISLNK(st.st_mode):
                content = os.readlink(source)
            elif stat.S_ISREG(st.st_mode):
                read = digests.unchanged_as if restat_only else _reading(digests)
                digest = read(source, st)
                if digest is None:
                    return None
                content = f"{st.st_size}:{digest}"
            hasher.update(_entry_line(entry.path, entry.kind, st.st_mode, content))
    except OSError:
        return None
    return hasher.hexdigest()


def _reading(digests: FileDigests) -> Callable[[str, os.stat_result], str | None]:
    """``digests.digest`` with the signature of :meth:`FileDigests.unchanged_as`."""
    return lambda path, _st: digests.digest(path)


def _entry_line(path: str, kind: str, mode: int, content: object) -> bytes:
    """One entry's line of a fingerprint: unambiguous (the path is length-prefixed).

    Written by hand rather than with ``json.dumps``: this runs once per file
    of the context (20,000 times for a large one).
    """
    raw = path.encode("utf-8", "surrogateescape")
    tail = f"\0{kind}\0{stat.S_IFMT(mode)}\0{stat.S_IMODE(mode)}\0{content}\n"
    return b"%d:" % len(raw) + raw + tail.encode("utf-8", "surrogateescape")


def context_shape(
    summary: ContextSummary, build_args: Mapping[str, str], platform: str | None
) -> str | None:
    """What :func:`context_fingerprint` covers, but file sizes instead of contents.

    Costs no system call per file (the scan's mode and size are used).
    Builds whose shapes differ cannot have equal fingerprints, so when no
    recorded build has this shape the pipeline skips hashing before the build
    and hashes while the context is sent instead (one read per file). None
    if an entry cannot be stat'ed.
    Never raises.
    """
    hasher = hashlib.sha256(f"keynet-build-shape {KEY_VERSION}\n".encode())
    hasher.update(json.dumps([sorted(build_args.items()), platform]).encode())
    try:
        hasher.update(summary.dockerfile.read_bytes())
        for entry, source in summary.sources():
            # The scan's mode and size: no stat per file (links are read: rare).
            content: object = os.readlink(source) if entry.kind == "symlink" else entry.size
            hasher.update(_entry_line(entry.path, entry.kind, entry.mode, content))
    except OSError:
        return None
    return hasher.hexdigest()


def reuse_key(context: str, base_images: Sequence[tuple[str, str]]) -> str:
    """The build cache key: the context fingerprint plus each external image and its id."""
    return hashlib.sha256(json.dumps([context, list(base_images)]).encode()).hexdigest()
