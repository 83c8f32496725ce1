"""How long a network exchange may last, in one place (docs/security.md).

Standard library only: the CLI applies the environment's overrides for the
length of each run (:func:`from_environment`), before anything imports httpx
or podman-py.
The HTTP client factory (:mod:`keynet_train.backend.http`) and the push
(:mod:`keynet_train.podman.pusher`) read the values when they start work.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from keynet_train.errors import InputError

DEFAULT_REQUEST_DEADLINE = 60.0
"""Seconds one HTTP request (backend API, registry check) may take in all: connect,
TLS, sending, headers and body. A per-read timeout alone lets a server that sends
one byte every few seconds hold a command forever."""

DEFAULT_UPLOAD_STALL = 120.0
"""Seconds a registry push may go without progress (no new line from podman)
before it is treated as a transient failure, retried, then reported."""

REQUEST_DEADLINE_ENV = "KEYNET_REQUEST_DEADLINE"
UPLOAD_STALL_ENV = "KEYNET_UPLOAD_STALL_TIMEOUT"

REQUEST_DEADLINE = DEFAULT_REQUEST_DEADLINE
"""The deadline in force (the default unless the environment set another)."""
UPLOAD_STALL = DEFAULT_UPLOAD_STALL
"""The stall limit in force (the default unless the environment set another)."""


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86400:  # nan fails this too
        raise InputError(
            f"{name}={raw!r} is not a number of seconds.",
            f"Set {name} to a positive number of seconds (at most 86400), or unset it "
            f"for the default ({default:g} s).",
        )
    return value


@contextmanager
def from_environment(environ: Mapping[str, str]) -> Iterator[None]:
    """:data:`REQUEST_DEADLINE` and :data:`UPLOAD_STALL` from ``environ`` (else the defaults)
    for the duration of the block; the previous values come back after it (in-process
    runs of the CLI, one after another, never see each other's settings).

    Raises:
        InputError: a variable is set but is not a positive number of seconds.
    """
    global REQUEST_DEADLINE, UPLOAD_STALL
    deadline = _seconds(environ, REQUEST_DEADLINE_ENV, DEFAULT_REQUEST_DEADLINE)
    stall = _seconds(environ, UPLOAD_STALL_ENV, DEFAULT_UPLOAD_STALL)
    saved = REQUEST_DEADLINE, UPLOAD_STALL
    REQUEST_DEADLINE, UPLOAD_STALL = deadline, stall
    try:
        yield
    finally:
        REQUEST_DEADLINE, UPLOAD_STALL = saved
