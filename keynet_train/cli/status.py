"""Exit statuses and the one place that maps exceptions to them."""

from __future__ import annotations

import signal
from enum import IntEnum

from keynet_train.cli.environment import Environment
from keynet_train.errors import Interrupted, KeynetError, UsageError, left_behind
from keynet_train.interrupts import Stopped


class ExitStatus(IntEnum):
    """Process exit codes (docs/platform-contract.md)."""

    SUCCESS = 0
    FAILURE = 1
    USAGE = 2
    INTERRUPTED = 130


def exit_status_for(exc: BaseException) -> int:
    """Map an exception to the exit status the CLI returns (a stop signal: 128 + its number)."""
    if isinstance(exc, Stopped):
        return 128 + exc.signum
    if isinstance(exc, (KeyboardInterrupt, Interrupted)):
        return ExitStatus.INTERRUPTED
    if isinstance(exc, UsageError):
        return ExitStatus.USAGE
    return ExitStatus.FAILURE


def render_error(exc: BaseException, env: Environment) -> int:
    """Print ``exc`` for a human (stderr) and, with ``--json``, as one JSON object on stdout.

    Unknown exceptions get a short message; the traceback only with ``--debug``.
    Never raises: after SIGHUP the terminal may be gone, and a message that
    cannot be written is dropped.
    """
    status = exit_status_for(exc)
    if isinstance(exc, KeyboardInterrupt):
        # What the stop leaves: a registered upload key (a push after its key),
        # or a build step still running in the user's podman service.
        hint = left_behind(exc)
        if hint is None:
            left = getattr(exc, "left_running", None) or "Nothing was left running"
            hint = f"{left}; run the command again."
        if isinstance(exc, Stopped) and exc.signum != signal.SIGINT:
            exc = Interrupted(f"Stopped by {exc.name}.", hint)
        else:
            exc = Interrupted("Interrupted.", hint)
    # A closed terminal or stream. Not contextlib.suppress: contextlib would
    # then be imported by every start-up.
    try:  # noqa: SIM105
        _print_error(exc, env)
    except (OSError, ValueError):
        pass
    return status


def _print_error(exc: BaseException, env: Environment) -> None:
    if isinstance(exc, KeynetError):
        error_type, message, hint = exc.error_type, exc.message, exc.hint
    else:
        # error.type must stay within the list of docs/platform-contract.md; an error nobody
        # anticipated gets the root error's type, as any unclassified KeynetError does.
        error_type = KeynetError.error_type
        message = f"Unexpected internal error: {type(exc).__name__}: {exc}"
        hint = "Re-run with --debug for the traceback and report it with the output."
    if env.debug and not isinstance(exc, Interrupted):
        import traceback  # only with --debug: it is not needed to start up

        env.err("".join(traceback.format_exception(exc)).rstrip())
    from keynet_train.cli.output import print_labelled

    print_labelled(env, "bold red", "Error:", message)
    if hint:
        print_labelled(env, "bold", "Hint:", hint)
    if env.json_output:
        payload = {"error": {"type": error_type, "message": message, "hint": hint or ""}}
        import json

        env.out(json.dumps(payload))
