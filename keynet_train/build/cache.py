"""Remember which image a build produced, to skip re-sending unchanged contexts.

The podman API needs the whole build context as a tar for every build, even
when every layer is cached: for a 100 MB context that upload is most of a
warm push. When the reuse key matches a previous build whose image still
exists, the pipeline reuses that image and only adds the per-push labels.
``--no-cache`` bypasses this as it bypasses the layer cache.

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

The files are small JSON maps in the user's cache directory. They are an
optimisation only: every failure to read or write them is ignored.

The same directory keeps the pushes that got an upload key but did not
finish (:class:`PendingPushes`): a later push of the same project, model
name, hyperparameters and build inputs reuses that key instead of
registering a second record on the platform (docs/push.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from keynet_train.files import (
    UnreadableFile,
    open_regular_fd,
    read_regular_file,
    write_atomically,
)
from keynet_train.locations import user_directory

if TYPE_CHECKING:
    from keynet_train.build.context import ContextSummary

MAX_ENTRIES = 100
#: builds.json holds MAX_ENTRIES small entries; a larger file is not ours and is ignored.
MAX_CACHE_BYTES = 1024 * 1024
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


def cache_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/keynet/builds.json``, else ``~/.cache/keynet/builds.json``."""
    return user_directory("cache", environ) / "builds.json"


def _write_json(path: Path, data: object) -> None:
    """Write ``data`` as JSON, atomically. Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(data).encode("utf-8"))


def _read_json(path: Path, limit: int) -> object:
    """The JSON in ``path``; None when it is missing, not a regular file, too large or corrupt.

    A cache is only an optimisation: whatever is there (a FIFO, a link to
    /dev/zero, garbage) is ignored and replaced at the next write.
    """
    try:
        return json.loads(read_regular_file(path, limit).decode("utf-8"))
    except (UnreadableFile, ValueError, RecursionError):
        return None


class _Writes:
    """Cache writes run in the background, one after another, off the push's critical path.

    Each write (an atomic replace with two fsyncs, 1-5 ms) overlaps whatever
    the push does next. Writes run in queue order, so a read-modify-write of
    one file never loses an earlier one; :meth:`settle` lets a read of a
    file see every write of it queued before. The threads are not daemons:
    interpreter exit waits for them, and a write is atomic, so no
    half-written file is left.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        # The last write queued for each file: waiting for it waits for all before it.
        self._last: dict[Path, threading.Thread] = {}

    def later(self, path: Path, write: Callable[[], None]) -> None:
        """Run ``write`` (of ``path``) in the background once every write queued before is done."""
        with self._lock:
            previous = self._threads[-1] if self._threads else None
            thread = threading.Thread(
                target=_after, args=(previous, write), name="keynet-cache-write"
            )
            self._threads.append(thread)
            self._last[path] = thread
            thread.start()

    def settle(self, path: Path) -> None:
        """Wait for the writes of ``path`` queued so far (never call from a write)."""
        with self._lock:
            last = self._last.get(path)
        if last is not None:
            last.join()

    def wait(self) -> None:
        """Wait for every write queued so far."""
        with self._lock:
            queued = list(self._threads)
        for thread in queued:
            thread.join()


def _after(previous: threading.Thread | None, write: Callable[[], None]) -> None:
    if previous is not None:
        previous.join()
    write()


class BuildCache:
    """Fingerprint → image id. Never raises.

    Not keyed by podman service: image ids are content digests, and the
    caller checks that the image exists in the service it talks to.
    Its writes, and those of the files next to it, run in the background
    (:class:`_Writes`); :meth:`wait` waits for them.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writes = _Writes()
        self._saving: list[threading.Thread] = []

    def save_digests_later(self, digests: FileDigests) -> None:
        """Write ``digests`` in a background thread, off the push's critical path.

        Writing a large memo costs up to ~0.2 s; it overlaps the label, tag
        and push steps. :meth:`wait` joins it (so does interpreter exit: the
        thread is not a daemon, a half-written memo is never left behind).
        No read of the small maps waits for it (it is not in their queue).
        """
        thread = threading.Thread(target=digests.save, name="keynet-digest-memo")
        thread.start()
        self._saving.append(thread)

    def wait(self) -> None:
        """Wait until every cache write started in the background is done."""
        self._writes.wait()
        while self._saving:
            self._saving.pop().join()

    def _read(self) -> dict[str, dict[str, object]]:
        self._writes.settle(self.path)
        return self._read_now()

    def _read_now(self) -> dict[str, dict[str, object]]:
        data = _read_json(self.path, MAX_CACHE_BYTES)
        return data if isinstance(data, dict) else {}

    def lookup(self, fingerprint: str) -> str | None:
        """The image id recorded for ``fingerprint``, if any."""
        entry = self._read().get(fingerprint)
        image = entry.get("image") if isinstance(entry, dict) else None
        return image if isinstance(image, str) else None

    def has_shape(self, shape: str) -> bool:
        """Whether a recorded build had this :func:`context_shape` (only those can match)."""
        return any(isinstance(e, dict) and e.get("shape") == shape for e in self._read().values())

    def store(self, fingerprint: str, image_id: str, shape: str | None = None) -> None:
        """Record a build (in the background); keeps the newest :data:`MAX_ENTRIES`."""
        entry = {"image": image_id, "time": time.time(), "shape": shape}

        def write() -> None:
            data = self._read_now()
            data[fingerprint] = entry
            _write_newest(self.path, data)

        self._writes.later(self.path, write)

    def file_digests(self) -> FileDigests:
        """The memo of file content digests kept next to this cache."""
        return FileDigests(self.path.with_name("file-digests.json"))

    def pending_pushes(self) -> PendingPushes:
        """The pushes that got an upload key but did not finish, kept next to this cache."""
        return PendingPushes(self.path.with_name("pending-pushes.json"), self._writes)

    def image_checks(self) -> ImageChecks:
        """The outcomes of passed image checks, kept next to this cache."""
        return ImageChecks(self.path.with_name("image-checks.json"), self._writes)


def _time_of(entry: object) -> float:
    value = entry.get("time") if isinstance(entry, dict) else None
    return float(value) if isinstance(value, (int, float)) else 0.0


def _write_newest(path: Path, data: dict[str, dict[str, object]]) -> None:
    """Write ``data``'s newest :data:`MAX_ENTRIES` entries; a failed write is ignored."""
    if len(data) > MAX_ENTRIES:
        newest = sorted(data.items(), key=lambda kv: _time_of(kv[1]), reverse=True)
        data = dict(newest[:MAX_ENTRIES])
    with contextlib.suppress(OSError):
        _write_json(path, data)


def _now_or_later(writes: _Writes | None, path: Path, write: Callable[[], None]) -> None:
    """``write`` (of ``path``) in the background when a :class:`_Writes` queue is given,
    else at once."""
    if writes is None:
        write()
    else:
        writes.later(path, write)


# --------------------------------------------------------------------------- image checks


class ImageChecks:
    """What passed image checks established, by a key of everything they read. Never raises.

    An image id is the digest of the image's config, which names its layers:
    the same id is the same files, so a check of the same script against the
    same image for the same platform needs no container again (~0.35 s of a
    warm push). Only passed checks are recorded.
    """

    def __init__(self, path: Path, writes: _Writes | None = None) -> None:
        self.path = path
        #: Where writes are queued (:meth:`BuildCache.image_checks`); None: written at once.
        self._writes = writes

    def get(self, key: str) -> dict[str, object] | None:
        """The facts recorded under ``key``, if any."""
        if self._writes is not None:
            self._writes.settle(self.path)
        data = _read_json(self.path, MAX_CACHE_BYTES)
        entry = data.get(key) if isinstance(data, dict) else None
        facts = entry.get("facts") if isinstance(entry, dict) else None
        return facts if isinstance(facts, dict) else None

    def put(self, key: str, facts: dict[str, object]) -> None:
        """Record ``facts`` under ``key``; keeps the newest :data:`MAX_ENTRIES`."""
        entry = {"facts": facts, "time": time.time()}

        def write() -> None:
            data = _read_json(self.path, MAX_CACHE_BYTES)
            entries = data if isinstance(data, dict) else {}
            entries[key] = entry
            _write_newest(self.path, entries)

        _now_or_later(self._writes, self.path, write)


# --------------------------------------------------------------------------- pending pushes


@dataclass(frozen=True)
class PendingPush:
    """An upload key issued to a push that has not finished yet."""

    upload_key: str
    #: The platform's id of the record the key belongs to.
    record_id: int
    #: The backend's training command for the key (None when it sent none).
    command: str | None
    server_url: str
    project_id: int
    model_name: str
    hyperparameters_hash: str
    build_fingerprint: str
    tags: tuple[str, ...]
    time: float

    @property
    def match(self) -> str:
        """What a later push must share to reuse the key (see :func:`pending_push_match`)."""
        return pending_push_match(
            self.server_url,
            self.project_id,
            self.model_name,
            self.hyperparameters_hash,
            self.build_fingerprint,
        )


def pending_push_match(
    server_url: str,
    project_id: int,
    model_name: str,
    hyperparameters_hash: str,
    build_fingerprint: str,
) -> str:
    """The identity of a push for resuming: the same backend, project, model name,
    hyperparameters and build inputs. Tags are not part of it (they name the same image)."""
    payload = [server_url, project_id, model_name, hyperparameters_hash, build_fingerprint]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def hyperparameters_hash(hyperparameters: Sequence[Mapping[str, object]]) -> str:
    """SHA-256 of the hyperparameters as registered (key order does not matter)."""
    return hashlib.sha256(json.dumps(list(hyperparameters), sort_keys=True).encode()).hexdigest()


class PendingPushes:
    """Upload keys of unfinished pushes, by :attr:`PendingPush.match`. Never raises.

    Losing this file only means a resumed push registers a new key, as it did
    before resuming existed.
    """

    def __init__(self, path: Path, writes: _Writes | None = None) -> None:
        self.path = path
        #: Where writes are queued (:meth:`BuildCache.pending_pushes`); None: written at once.
        self._writes = writes

    def _read(self) -> dict[str, dict[str, object]]:
        if self._writes is not None:
            self._writes.settle(self.path)
        return self._read_now()

    def _read_now(self) -> dict[str, dict[str, object]]:
        data = _read_json(self.path, MAX_CACHE_BYTES)
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, dict)}

    def find(self, match: str) -> PendingPush | None:
        """The unfinished push with this identity, if one is recorded (and readable)."""
        entry = self._read().get(match)
        if entry is None:
            return None
        try:
            project_id, record_id = entry["project_id"], entry["record_id"]
            tags = entry.get("tags") or []
            when = entry.get("time") or 0
            command = entry.get("command")
            if not (isinstance(project_id, int) and isinstance(record_id, int)):
                return None
            if not isinstance(tags, list):
                return None
            pending = PendingPush(
                upload_key=str(entry["upload_key"]),
                record_id=record_id,
                command=None if command is None else str(command),
                server_url=str(entry["server_url"]),
                project_id=project_id,
                model_name=str(entry["model_name"]),
                hyperparameters_hash=str(entry["hyperparameters_hash"]),
                build_fingerprint=str(entry["build_fingerprint"]),
                tags=tuple(str(t) for t in tags),
                time=float(when) if isinstance(when, (int, float)) else 0.0,
            )
        except KeyError:
            return None
        # An entry edited by hand (or by another version) under the wrong identity is ignored.
        return pending if pending.match == match else None

    def record(self, pending: PendingPush) -> None:
        """Remember ``pending``, replacing an earlier push with the same identity."""
        entry = {**asdict(pending), "tags": list(pending.tags)}

        def write() -> None:
            data = self._read_now()
            data[pending.match] = entry
            _write_newest(self.path, data)

        _now_or_later(self._writes, self.path, write)

    def clear(self, match: str) -> None:
        """Forget the push with this identity (it finished)."""

        def write() -> None:
            data = self._read_now()
            if data.pop(match, None) is not None:
                with contextlib.suppress(OSError):
                    _write_json(self.path, data)

        _now_or_later(self._writes, self.path, write)


# --------------------------------------------------------------------------- file digests


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
            data = _read_json(path, MAX_DIGESTS_BYTES)
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
        with os.fdopen(fd, "rb") as handle:
            after_open = os.fstat(handle.fileno())
            while data := handle.read(_READ_SIZE):
                hasher.update(data)
            after_read = os.fstat(handle.fileno())
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
            _write_json(self.path, memo)


# --------------------------------------------------------------------------- keys


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
