"""Pushes that got an upload key but did not finish, kept to resume them (docs/push.md).

A later push of the same project, model name, hyperparameters and build
inputs reuses that key instead of registering a second record on the
platform. The file sits next to the build map (:mod:`keynet_train.build.cache`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from keynet_train.build.cache_files import (
    MAX_CACHE_BYTES,
    WriteQueue,
    now_or_later,
    read_json,
    write_json,
    write_newest,
)


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

    def __init__(self, path: Path, writes: WriteQueue | None = None) -> None:
        self.path = path
        #: Where writes are queued (:meth:`BuildCache.pending_pushes`); None: written at once.
        self._writes = writes

    def _read(self) -> dict[str, dict[str, object]]:
        if self._writes is not None:
            self._writes.settle(self.path)
        return self._read_now()

    def _read_now(self) -> dict[str, dict[str, object]]:
        data = read_json(self.path, MAX_CACHE_BYTES)
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
            write_newest(self.path, data)

        now_or_later(self._writes, self.path, write)

    def clear(self, match: str) -> None:
        """Forget the push with this identity (it finished)."""

        def write() -> None:
            data = self._read_now()
            if data.pop(match, None) is not None:
                with contextlib.suppress(OSError):
                    write_json(self.path, data)

        now_or_later(self._writes, self.path, write)
