"""The reporting interface domain code uses instead of printing.

Domain modules (push pipeline, podman client) never print: they call a
:class:`Reporter` handed to them by the CLI, which decides how to render
(rich on a TTY, plain lines otherwise, stderr always). :class:`NullReporter`
is the do-nothing variant for tests and library use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from keynet_train.notices import Notice

T = TypeVar("T")


class Reporter(Protocol):
    """Receives progress events; implementations must not raise."""

    def step_started(self, title: str) -> None:
        """A pipeline step begins (e.g. ``"Build image"``)."""

    def step_finished(self, title: str, detail: str = "") -> None:
        """The step begun last finished successfully."""

    def info(self, message: str) -> None:
        """A neutral informational line."""

    def warning(self, message: str) -> None:
        """Something the user should know but which does not stop the job."""

    def notice(self, notice: Notice) -> None:
        """A warning with a stable code (keynet_train/notices.py), printed like :meth:`warning`.

        The CLI also lists it in the ``--json`` result's ``warnings``.
        """

    def log_line(self, line: str) -> None:
        """One line of streamed build/push output from podman."""


class LiveTask(Protocol):
    """One line of a live display: a transfer with a byte count, or a spinner."""

    def advance(self, done: int) -> None:
        """``done`` bytes of the total are through (ignored by a spinner)."""

    def describe(self, text: str) -> None:
        """Replace the line's text."""

    def close(self) -> None:
        """Remove the line; the task is over (also after an error)."""


class LiveProgress(Protocol):
    """A live display on a terminal: bars with bytes and rate, spinners with elapsed time."""

    def transfer(self, label: str, total: int | None) -> LiveTask:
        """Start a byte transfer of ``total`` bytes (None: unknown)."""

    def activity(self, label: str, already: float = 0.0) -> LiveTask:
        """Start a spinner with elapsed time, for work that reports no progress.

        ``already``: seconds the work ran before the spinner appeared (counted).
        """


def live_progress(reporter: object) -> LiveProgress | None:
    """The reporter's live display (``reporter.live``), or None for plain periodic lines.

    Only a reporter writing to a terminal has one; logs, ``--quiet`` and CI
    get periodic lines. A :class:`HeldReporter` in front of a terminal has a
    :class:`RelayedProgress`, which draws nothing itself.
    """
    live = getattr(reporter, "live", None)
    return live if live is not None else None


class NullReporter:
    """A :class:`Reporter` that discards everything."""

    def step_started(self, title: str) -> None:
        """Ignore."""

    def step_finished(self, title: str, detail: str = "") -> None:
        """Ignore."""

    def info(self, message: str) -> None:
        """Ignore."""

    def warning(self, message: str) -> None:
        """Ignore."""

    def notice(self, notice: Notice) -> None:
        """Ignore."""

    def log_line(self, line: str) -> None:
        """Ignore."""


class RecordingReporter:
    """A :class:`Reporter` that keeps every event, for tests."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.notices: list[Notice] = []

    def step_started(self, title: str) -> None:
        """Record."""
        self.events.append(("step_started", title))

    def step_finished(self, title: str, detail: str = "") -> None:
        """Record."""
        self.events.append(("step_finished", f"{title}: {detail}" if detail else title))

    def info(self, message: str) -> None:
        """Record."""
        self.events.append(("info", message))

    def warning(self, message: str) -> None:
        """Record."""
        self.events.append(("warning", message))

    def notice(self, notice: Notice) -> None:
        """Record as a warning (the printed text), and the notice itself."""
        self.events.append(("warning", notice.text()))
        self.notices.append(notice)

    def log_line(self, line: str) -> None:
        """Record."""
        self.events.append(("log", line))


class RelayedProgress:
    """A :class:`LiveProgress` for work in another thread that must not draw itself.

    Its transfers and spinners only describe one line that the waiting
    thread owns and :meth:`attach`-es (one live display at a time, and none
    while a prompt is on screen): "120.0 of about 300.0 MiB: Sending build
    context", then "STEP 3/5: RUN ...". Until a line is attached, only the
    latest text is kept. Thread-safe; raises nothing.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._line: LiveTask | None = None
        self._prefix = ""
        self._text: str | None = None

    def attach(self, line: LiveTask, prefix: str = "") -> None:
        """Show the relayed text on ``line`` (after ``prefix``) from now on."""
        with self._lock:
            self._line, self._prefix = line, prefix
            if self._text is not None:
                line.describe(prefix + self._text)

    def detach(self) -> None:
        """Stop describing the attached line (it is about to close)."""
        with self._lock:
            self._line = None

    def show(self, text: str) -> None:
        """Replace the relayed text."""
        with self._lock:
            self._text = text
            if self._line is not None:
                self._line.describe(self._prefix + text)

    def transfer(self, label: str, total: int | None) -> LiveTask:
        """A byte count shown as text on the attached line."""
        return _RelayedTask(self, label, total)

    def activity(self, label: str, already: float = 0.0) -> LiveTask:
        """A label shown on the attached line (its spinner and timer keep going)."""
        return _RelayedTask(self, label, None)


class _RelayedTask:
    def __init__(self, relay: RelayedProgress, label: str, total: int | None) -> None:
        self._relay = relay
        self._label = label
        self._total = total
        self._shown = -1.0
        relay.show(label)

    def advance(self, done: int) -> None:
        mib = done / (1024 * 1024)
        if mib - self._shown < 0.1:  # every chunk would redraw for nothing
            return
        self._shown = mib
        of = f" of about {self._total / (1024 * 1024):.1f}" if self._total else ""
        # The numbers first: a narrow terminal cuts the end of the line.
        self._relay.show(f"{mib:.1f}{of} MiB: {self._label}")

    def describe(self, text: str) -> None:
        self._label = text
        self._relay.show(text)

    def close(self) -> None:
        """Nothing to remove: the attached line belongs to the waiting thread."""


class SlowCall:
    """Says what we wait for once a call has taken ``delay`` s: a call that
    usually answers at once but may take up to its timeout must not leave a
    blank screen.

    With a live display (a terminal) a spinner ``Waiting for LABEL`` with the
    time since the call began; else ``say("Still waiting for LABEL (N s)")``
    every ``interval`` s. A context manager around the call; raises nothing.
    """

    def __init__(
        self,
        live: LiveProgress | None,
        say: Callable[[str], None],
        label: str,
        delay: float = 1.0,
        interval: float = 30.0,
    ) -> None:
        self._live = live
        self._say = say
        self._label = label
        self._delay = delay
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SlowCall:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        started = time.monotonic()
        if self._stop.wait(self._delay):
            return
        if self._live is not None:
            task = self._live.activity(
                f"Waiting for {self._label}", already=time.monotonic() - started
            )
            self._stop.wait()
            task.close()
            return
        while not self._stop.wait(self._interval - (time.monotonic() - started) % self._interval):
            self._say(f"Still waiting for {self._label} ({time.monotonic() - started:.0f} s)")


class HeldReporter:
    """Holds another reporter's events until :meth:`release`, then passes them through.

    Lets work running in a background thread report into the step it belongs
    to, in order, instead of in the middle of another step (or a prompt).
    Thread-safe.
    """

    def __init__(self, target: Reporter) -> None:
        self._target = target
        self._lock = threading.Lock()
        self._held: list[tuple[str, tuple[object, ...]]] = []
        self._live = False
        # On a terminal the held work's progress goes to a line the waiting
        # thread shows (RelayedProgress); in a log it keeps its periodic lines.
        self.live: RelayedProgress | None = (
            RelayedProgress() if live_progress(target) is not None else None
        )

    def _emit(self, method: str, *args: object) -> None:
        with self._lock:
            if not self._live:
                self._held.append((method, args))
                return
        getattr(self._target, method)(*args)

    def release(self) -> None:
        """Replay the held events, in order, and pass later ones straight on."""
        with self._lock:  # held while replaying, so nothing overtakes the backlog
            for method, args in self._held:
                getattr(self._target, method)(*args)
            self._held.clear()
            self._live = True

    def step_started(self, title: str) -> None:
        """Hold or forward."""
        self._emit("step_started", title)

    def step_finished(self, title: str, detail: str = "") -> None:
        """Hold or forward."""
        self._emit("step_finished", title, detail)

    def info(self, message: str) -> None:
        """Hold or forward."""
        self._emit("info", message)

    def warning(self, message: str) -> None:
        """Hold or forward."""
        self._emit("warning", message)

    def notice(self, notice: Notice) -> None:
        """Hold or forward."""
        self._emit("notice", notice)

    def log_line(self, line: str) -> None:
        """Hold or forward."""
        self._emit("log_line", line)


class Background(Generic[T]):
    """Runs ``work`` in a daemon thread; :meth:`result` waits and re-raises its error.

    A daemon thread never keeps the process alive after Ctrl-C or an error in
    the main thread; whatever the work holds (a podman connection, a private
    service) is closed by the main thread's own cleanup.
    """

    def __init__(self, work: Callable[[], T]) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], T]) -> None:
        try:
            self._value = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            self._error = exc

    def failed(self) -> bool:
        """True if the work has already finished with an error."""
        return not self._thread.is_alive() and self._error is not None

    def done(self) -> bool:
        """True once the work has finished (with a value or an error)."""
        return not self._thread.is_alive()

    def wait(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for the work; True if it has finished."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def result(self) -> T:
        """Wait for the work and return its value.

        Raises:
            BaseException: whatever the work raised.
        """
        while self._thread.is_alive():
            self._thread.join(0.2)  # short joins keep Ctrl-C responsive
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value
