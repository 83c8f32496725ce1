"""Helpers shared by several commands: the config store, prompts, debug logging."""

from __future__ import annotations

from collections.abc import Callable

from keynet_train.cli.environment import Environment
from keynet_train.errors import AuthenticationError, InputError

# typing is imported for mypy only (docs/development.md, "Start-up").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from keynet_train.config import ConfigStore


def open_store(env: Environment) -> ConfigStore:
    """The config store at the resolved path, warning on stderr when it tightens modes."""
    from keynet_train.config import ConfigStore
    from keynet_train.locations import config_path

    return ConfigStore(config_path(env.environ), warn=lambda m: env.err(f"Warning: {m}"))


def debug_logger(env: Environment) -> Callable[[str], None] | None:
    """A stderr logger for redacted HTTP traffic when ``--debug`` is on."""
    if not env.debug:
        return None
    return lambda line: env.err(f"[debug] {line}")


def ca_bundle(env: Environment) -> str | None:
    """``KEYNET_CA_BUNDLE`` (a PEM path) or None."""
    return env.environ.get("KEYNET_CA_BUNDLE") or None


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
