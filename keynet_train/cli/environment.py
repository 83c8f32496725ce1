"""The injected environment a command runs in (streams, env vars, TTY facts).

Tests build an :class:`Environment` with in-memory streams and a private env
mapping and run the CLI in-process; production uses :meth:`Environment.from_process`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from keynet_train.cli.output import fit_stream, neutralise, wrap_to_terminal

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import TextIO


class Environment:
    """Streams, environment variables and terminal facts for one CLI run.

    A plain class, not a dataclass: every start imports this module
    (docs/development.md, "Start-up").
    """

    def __init__(
        self,
        stdin: TextIO,
        stdout: TextIO,
        stderr: TextIO,
        environ: Mapping[str, str],
        stdin_isatty: bool = False,
        stdout_isatty: bool = False,
        stderr_isatty: bool = False,
        debug: bool = False,
        no_color: bool = False,
        json_output: bool = False,
        quiet: bool = False,
        extra: dict[str, object] | None = None,
    ) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.environ = environ
        self.stdin_isatty = stdin_isatty
        self.stdout_isatty = stdout_isatty
        self.stderr_isatty = stderr_isatty
        self.debug = debug
        self.no_color = no_color
        self.json_output = json_output
        # --quiet: only warnings, errors and the result (docs/platform-contract.md).
        self.quiet = quiet
        self.extra: dict[str, object] = {} if extra is None else extra

    @classmethod
    def from_process(cls) -> Environment:
        """The real process: sys streams and ``os.environ``."""
        return cls(
            stdin=sys.stdin,
            stdout=sys.stdout,
            stderr=sys.stderr,
            environ=os.environ,
            stdin_isatty=_isatty(sys.stdin),
            stdout_isatty=_isatty(sys.stdout),
            stderr_isatty=_isatty(sys.stderr),
        )

    @property
    def interactive(self) -> bool:
        """True when we may prompt: stdin and stderr are terminals."""
        return self.stdin_isatty and self.stderr_isatty

    @property
    def color(self) -> bool:
        """Colours/spinners on a TTY or with FORCE_COLOR; never with NO_COLOR or --no-color.

        Per no-color.org and force-color.org an empty variable counts as unset.
        """
        if self.no_color or self.environ.get("NO_COLOR"):
            return False
        return self.stderr_isatty or self.force_color

    @property
    def force_color(self) -> bool:
        """FORCE_COLOR is set to a non-empty value (styling even when not a terminal)."""
        return bool(self.environ.get("FORCE_COLOR"))

    @property
    def ci_folding(self) -> str | None:
        """``"github"`` or ``"gitlab"`` when running there: long logs go into foldable sections."""
        if self.environ.get("GITHUB_ACTIONS") == "true":
            return "github"
        if self.environ.get("GITLAB_CI") == "true":
            return "gitlab"
        return None

    # Every line the CLI prints passes here: control characters are
    # neutralised and the text fitted to the stream's encoding (docs/platform-contract.md).
    def out(self, text: str = "", *, wrap: bool = True) -> None:
        """Write a result line to stdout (wrapped to a terminal's width, never JSON).

        ``wrap=False`` keeps long lines whole (``--wide`` tables).
        """
        text = neutralise(text)
        if wrap and self.stdout_isatty and not self.json_output:
            text = wrap_to_terminal(text, self.stdout)
        self.stdout.write(fit_stream(text, self.stdout) + "\n")
        self.stdout.flush()

    def err(self, text: str = "") -> None:
        """Write a human message line to stderr (wrapped at words to a terminal's width)."""
        text = neutralise(text)
        if self.stderr_isatty:
            text = wrap_to_terminal(text, self.stderr)
        self.stderr.write(fit_stream(text, self.stderr) + "\n")
        self.stderr.flush()


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):
        return False
