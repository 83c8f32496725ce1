"""The small JSON files in the user's cache directory: bounded reads, atomic writes, a queue.

The build map, the image-check memo, the pending pushes and the file-digest
memo (:mod:`keynet_train.build.cache`, :mod:`~keynet_train.build.pending_pushes`,
:mod:`~keynet_train.build.fingerprint`) are optimisations only: every failure
to read or write them is ignored. Writes of the small maps are queued
(:class:`WriteQueue`) to run off the push's critical path.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from pathlib import Path

from keynet_train.files import UnreadableFile, read_regular_file, write_atomically

#: How many entries a small map keeps (the newest).
MAX_ENTRIES = 100
#: A small map holds MAX_ENTRIES small entries; a larger file is not ours and is ignored.
MAX_CACHE_BYTES = 1024 * 1024


def write_json(path: Path, data: object) -> None:
    """Write ``data`` as JSON, atomically. Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, json.dumps(data).encode("utf-8"))


def read_json(path: Path, limit: int) -> object:
    """The JSON in ``path``; None when it is missing, not a regular file, too large or corrupt.

    A cache is only an optimisation: whatever is there (a FIFO, a link to
    /dev/zero, garbage) is ignored and replaced at the next write.
    """
    try:
        return json.loads(read_regular_file(path, limit).decode("utf-8"))
    except (UnreadableFile, ValueError, RecursionError):
        return None


class WriteQueue:
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


def _time_of(entry: object) -> float:
    value = entry.get("time") if isinstance(entry, dict) else None
    return float(value) if isinstance(value, (int, float)) else 0.0


def write_newest(path: Path, data: dict[str, dict[str, object]]) -> None:
    """Write ``data``'s newest :data:`MAX_ENTRIES` entries; a failed write is ignored."""
    if len(data) > MAX_ENTRIES:
        newest = sorted(data.items(), key=lambda kv: _time_of(kv[1]), reverse=True)
        data = dict(newest[:MAX_ENTRIES])
    with contextlib.suppress(OSError):
        write_json(path, data)


def now_or_later(writes: WriteQueue | None, path: Path, write: Callable[[], None]) -> None:
    """``write`` (of ``path``) in the background when a :class:`WriteQueue` queue is given,
    else at once."""
    if writes is None:
        write()
    else:
        writes.later(path, write)
