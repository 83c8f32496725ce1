"""The single error hierarchy of keynet-train.

Every failure the user can cause or meet is a :class:`KeynetError` subclass
carrying a one-paragraph ``message`` and an optional ``hint`` saying what to
do next. Third-party errors (httpx, podman, pydantic, OSError) are translated
into these where they enter the program, so the CLI layer has exactly one
thing to render and map to an exit code.

``error_type`` is the value of ``error.type`` in the ``--json`` error object
(docs/commands.md, push): authentication, validation, not_found, backend, build, registry,
config or usage.
"""

from __future__ import annotations


class KeynetError(Exception):
    """Root of every error keynet-train reports to the user."""

    error_type = "config"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(KeynetError):
    """The command line does not parse (argparse level; exit code 2)."""

    error_type = "usage"


class InputError(KeynetError):
    """A value is missing or invalid after parsing, e.g. a bad tag or no TTY to ask (exit 1)."""

    error_type = "usage"


class ConfigError(KeynetError):
    """The config file or a project file is missing, corrupt or invalid."""

    error_type = "config"


class AuthenticationError(KeynetError):
    """Not logged in, token expired/revoked, or wrong username/password."""

    error_type = "authentication"


class NotLoggedInError(AuthenticationError):
    """No stored credentials, or they expired before any request was sent."""


class ValidationError(KeynetError):
    """Input rejected: by the backend (400/422) or by local validation."""

    error_type = "validation"


class EntrypointError(ValidationError):
    """The entrypoint script cannot be read, decoded or parsed."""


class ExtractionError(ValidationError):
    """Static hyperparameter extraction could not produce a result."""


class CommandMismatchError(ValidationError):
    """The platform's training command would stop the script with a usage error."""


class NotFoundError(KeynetError):
    """The backend answered 404 (unknown project or endpoint)."""

    error_type = "not_found"


class BackendError(KeynetError):
    """Network failure, 429/5xx, or a malformed response from the backend."""

    error_type = "backend"


class BuildError(KeynetError):
    """Podman is unavailable, the build context is invalid, or the build failed."""

    error_type = "build"


class ImageCheckError(BuildError):
    """The built image cannot run the platform's command (checked without running it)."""


class PodmanUnavailableError(BuildError):
    """No podman service answers and none can be started."""


class RegistryError(KeynetError):
    """The registry refused or failed a push or credential check."""

    error_type = "registry"


class RegistryAuthError(RegistryError):
    """The registry rejected the robot credentials (401: wrong or expired robot secret)."""


class RegistryPermissionError(RegistryError):
    """The robot account is valid but may not push to the Harbor project (``denied``)."""


class RegistryQuotaError(RegistryError):
    """The Harbor project's storage or artifact-count quota would be exceeded."""


class HarborProjectNotFoundError(RegistryError):
    """The Harbor project to push to does not exist (Harbor's ``NOT_FOUND``)."""


class Interrupted(KeynetError):
    """The user pressed Ctrl-C; mapped to exit code 130."""

    error_type = "usage"


def note_left_behind(exc: BaseException, what: str) -> None:
    """Record on ``exc`` what the failed command left behind, for the user to act on.

    ``what`` replaces the usual "Nothing was left running" of an interrupt and
    is added to a :class:`KeynetError`'s hint. Raises nothing.
    """
    exc.keynet_left_behind = what  # type: ignore[attr-defined]
    if isinstance(exc, KeynetError):
        exc.hint = f"{exc.hint} {what}" if exc.hint else what


def left_behind(exc: BaseException) -> str | None:
    """What :func:`note_left_behind` recorded on ``exc``, if anything. Raises nothing."""
    what = getattr(exc, "keynet_left_behind", None)
    return what if isinstance(what, str) else None
