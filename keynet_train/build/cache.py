"""Remember which image a build produced, to skip re-sending unchanged contexts.

The podman API needs the whole build context as a tar for every build, even
when every layer is cached: for a 100 MB context that upload is most of a
warm push. When the reuse key (:mod:`keynet_train.build.fingerprint`)
matches a previous build whose image still exists, the pipeline reuses that
image and only adds the per-push labels. ``--no-cache`` bypasses this as it
bypasses the layer cache.

The files are small JSON maps in the user's cache directory
(:mod:`keynet_train.build.cache_files`). They are an optimisation only:
every failure to read or write them is ignored. Next to the build map:
the passed image checks (:class:`ImageChecks`), the file-digest memo
(:class:`~keynet_train.build.fingerprint.FileDigests`) and the unfinished
pushes (:class:`~keynet_train.build.pending_pushes.PendingPushes`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path

from keynet_train.build.cache_files import (
    MAX_CACHE_BYTES,
    WriteQueue,
    now_or_later,
    read_json,
    write_newest,
)
from keynet_train.build.fingerprint import FileDigests
from keynet_train.build.pending_pushes import PendingPushes
from keynet_train.locations import user_directory


def cache_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/keynet/builds.json``, else ``~/.cache/keynet/builds.json``."""
    return user_directory("cache", environ) / "builds.json"


class BuildCache:
    """Fingerprint → image id. Never raises.

    Not keyed by podman service: image ids are content digests, and the
    caller checks that the image exists in the service it talks to.
    Its writes, and those of the files next to it, run in the background
    (:class:`WriteQueue`); :meth:`wait` waits for them.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writes = WriteQueue()
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
        data = read_json(self.path, MAX_CACHE_BYTES)
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
            write_newest(self.path, data)

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


class ImageChecks:
    """What passed image checks established, by a key of everything they read. Never raises.

    An image id is the digest of the image's config, which names its layers:
    the same id is the same files, so a check of the same script against the
    same image for the same platform needs no container again (~0.35 s of a
    warm push). Only passed checks are recorded.
    """

    def __init__(self, path: Path, writes: WriteQueue | None = None) -> None:
        self.path = path
        #: Where writes are queued (:meth:`BuildCache.image_checks`); None: written at once.
        self._writes = writes

    def get(self, key: str) -> dict[str, object] | None:
        """The facts recorded under ``key``, if any."""
        if self._writes is not None:
            self._writes.settle(self.path)
        data = read_json(self.path, MAX_CACHE_BYTES)
        entry = data.get(key) if isinstance(data, dict) else None
        facts = entry.get("facts") if isinstance(entry, dict) else None
        return facts if isinstance(facts, dict) else None

    def put(self, key: str, facts: dict[str, object]) -> None:
        """Record ``facts`` under ``key``; keeps the newest :data:`MAX_ENTRIES`."""
        entry = {"facts": facts, "time": time.time()}

        def write() -> None:
            data = read_json(self.path, MAX_CACHE_BYTES)
            entries = data if isinstance(data, dict) else {}
            entries[key] = entry
            write_newest(self.path, entries)

        now_or_later(self._writes, self.path, write)
