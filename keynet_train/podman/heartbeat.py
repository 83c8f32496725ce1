"""Heartbeat lines and stall detection for podman streams that stay silent for minutes.

A build's RUN step or a push's layer upload can go minutes without a line from
podman: :class:`Heartbeat` reports that the work goes on, and (for a push)
tells an upload that is merely slow from one that stalled, by the bytes the
local service moves (:class:`ServiceIO`).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from keynet_train.progress import Reporter


class Heartbeat:
    """Reports ``message (N s so far)`` every ``interval`` s while nothing else arrives,
    and detects a stalled upload.

    Used around podman streams that can stay silent for minutes. With
    ``stall`` > 0 and a ``progress`` counter (bytes the podman service moved,
    see :class:`ServiceIO`), a stream that neither says anything nor moves a
    byte for ``stall`` s is stalled: :attr:`stalled` is set and the
    ``on_stall`` callback (which aborts the stream) runs once. Without a
    counter there is no stall detection: podman says nothing while a big layer
    uploads, so silence alone proves nothing. The thread is a daemon, stopped
    when the block exits. Raises nothing.
    """

    def __init__(
        self,
        reporter: Reporter,
        message: str,
        interval: float,
        *,
        stall: float = 0.0,
        progress: Callable[[], int | None] | None = None,
    ) -> None:
        self._reporter = reporter
        self._message = message
        self._interval = interval
        self._stall = stall if progress is not None else 0.0
        self._progress = progress
        self._started = self._last = self._moved = time.monotonic()
        self._counter = progress() if progress is not None else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._on_stall: Callable[[], None] | None = None
        self.stalled = False

    def __enter__(self) -> Heartbeat:
        if self._interval > 0 or self._stall > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def beat(self) -> None:
        """Something arrived: the next report is due ``interval`` s from now."""
        self._last = self._moved = time.monotonic()

    def watch(self, on_stall: Callable[[], None] | None) -> None:
        """Call ``on_stall`` if the stream stalls from now on; None stops watching."""
        self._moved = time.monotonic()
        self._on_stall = on_stall

    def _run(self) -> None:
        tick = min(self._interval or 1.0, 1.0)
        while not self._stop.wait(tick):
            now = time.monotonic()
            if self._interval > 0 and now - self._last >= self._interval:
                self._last = now
                self._reporter.info(f"{self._message} ({now - self._started:.0f} s so far)")
            if self._stall > 0 and self._progress is not None:
                counter = self._progress()
                if _moved_enough(self._counter, counter):
                    self._counter, self._moved = counter, now
                elif now - self._moved >= self._stall and self._on_stall is not None:
                    self.stalled = True
                    on_stall, self._on_stall = self._on_stall, None
                    on_stall()


# An idle podman service still reads and writes a few bytes a second (its
# runtime's timers); an upload, however slow, moves far more than this per
# stall window.
_PROGRESS_BYTES = 16 * 1024


def _moved_enough(before: int | None, now: int | None) -> bool:
    """True when the service moved enough bytes since ``before`` to count as progress."""
    return before is None or now is None or now - before >= _PROGRESS_BYTES


class ServiceIO:
    """Bytes the local podman service process has read and written, from ``/proc/<pid>/io``.

    The service's pid comes from the unix socket itself (``SO_PEERCRED``: the
    process that listens on it); a socket systemd holds for activation names
    systemd, so then the user's ``podman system service`` processes are used.
    Unavailable (None) for ssh:// and tcp:// services and off Linux: their
    uploads cannot be watched from here. Never raises.
    """

    def __init__(self, pids: list[int]) -> None:
        self._pids = pids

    @classmethod
    def for_url(cls, url: str) -> ServiceIO | None:
        """The counter for the service at ``url``, or None when it cannot be read."""
        if not url.startswith("unix://") or not Path("/proc/self/io").exists():
            return None
        pid = _listening_pid(url.removeprefix("unix://"))
        pids = [pid] if pid not in (None, 1) else _user_podman_services()
        meter = cls([p for p in pids if p is not None])
        return meter if meter._pids and meter() is not None else None

    def __call__(self) -> int | None:
        total, seen = 0, False
        for pid in self._pids:
            try:
                text = Path(f"/proc/{pid}/io").read_text()
            except OSError:
                continue
            for line in text.splitlines():
                key, _, value = line.partition(":")
                if key in ("rchar", "wchar"):
                    total += int(value)
                    seen = True
        return total if seen else None


def _listening_pid(path: str) -> int | None:
    """The pid of the process listening on the unix socket ``path`` (None if unknown)."""
    import socket
    import struct

    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2.0)
            sock.connect(path)
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (OSError, AttributeError):  # AttributeError: no SO_PEERCRED off Linux
        return None
    pid: int = struct.unpack("3i", creds)[0]
    return pid or None


def _user_podman_services() -> list[int]:
    """This user's ``podman system service`` processes (socket-activated services)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != os.getuid():
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"podman") and b"service" in argv[1:4]:
            found.append(int(entry.name))
    return found


def abort_stream(response: Any) -> None:
    """Shut the socket of a streamed requests response down, so a blocked read ends."""
    import socket

    raw = getattr(response, "raw", None)
    for sock in (
        getattr(getattr(raw, "_connection", None), "sock", None),
        getattr(
            getattr(getattr(getattr(raw, "_fp", None), "fp", None), "raw", None), "_sock", None
        ),
    ):
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        response.close()
