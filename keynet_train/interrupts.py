"""Stop cleanly on SIGINT, SIGTERM and SIGHUP, the way Ctrl-C always did.

CI systems cancel a job with SIGTERM (so does ``timeout``); a closing terminal
sends SIGHUP. Python's default for both is to die on the spot, which left a
private ``podman system service`` and its temp dir behind. Inside
:class:`StopSignals` each of the three raises :class:`Stopped` in the main
thread instead: a :class:`KeyboardInterrupt`, so every cleanup that already
handled Ctrl-C (context managers, ``except BaseException`` blocks) runs.

Only the first signal raises. Later ones are recorded and otherwise
ignored until the block exits: a CI runner that signals the whole process
group twice, or a user pressing Ctrl-C again, must not cut the cleanup in
half (a service killed but its storage left with a mounted working
container). A signal whose disposition was "ignore" when the block started
(``nohup`` ignores SIGHUP) stays ignored.

Cleanup code that must not be cut in half by even the *first* signal (a
normal exit's service shutdown, say) runs under :func:`shielded`: a signal
arriving inside is raised when the block ends.
"""

from __future__ import annotations

import signal
from types import FrameType, TracebackType

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """A stop signal arrived; the exit status is ``128 + signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        # What the stop leaves running elsewhere (a build step in the user's
        # podman service), said instead of "Nothing was left running".
        self.left_running: str | None = None

    @property
    def name(self) -> str:
        """``SIGINT``, ``SIGTERM`` or ``SIGHUP``: only those are raised (:data:`HANDLED`)."""
        return signal.Signals(self.signum).name


class StopSignals:
    """Context manager turning SIGINT/SIGTERM/SIGHUP into :class:`Stopped` (see the module doc).

    Outside the main thread (where Python cannot install handlers) it does
    nothing. Restores the previous handlers on exit. Raises nothing itself.
    """

    def __init__(self) -> None:
        self.received: list[int] = []
        self._previous: dict[int, object] = {}
        self._shields = 0
        self._pending: int | None = None

    def __enter__(self) -> StopSignals:
        _active.append(self)
        for signum in HANDLED:
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN:
                continue
            try:
                signal.signal(signum, self._handle)
            except ValueError:  # not the main thread: Python cannot handle signals here
                break
            self._previous[signum] = previous
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)  # type: ignore[arg-type]
        self._previous.clear()
        _active.remove(self)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)
        if len(self.received) > 1:
            return  # a later signal during cleanup: recorded, cleanup carries on
        if self._shields:
            self._pending = signum
            return
        raise Stopped(signum)


# The StopSignals blocks in force, innermost last (a stack, not a global to rebind).
_active: list[StopSignals] = []


class _Shield:
    """The block of :func:`shielded` (a class, not ``contextlib``: start-up time)."""

    def __enter__(self) -> None:
        self._signals = _active[-1] if _active else None
        if self._signals is not None:
            self._signals._shields += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        signals = self._signals
        if signals is None:
            return
        signals._shields -= 1
        # A signal held back is raised once the outermost shield ends normally;
        # if the block raised, that exception goes first and the signal waits.
        if exc_type is None and not signals._shields and signals._pending is not None:
            signum, signals._pending = signals._pending, None
            raise Stopped(signum)


def shielded() -> _Shield:
    """Run a block that a stop signal must not interrupt; the signal is raised after it.

    Without an active :class:`StopSignals` (a library caller, a test) the
    block simply runs.

    Raises:
        Stopped: (on leaving the block) a stop signal arrived during it.
    """
    return _Shield()
