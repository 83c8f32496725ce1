"""Exit statuses and the one place that maps exceptions to them."""

from __future__ import annotations

from enum import IntEnum

from keynet_train.cli.environment import Environment
from keynet_train.errors import Interrupted, KeynetError, UsageError


class ExitStatus(IntEnum):
    """Process exit codes (SPEC §7)."""

    SUCCESS = 0
    FAILURE = 1
    USAGE = 2
    INTERRUPTED = 130


def exit_status_for(exc: BaseException) -> ExitStatus:
    """Map an exception to the exit status the CLI returns."""
    if isinstance(exc, (KeyboardInterrupt, Interrupted)):
        return ExitStatus.INTERRUPTED
    if isinstance(exc, UsageError):
        return ExitStatus.USAGE
    return ExitStatus.FAILURE


def render_error(exc: BaseException, env: Environment) -> ExitStatus:
    """Print ``exc`` for a human (stderr) and, with ``--json``, as one JSON object on stdout.

    Unknown exceptions get a short message; the traceback only with ``--debug``.
    Never raises.
    """
    status = exit_status_for(exc)
    if isinstance(exc, KeyboardInterrupt):
        exc = Interrupted("Interrupted.", "Nothing was left running; run the command again.")
    if isinstance(exc, KeynetError):
        error_type, message, hint = exc.error_type, exc.message, exc.hint
    else:
        error_type = "internal"
        message = f"Unexpected internal error: {type(exc).__name__}: {exc}"
        hint = "Re-run with --debug for the traceback and report it with the output."
    if env.debug and not isinstance(exc, Interrupted):
        import traceback  # only with --debug: it is not needed to start up

        env.err("".join(traceback.format_exception(exc)).rstrip())
    env.err(f"Error: {message}")
    if hint:
        env.err(f"Hint: {hint}")
    if env.json_output:
        payload = {"error": {"type": error_type, "message": message, "hint": hint or ""}}
        import json

        env.out(json.dumps(payload))
    return status
