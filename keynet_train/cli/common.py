"""Helpers shared by several commands: the config store, prompts, debug logging."""

from __future__ import annotations

from collections.abc import Callable

from keynet_train.cli.environment import Environment
from keynet_train.errors import AuthenticationError, InputError

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from keynet_train.config_store import ConfigStore


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
    line = env.stdin.readline()
    if not line:
        raise InputError("No answer given (input closed).", "Pass the value as a flag instead.")
    return line.strip()


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
