"""How keynet-train tries again what failed for a reason that may pass (docs/platform-contract.md).

One policy type for the three things that are retried: backend API requests,
the registry check (both through the HTTP client factory in
:mod:`keynet_train.backend.http`, which declares their policies and says
which transport failures are transient) and podman's push
(:mod:`keynet_train.podman.pusher`, where :mod:`keynet_train.registry.push_errors`
says which push failures are). At most ``attempts`` tries; before try N+1
the wait is ``base_delay * 2**(N-1)``, or the server's ``Retry-After`` in
seconds when that is longer (at most ``max_retry_after``; an HTTP-date is
ignored). A response is tried again only for an idempotent request whose
status is in ``statuses``.

A base module (standard library only), so podman's client uses it without
loading httpx.
"""

from __future__ import annotations


class RetryPolicy:
    """How often to try, how long to wait in between, and which statuses count as transient."""

    def __init__(
        self,
        statuses: frozenset[int] = frozenset(),
        *,
        attempts: int = 3,
        base_delay: float = 0.5,
        max_retry_after: float = 30.0,
    ) -> None:
        self.statuses = statuses
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_retry_after = max_retry_after

    def another_try(self, attempt: int) -> bool:
        """Whether try number ``attempt`` (from 1) may be followed by another."""
        return attempt < self.attempts

    def retries_status(self, status: int, attempt: int, *, idempotent: bool) -> bool:
        """Whether an answer with ``status`` to try number ``attempt`` calls for another try."""
        return idempotent and status in self.statuses and self.another_try(attempt)

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait after try number ``attempt`` failed."""
        delay = float(self.base_delay * 2 ** (attempt - 1))
        if retry_after and retry_after.strip().replace(".", "", 1).isdigit():
            delay = max(delay, min(float(retry_after), self.max_retry_after))
        return delay
