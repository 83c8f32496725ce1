"""Remember which image a context fingerprint produced, to skip re-sending unchanged contexts.

The podman API needs the whole build context as a tar for every build, even
when every layer is cached: for a 100 MB context that upload is most of a
warm push. When the fingerprint (see
:func:`keynet_train.build_context.context_fingerprint`) matches a previous
build whose image still exists, the pipeline reuses that image and only adds
the per-push labels. ``--no-cache`` bypasses this as it bypasses the layer
cache.

The file is a small JSON map in the user's cache directory. It is an
optimisation only: every failure to read or write it is ignored.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

MAX_ENTRIES = 100


def cache_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/keynet/builds.json``, else ``~/.cache/keynet/builds.json``."""
    base = environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".cache")
    return Path(base) / "keynet" / "builds.json"


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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".builds-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(data, handle)
                os.replace(tmp, self.path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            pass


def _time_of(entry: object) -> float:
    value = entry.get("time") if isinstance(entry, dict) else None
    return float(value) if isinstance(value, (int, float)) else 0.0
