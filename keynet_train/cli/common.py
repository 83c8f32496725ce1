"""Helpers shared by several commands: the config store, prompts, debug logging, podman."""

from __future__ import annotations

from collections.abc import Callable

from keynet_train.cli.environment import Environment
from keynet_train.errors import AuthenticationError, InputError

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import TextIO, TypeVar

    from keynet_train.cli.output import CliReporter
    from keynet_train.config_store import ConfigStore
    from keynet_train.podman.client import PodmanClient

    Result = TypeVar("Result")


def open_store(env: Environment, warn: Callable[[str], None] | None = None) -> ConfigStore:
    """The config store at the resolved path, warning when it tightens modes.

    The warning goes to ``warn`` (push passes its reporter, so ``--json`` lists
    it), else to stderr.
    """
    from keynet_train.config_store import ConfigStore
    from keynet_train.locations import config_path

    if warn is None:
        warn = lambda m: env.err(f"Warning: {m}")  # noqa: E731 - one line, one use
    return ConfigStore(config_path(env.environ), warn=warn)


def debug_logger(env: Environment) -> Callable[[str], None] | None:
    """A stderr logger for redacted HTTP traffic when ``--debug`` is on."""
    if not env.debug:
        return None
    return lambda line: env.err(f"[debug] {line}")


def ca_bundle(env: Environment) -> str | None:
    """``KEYNET_CA_BUNDLE`` (a PEM path) or None."""
    from keynet_train.config import ca_bundle_from

    return ca_bundle_from(env.environ)


def prompt_text(env: Environment, question: str) -> str:
    """Ask a question on the terminal (stderr) and read one line from stdin.

    Raises:
        InputError: stdin closed before an answer.
    """
    env.stderr.write(question)
    env.stderr.flush()
    line = _read_line(env.stdin)
    if not line:
        raise InputError("No answer given (input closed).", "Pass the value as a flag instead.")
    return line.strip()


def _read_line(stream: TextIO) -> str:
    """One line of ``stream``; a terminal is polled so that a stop signal always stops the wait.

    A process-directed signal may be delivered to any thread: when a
    background thread (the build started during the project picker) takes
    it, the main thread's blocking ``read`` is not interrupted and Python's
    handler would run only after the user pressed Enter. Waiting in short
    ``select`` slices returns to Python often enough for the handler to
    raise. A terminal in canonical mode hands over one line per read, so
    nothing is left in Python's buffer where ``select`` cannot see it.
    Never raises beyond what ``readline`` raises.
    """
    import os
    import select

    try:
        fd = stream.fileno()
        interactive = os.isatty(fd)
    except (AttributeError, OSError, ValueError):
        return stream.readline()
    if interactive:
        while not select.select([fd], [], [], 0.25)[0]:
            pass
    return stream.readline()


def prompt_secret(env: Environment, question: str) -> str:
    """Ask for a secret without echo (getpass on the real terminal).

    Raises:
        AuthenticationError: input closed before a password was typed.
    """
    import getpass

    reader: Callable[[str], str] = env.extra.get("getpass", getpass.getpass)  # type: ignore[assignment]
    try:
        return reader(question)
    except EOFError as exc:
        raise AuthenticationError("No password given (input closed).") from exc


def engine_opener(
    env: Environment, reporter: CliReporter, flag_url: str | None
) -> Callable[[str | None], AbstractContextManager[PodmanClient]]:
    """Connect to the podman service at a URL resolved from ``--podman-url`` (``flag_url``)."""
    from keynet_train.podman.connection import explicit_source
    from keynet_train.podman.service import connect

    source = explicit_source(flag_url, env.environ)
    return lambda url: connect(url, reporter=reporter, environ=env.environ, source=source)


def run_reported(
    reporter: CliReporter, call: Callable[[], Result]
) -> tuple[Result, list[dict[str, object]]]:
    """``call()`` with ``reporter`` closed after it, and every warning it printed as JSON.

    The warnings are listed with their codes in ``--json`` (docs/json-output.md).
    Raises whatever ``call`` raises.
    """
    try:
        result = call()
    finally:
        reporter.close()
    return result, [notice.to_json() for notice in reporter.notices]
