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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keynet_train.build.context import ContextSummary

MAX_ENTRIES = 100
# Memoised file digests kept across contexts (about 150 bytes each on disk).
MAX_FILE_DIGESTS = 50_000
# A file changed less than this long before we read it may change again within
# the same timestamp tick without its stat changing: its digest is not memoised.
RACY_SECONDS = 2.0
# Bump when the meaning of the key changes, so old entries stop matching.
KEY_VERSION = "2"
_READ_SIZE = 1024 * 1024


def cache_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/keynet/builds.json``, else ``~/.cache/keynet/builds.json``."""
    base = environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".cache")
    return Path(base) / "keynet" / "builds.json"


def _write_json(path: Path, data: object) -> None:
    """Write ``data`` atomically (temp file + rename). Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class BuildCache:
    """Fingerprint → image id. Never raises.

    Not keyed by podman service: image ids are content digests, and the
    caller checks that the image exists in the service it talks to.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def lookup(self, fingerprint: str) -> str | None:
        """The image id recorded for ``fingerprint``, if any."""
        entry = self._read().get(fingerprint)
        image = entry.get("image") if isinstance(entry, dict) else None
        return image if isinstance(image, str) else None

    def store(self, fingerprint: str, image_id: str) -> None:
        """Record a build; keeps the newest :data:`MAX_ENTRIES`. Written atomically."""
        data = self._read()
        data[fingerprint] = {"image": image_id, "time": time.time()}
        if len(data) > MAX_ENTRIES:
            newest = sorted(data.items(), key=lambda kv: _time_of(kv[1]), reverse=True)
            data = dict(newest[:MAX_ENTRIES])
        with contextlib.suppress(OSError):
            _write_json(self.path, data)

    def file_digests(self) -> FileDigests:
        """The memo of file content digests kept next to this cache."""
        return FileDigests(self.path.with_name("file-digests.json"))


def _time_of(entry: object) -> float:
    value = entry.get("time") if isinstance(entry, dict) else None
    return float(value) if isinstance(value, (int, float)) else 0.0


# --------------------------------------------------------------------------- file digests


def _stat_key(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mode, st.st_mtime_ns, st.st_ctime_ns]


class FileDigests:
    """Content digests of files, memoised under their full stat (see the module doc).

    ``path`` None keeps the memo in memory only. Reading and saving never raise.
    """

    def __init__(self, path: Path | None, now: float | None = None) -> None:
        self.path = path
        self._now_ns = int((time.time() if now is None else now) * 1e9)
        self._memo: dict[str, list[object]] = {}
        self._used: set[str] = set()
        self.files_read = 0  # how many files were hashed (not served from the memo)
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {}
            if isinstance(data, dict):
                self._memo = {k: v for k, v in data.items() if isinstance(v, list)}

    def digest(self, path: Path) -> str:
        """SHA-256 of the regular file at ``path``, read only if its stat changed.

        Raises:
            OSError: the file cannot be stat'ed or read.
        """
        key = os.fsdecode(os.path.abspath(path))
        st = os.lstat(path)
        entry = self._memo.get(key)
        if entry is not None and entry[:-1] == _stat_key(st) and isinstance(entry[-1], str):
            self._used.add(key)
            return entry[-1]
        hasher = hashlib.sha256()
        with open(path, "rb") as handle:
            after_open = os.fstat(handle.fileno())
            while data := handle.read(_READ_SIZE):
                hasher.update(data)
            after_read = os.fstat(handle.fileno())
        digest = hasher.hexdigest()
        self.files_read += 1
        racy = self._now_ns - int(RACY_SECONDS * 1e9)
        stable = _stat_key(st) == _stat_key(after_open) == _stat_key(after_read)
        if stable and max(st.st_mtime_ns, st.st_ctime_ns) < racy:
            self._memo[key] = [*_stat_key(st), digest]
            self._used.add(key)
        else:
            self._memo.pop(key, None)
        return digest

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
) -> str | None:
    """A digest that changes whenever the content a build of ``summary`` sends changes.

    Covers the Dockerfile's content, every sent entry's path, type and
    permission bits, each file's size and SHA-256 (memoised in ``digests``),
    each symlink's target, the build args and the platform. Returns None if
    an entry cannot be read (the build then simply runs). Never raises.
    """
    digests = digests or FileDigests(None)
    hasher = hashlib.sha256(f"keynet-build-key {KEY_VERSION}\n".encode())
    hasher.update(json.dumps([sorted(build_args.items()), platform]).encode())
    try:
        hasher.update(summary.dockerfile.read_bytes())
        for entry in summary.entries:
            source = (
                summary.dockerfile
                if entry.path == ".keynet-Dockerfile" and summary.dockerfile_name == entry.path
                else summary.context_dir / entry.path
            )
            st = os.lstat(source)
            content = ""
            if stat.S_ISLNK(st.st_mode):
                content = os.readlink(source)
            elif stat.S_ISREG(st.st_mode):
                content = f"{st.st_size}:{digests.digest(source)}"
            hasher.update(
                json.dumps(
                    [
                        entry.path,
                        entry.kind,
                        stat.S_IFMT(st.st_mode),
                        stat.S_IMODE(st.st_mode),
                        content,
                    ],
                    ensure_ascii=False,
                ).encode("utf-8", "surrogateescape")
                + b"\n"
            )
    except OSError:
        return None
    return hasher.hexdigest()


def reuse_key(context: str, base_images: Sequence[tuple[str, str]]) -> str:
    """The build cache key: the context fingerprint plus each external image and its id."""
    return hashlib.sha256(json.dumps([context, list(base_images)]).encode()).hexdigest()
