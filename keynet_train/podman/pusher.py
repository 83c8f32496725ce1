"""Pushing an image to a registry through a podman service, retried, with its digest.

Facts this module relies on, verified against podman 4.3.1 with podman-py 5.8
(see ``docs/testing.md``):

* ``/images/{name}/push`` streams JSON lines when posted with ``stream=True``;
  errors arrive *inside* the stream with HTTP 200.
* The libpod push stream reports each blob but, before podman 5, not the
  manifest digest; the Docker-compatible push reports the digest. After a
  successful push we therefore re-push through the compatible endpoint (all
  blobs are already there: ~60 ms) to learn the digest.
* The service reads ``certs.d`` for every push, so a CA installed with
  :func:`keynet_train.podman.trust.install_registry_ca` works without
  restarting the service.

Reading a failed push's text is :mod:`keynet_train.registry.push_errors`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from keynet_train import limits
from keynet_train.config import RegistryCredentials
from keynet_train.errors import BuildError, KeynetError, RegistryError
from keynet_train.notices import PUSH_RETRY, Notice
from keynet_train.podman.api import json_lines, response_text
from keynet_train.podman.heartbeat import Heartbeat, ServiceIO, abort_stream
from keynet_train.podman.images import ImageStore
from keynet_train.progress import LiveTask, NullReporter, Reporter, live_progress
from keynet_train.registry.push_errors import TransientPushError, raise_push_error
from keynet_train.retries import RetryPolicy

#: podman's push: 3 tries, 1 s then 2 s apart (a registry's blip lasts longer
#: than an API's); which failures are transient is registry/push_errors.py's call.
PUSH_RETRIES = RetryPolicy(attempts=3, base_delay=1.0)
# podman (4.3 and 5, both push endpoints) reports nothing while a layer
# uploads: a multi-GB layer on a slow link looks like a hang without this.
PUSH_HEARTBEAT_SECONDS = 30.0
_COMPAT_DIGEST_RE = re.compile(r"digest: (sha256:[0-9a-f]{64})")


def registry_auth_header(credentials: RegistryCredentials) -> str:
    """The ``X-Registry-Auth`` header value podman expects (urlsafe base64 JSON).

    The one place the podman client reveals the robot password.
    """
    payload = {"username": credentials.username, "password": credentials.password.reveal()}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@dataclass(frozen=True)
class PushedImage:
    """A finished push of one reference."""

    reference: str
    digest: str | None  # None only when a digest_lookup could not tell
    attempts: int


class ImagePusher(ImageStore):
    """Pushes images with explicit registry credentials."""

    # Over 60 lines: signature and contract (docstring) take 43; the retry loop itself is 50.
    def push(
        self,
        reference: str,
        credentials: RegistryCredentials,
        *,
        tls_verify: bool = True,
        reporter: Reporter | None = None,
        retries: RetryPolicy = PUSH_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
        heartbeat: float = PUSH_HEARTBEAT_SECONDS,
        digest_lookup: Callable[[str], str | None] | None = None,
        stall: float | None = None,
    ) -> PushedImage:
        """Push ``reference`` with explicit ``credentials`` and return its digest.

        podman 5 reports the digest in the push stream. For podman 4.3,
        ``digest_lookup(reference)`` asks the registry; without one, the digest
        comes from a re-push through the Docker-compatible endpoint, which
        leaves a ``digest.txtNNN`` file in the service's TMPDIR each time.

        Transient failures (5xx, connection reset, timeout) are retried as
        ``retries`` says (:data:`PUSH_RETRIES`: 3 tries, waits doubling from
        1 s); blobs already in the registry are not sent again. While podman
        stays silent (it reports no bytes while a layer uploads), a "still
        pushing" line goes to ``reporter.info`` every ``heartbeat`` seconds.

        An upload that makes no progress for ``stall`` seconds (default
        ``limits.UPLOAD_STALL``, 120 s) — no line from podman and no byte read
        or written by the service — is a transient failure: the stream is cut
        and the push retried. Progress is measured on a local service only
        (:class:`ServiceIO`); for ssh:// and tcp:// services silence alone
        is never taken for a stall.

        Raises:
            RegistryAuthError: the registry rejected the credentials (401).
            RegistryQuotaError: Harbor's storage or count quota is exhausted.
            RegistryPermissionError: the robot may not push to the project (denied).
            HarborProjectNotFoundError: the Harbor project does not exist.
            RegistryError: 413 (proxy body-size limit), TLS trust failure,
                unreachable registry, or transient failures on every attempt.
            PodmanUnavailableError: the connection to the service broke.
        """
        reporter = reporter or NullReporter()
        live = live_progress(reporter)
        # On a terminal a spinner shows the elapsed time instead of the
        # 30-second lines, which stay for logs.
        interval = 0.0 if live is not None else heartbeat
        # podman reports no bytes while a blob uploads, but each blob it starts:
        # "blob 2/5" is how far the push got.
        blobs = self._layer_count(reference) if live is not None else None
        attempts = retries.attempts
        stall_limit = limits.UPLOAD_STALL if stall is None else stall
        meter = ServiceIO.for_url(self.url)
        for attempt in range(1, attempts + 1):
            spinner = live.activity(f"Pushing {reference}") if live is not None else None
            try:
                with (
                    Heartbeat(
                        reporter,
                        f"Still pushing {reference}",
                        interval,
                        stall=stall_limit,
                        progress=meter,
                    ) as beat,
                    _stall_is_transient(beat, stall_limit),
                ):
                    digest = self._push_once(
                        reference,
                        credentials,
                        tls_verify,
                        reporter,
                        beat,
                        digest_lookup,
                        spinner,
                        blobs,
                    )
                return PushedImage(reference, digest, attempt)
            except TransientPushError as e:
                if not retries.another_try(attempt):
                    raise _gave_up(reference, attempts, e) from e
                delay = retries.delay(attempt)
                reporter.notice(
                    Notice(
                        PUSH_RETRY,
                        f"Push of {reference} failed ({e}); retrying in {delay:g}s "
                        f"(attempt {attempt + 1}/{attempts})",
                    )
                )
                sleep(delay)
            finally:
                if spinner is not None:
                    spinner.close()
        raise AssertionError("unreachable")  # pragma: no cover

    def _push_once(
        self,
        reference: str,
        credentials: RegistryCredentials,
        tls_verify: bool,
        reporter: Reporter,
        beat: Heartbeat,
        digest_lookup: Callable[[str], str | None] | None,
        spinner: LiveTask | None = None,
        blobs: int | None = None,
    ) -> str | None:
        headers = {"X-Registry-Auth": registry_auth_header(credentials)}
        digest: str | None = None
        started = 0
        secrets = [credentials.password.reveal()]
        with self._translate("push"):
            response = self._client.api.post(
                f"/images/{reference}/push",
                params={"tlsVerify": tls_verify, "quiet": False},
                headers=headers,
                stream=True,
            )
            beat.watch(lambda: abort_stream(response))
            for record in _push_records(response, reference, secrets, credentials.username):
                beat.beat()
                for line in str(record.get("stream") or "").splitlines():
                    if line.strip():
                        reporter.log_line(line.strip())
                        if spinner is not None:
                            # The changing part first: a narrow terminal cuts the end.
                            if line.strip().startswith("Copying blob"):
                                started += 1
                                of = f"/{blobs}" if blobs and started <= blobs else ""
                                spinner.describe(f"Pushing blob {started}{of} of {reference}")
                            else:
                                spinner.describe(f"Pushing {reference}: {line.strip()[:60]}")
                digest = record.get("manifestdigest") or digest
            if beat.stalled:  # the cut stream may simply have ended
                raise TransientPushError("the upload stalled")
            beat.watch(None)  # the upload is over; what follows has deadlines of its own
            if digest:
                return str(digest)
            if digest_lookup is not None:
                return digest_lookup(reference)
            return self._digest_via_compat_push(
                reference, headers, tls_verify, secrets, credentials.username
            )

    def _digest_via_compat_push(
        self,
        reference: str,
        headers: dict[str, str],
        tls_verify: bool,
        secrets: list[str],
        robot: str,
    ) -> str:
        # podman < 5 does not report the digest on the libpod endpoint; the
        # Docker-compatible one does. Every blob is already there, so this only
        # re-puts the (identical) manifest.
        repository, _, tag = reference.rpartition(":")
        if "/" in tag or not repository:
            repository, tag = reference, "latest"
        response = self._client.api.post(
            f"/images/{repository}/push",
            params={"tag": tag, "tlsVerify": tls_verify},
            headers=headers,
            stream=True,
            compatible=True,
        )
        for record in _push_records(response, reference, secrets, robot):
            found = _COMPAT_DIGEST_RE.search(str(record.get("status") or ""))
            if found:
                return found.group(1)
        raise RegistryError(
            f"Pushed {reference} but podman did not report the manifest digest",
            hint="Check the image in the registry; push again if it is missing.",
        )


@contextlib.contextmanager
def _stall_is_transient(beat: Heartbeat, stall: float) -> Iterator[None]:
    """A failure of a stream the heartbeat cut for a stall becomes a transient one (retried).

    Raises:
        TransientPushError: ``beat`` saw no upload progress for ``stall`` s.
    """
    try:
        yield
    except (KeynetError, TransientPushError) as e:
        if not beat.stalled:
            raise
        raise TransientPushError(
            f"no upload progress for {stall:g} s (the registry stopped answering)"
        ) from e


def _gave_up(reference: str, attempts: int, error: TransientPushError) -> RegistryError:
    """The error of a push whose every attempt failed transiently, last with ``error``."""
    stalled = "no upload progress" in str(error)
    return RegistryError(
        f"Pushing {reference} failed after {attempts} attempts: {error}",
        hint=(
            "The registry accepted the upload but stopped answering; check its "
            f"status and push again. On a link that is merely slow, raise "
            f"{limits.UPLOAD_STALL_ENV} (seconds, default "
            f"{limits.DEFAULT_UPLOAD_STALL:g})."
            if stalled
            else "The registry keeps failing; check its status and push again."
        ),
    )


def _push_records(
    response: Any, reference: str, secrets: Iterable[str], robot: str
) -> Iterator[dict[str, Any]]:
    """The JSON records of a push response; error records raise. Closes the response.

    Raises:
        RegistryError / RegistryAuthError: the push failed (see :func:`classify_push_error`).
        TransientPushError: a failure worth retrying.
    """
    try:
        _check_push_status(response, reference, secrets, robot)
        for record in json_lines(response):
            if record.get("error"):
                raise_push_error(str(record["error"]), reference, secrets, robot)
            yield record
    finally:
        response.close()


def _check_push_status(response: Any, reference: str, secrets: Iterable[str], robot: str) -> None:
    if response.status_code < 400:
        return
    text = response_text(response)
    if response.status_code == 404:
        raise BuildError(f"Cannot push {reference}: {text}")
    raise_push_error(f"{text} ({response.status_code})", reference, secrets, robot)
