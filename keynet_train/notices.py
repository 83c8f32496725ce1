"""Warnings as data: every warning ``inspect``, ``push`` and ``run`` print, with a stable code.

A warning is printed for a human and also listed in the ``--json`` result as
``warnings: [{code, message, path, line}]`` so CI can act on it. The codes
below are stable: a new kind of warning gets a new code, an existing code
never changes meaning. docs/json-output.md lists them.

A base module: it imports nothing of keynet-train, so every layer may use it.
"""

from __future__ import annotations

from typing import NamedTuple

#: Something the extractor could not resolve statically (``path``/``line`` say where).
EXTRACTION = "extraction"
#: No parser was found: no hyperparameters are sent.
NO_HYPERPARAMETERS = "no-hyperparameters"
#: The extractor could not follow code that may add arguments (``complete: false``).
INCOMPLETE = "incomplete-extraction"
#: The predicted platform command has a problem; ``--allow-command-mismatch`` or
#: ``command_check = "warn"`` made it a warning instead of an error.
COMMAND_MISMATCH = "command-mismatch"
#: The backend's actual training command has a problem (allowed as above).
BACKEND_COMMAND_MISMATCH = "backend-command-mismatch"
#: The build context is large, holds a large file, or may hold credentials.
BUILD_CONTEXT = "build-context"
#: ``--insecure-registry``: the registry's TLS certificate is not verified.
INSECURE_REGISTRY = "insecure-registry"
#: A push attempt failed transiently and is retried.
PUSH_RETRY = "push-retry"
#: The push succeeded but the registry did not report the manifest digest.
NO_DIGEST = "no-digest"
#: The config file was readable by others and was tightened to 0600.
CONFIG_PERMISSIONS = "config-permissions"
#: The image's ENTRYPOINT receives the platform's command and may not run it
#: (a program whose behaviour cannot be told without running it).
IMAGE_ENTRYPOINT = "image-entrypoint"
#: ``run``: no GPU is passed through; the rehearsal runs on CPU (the platform gives one).
NO_GPU = "no-gpu"
#: ``run``: the container shares this user's network (slirp4netns cannot run here).
SHARED_NETWORK = "shared-network"
#: ``run --image``: no local copy of the entrypoint, so the image check was skipped.
IMAGE_CHECK_SKIPPED = "image-check-skipped"
#: ``run``: a callback broke the platform's contract (the verdict names the check).
CALLBACK_PROBLEM = "callback-problem"
#: Any other warning (a code of its own is added when it matters to CI).
OTHER = "other"

#: Every code, in the order docs/json-output.md lists them.
CODES = (
    EXTRACTION,
    NO_HYPERPARAMETERS,
    INCOMPLETE,
    COMMAND_MISMATCH,
    BACKEND_COMMAND_MISMATCH,
    BUILD_CONTEXT,
    IMAGE_ENTRYPOINT,
    INSECURE_REGISTRY,
    PUSH_RETRY,
    NO_DIGEST,
    CONFIG_PERMISSIONS,
    NO_GPU,
    SHARED_NETWORK,
    IMAGE_CHECK_SKIPPED,
    CALLBACK_PROBLEM,
    OTHER,
)


class Notice(NamedTuple):
    """One warning: a stable ``code``, the message printed, and where (when a file is meant)."""

    code: str
    message: str
    path: str | None = None
    line: int | None = None

    def to_json(self) -> dict[str, object]:
        """The ``{code, message, path, line}`` object of the ``warnings`` list."""
        return {"code": self.code, "message": self.message, "path": self.path, "line": self.line}

    def text(self) -> str:
        """The line printed for a human: ``path:line: message`` when there is a place."""
        if self.path is None:
            return self.message
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


def notices_json(notices: list[Notice]) -> list[dict[str, object]]:
    """The ``warnings`` list of a ``--json`` result."""
    return [n.to_json() for n in notices]
