"""The connection to a podman service's API through podman-py, and what its errors mean.

The only module of keynet-train that imports podman-py. Everything above it
sees plain dataclasses and :mod:`keynet_train.errors` types: podman-py's two
error roots (``APIError`` and ``PodmanError``) and the transport errors
underneath (requests, urllib3, OSError) are translated here, in
:meth:`PodmanAPI._translate`, with ``raise ... from e``.

:class:`PodmanAPI` holds the connection; the operations on it are its
subclasses (:mod:`.images`, :mod:`.builder`, :mod:`.pusher`,
:mod:`.containers`, :mod:`.image_files`), combined in
:class:`keynet_train.podman.client.PodmanClient`. Which service to use is
decided in :mod:`keynet_train.podman.connection`; connecting to it, or starting
a private one, is :mod:`keynet_train.podman.service`.

``podman`` (podman-py) is imported lazily, inside the functions that need it:
the CLI imports the podman package only for commands that build, push or run.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from keynet_train.errors import BuildError, KeynetError, PodmanUnavailableError
from keynet_train.podman import connection as podman_connection

if TYPE_CHECKING:
    from keynet_train.podman.service import PrivatePodmanService

PING_TIMEOUT = 5.0


def ping(
    url: str, timeout: float = PING_TIMEOUT, identity: str | None = None, ssh_checked: bool = False
) -> bool:
    """True if a podman service answers at ``url``. Never raises.

    An ``ssh://`` URL is checked with a fail-fast ssh first (see
    :func:`keynet_train.podman.connection.check_ssh`).
    """
    import podman

    if url.startswith("ssh://") and not ssh_checked:
        try:
            podman_connection.check_ssh(url, identity, timeout=max(timeout, 5.0))
        except KeynetError:
            return False
    kwargs: dict[str, Any] = {"identity": identity} if identity else {}
    try:
        with podman.PodmanClient(
            base_url=podman_connection.normalize_url(url), timeout=timeout, **kwargs
        ) as client:
            response = client.api.get("/_ping", timeout=timeout)
            return bool(response.ok)
    except Exception:  # noqa: BLE001 - any failure means "does not answer"
        return False


class PodmanAPI:
    """A podman-py client for the service at ``url``, with podman-py's errors translated."""

    def __init__(
        self,
        url: str,
        private_service: PrivatePodmanService | None = None,
        identity: str | None = None,
    ) -> None:
        import podman

        self.url = url
        # Set when podman_service.connect() started this service; it is
        # stopped when connect() exits.
        self.private_service = private_service
        # No client-wide timeout: a silent RUN step or a big layer upload can
        # legitimately take long; Ctrl-C is the way out.
        # Typed as Any: podman-py's annotations do not admit a generator body.
        kwargs: dict[str, Any] = {"identity": identity} if identity else {}
        self._client: Any = podman.PodmanClient(base_url=url, **kwargs)

    @property
    def private(self) -> bool:
        """True if this client talks to a private service started by
        :func:`keynet_train.podman.service.connect`."""
        return self.private_service is not None

    def close(self) -> None:
        """Close the HTTP session. Raises nothing."""
        with contextlib.suppress(Exception):
            self._client.close()

    @contextlib.contextmanager
    def _translate(self, operation: str) -> Iterator[None]:
        """Turn podman-py and transport errors into keynet errors."""
        import podman.errors
        import requests
        import urllib3.exceptions

        try:
            yield
        except KeynetError:
            raise
        except podman.errors.APIError as e:
            raise BuildError(f"podman {operation} failed: {_api_error_text(e)}") from e
        except podman.errors.PodmanError as e:
            raise BuildError(f"podman {operation} failed: {e}") from e
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
            raise PodmanUnavailableError(
                f"Lost the connection to the podman service at {self.url} during {operation}: "
                f"{e.__class__.__name__}",
                hint="Check that the podman service is still running (`podman info`).",
            ) from e


def raise_for_status(response: Any, error: type[KeynetError], what: str) -> None:
    """Raise ``error("what: <the service's message>")`` when ``response`` is an HTTP error.

    Raises:
        KeynetError: ``error``, for a status of 400 or above.
    """
    if response.status_code >= 400:
        raise error(f"{what}: {response_text(response)}")


def response_text(response: Any) -> str:
    """The message of an error answer from the service (its JSON ``message``, or the body)."""
    try:
        body = response.json()
        return str(body.get("message") or body.get("cause") or body.get("error") or body)
    except ValueError:
        return str(response.text).strip() or f"HTTP {response.status_code}"


def _api_error_text(error: Any) -> str:
    return str(getattr(error, "explanation", None) or error)


def json_lines(response: Any) -> Iterator[dict[str, Any]]:
    """Decode a podman JSON-lines stream; non-JSON lines become ``{"stream": line}``."""
    for raw in response.iter_lines():
        if not raw:
            continue
        try:
            record = json.loads(raw)
        except ValueError:
            record = {"stream": raw.decode(errors="replace") + "\n"}
        if isinstance(record, dict):
            yield record
