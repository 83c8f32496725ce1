"""The reporting interface domain code uses instead of printing.

Domain modules (push pipeline, podman client) never print: they call a
:class:`Reporter` handed to them by the CLI, which decides how to render
(rich on a TTY, plain lines otherwise, stderr always). :class:`NullReporter`
is the do-nothing variant for tests and library use.
"""

from __future__ import annotations

from typing import Protocol


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

    def log_line(self, line: str) -> None:
        """One line of streamed build/push output from podman."""


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

    def log_line(self, line: str) -> None:
        """Ignore."""


class RecordingReporter:
    """A :class:`Reporter` that keeps every event, for tests."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

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

    def log_line(self, line: str) -> None:
        """Record."""
        self.events.append(("log", line))
