"""The one factory for HTTP clients and its retry policy (``--debug`` logging: debug_log.py).

Every HTTP request keynet-train makes (backend API, registry credential check)
goes through a client built by :func:`create_http_client`, so timeouts, the
User-Agent, TLS verification, the private-CA bundle and debug logging behave
the same everywhere; :data:`BACKEND_RETRIES` and :data:`REGISTRY_RETRIES` (a
:class:`~keynet_train.retries.RetryPolicy` each) with :func:`transient_failure`
say which failures are tried again and how long to wait. Only this
module, :mod:`keynet_train.backend.client` and :mod:`keynet_train.registry.client`
import httpx; the CLI imports them lazily.
"""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx

from keynet_train import __version__, limits

# DebugLog is re-exported: the clients and tests import it with create_http_client.
from keynet_train.backend.debug_log import DebugLog as DebugLog  # noqa: PLC0414
from keynet_train.backend.debug_log import request_logger, response_logger
from keynet_train.backend.tls import (
    build_ssl_context,
    bundle_only_context,
    is_tls_verification_error,
)
from keynet_train.retries import RetryPolicy
from keynet_train.secrets import Redactor

USER_AGENT = f"keynet-train/{__version__}"

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0


MAX_RESPONSE_BYTES = 10 * 1024 * 1024
"""No API or registry answer we read is anywhere near this; a bigger body is refused while
it streams in, so a wrong URL (a file server, a proxy's error loop) cannot exhaust memory.
Counted after decompression: a gzip body of 2 MB can inflate to gigabytes."""

# The encodings we can decode while counting; we ask for no others.
_ACCEPT_ENCODING = "gzip, deflate"


class ResponseTooLargeError(httpx.TransportError):
    """A response body passed :data:`MAX_RESPONSE_BYTES` (raised while it is read)."""


class UndecodableResponseError(httpx.TransportError):
    """A response body in an encoding we did not ask for, stacked encodings, or corrupt data.

    A transport error (not httpx's ``DecodingError``) so every caller's
    network-failure handling reports it.
    """


class RequestDeadlineError(httpx.TimeoutException):
    """A request did not complete within its total deadline (``limits.REQUEST_DEADLINE``)."""


class _Inflater:
    """Decodes one ``Content-Encoding`` (gzip or deflate) with bounded output per call.

    A fresh ``max_length`` per step keeps memory at ``limit`` even for a chunk
    that would inflate a thousandfold.
    """

    def __init__(self, encoding: str) -> None:
        self._raw_fallback = encoding == "deflate"  # zlib-wrapped, or raw as some servers send
        wbits = zlib.MAX_WBITS | 16 if encoding == "gzip" else zlib.MAX_WBITS
        self._decoder = zlib.decompressobj(wbits)
        self._started = False

    def inflate(self, data: bytes, limit: int) -> Iterator[bytes]:
        """Yield the decoded pieces of ``data``, each at most ``limit + 1`` bytes.

        Raises:
            zlib.error: the data is not valid for the encoding.
        """
        try:
            out = self._decoder.decompress(data, limit + 1)
        except zlib.error:
            if not (self._raw_fallback and not self._started):
                raise
            self._decoder = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._decoder.decompress(data, limit + 1)
        self._started = True
        while True:
            yield out
            if not self._decoder.unconsumed_tail:
                return
            out = self._decoder.decompress(self._decoder.unconsumed_tail, limit + 1)


class _CappedStream(httpx.SyncByteStream):
    """Passes a response body through (decoded, if ``inflater``), raising once more than
    ``limit`` decoded bytes arrived."""

    def __init__(
        self,
        inner: httpx.SyncByteStream,
        limit: int,
        request: httpx.Request,
        inflater: _Inflater | None = None,
    ) -> None:
        self._inner = inner
        self._limit = limit
        self._request = request
        self._inflater = inflater

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        for chunk in self._inner:
            try:
                pieces = (
                    self._inflater.inflate(chunk, self._limit - received)
                    if self._inflater is not None
                    else iter((chunk,))
                )
                for piece in pieces:
                    received += len(piece)
                    if received > self._limit:
                        raise ResponseTooLargeError(
                            f"response body over {self._limit} bytes"
                            + (" once decompressed" if self._inflater is not None else ""),
                            request=self._request,
                        )
                    if piece:
                        yield piece
            except zlib.error as exc:
                raise UndecodableResponseError(
                    f"the compressed response body is corrupt ({exc})", request=self._request
                ) from None

    def close(self) -> None:
        self._inner.close()


def _cap_response(response: httpx.Response) -> None:
    """Event hook: bound the body before anything (the debug log, ``.read()``) reads it.

    A compressed body is decoded here, counting decoded bytes, and the
    ``Content-Encoding`` header is dropped so httpx does not decode it again
    (httpx's own decoder inflates a whole chunk at once, without a bound).

    Raises:
        ResponseTooLargeError: the declared length is over the cap.
        UndecodableResponseError: an encoding other than gzip/deflate, or several.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        response.close()
        raise ResponseTooLargeError(f"response body of {declared} bytes", request=response.request)
    codings = [
        c.strip().lower()
        for c in response.headers.get_list("content-encoding", split_commas=True)
        if c.strip().lower() not in ("", "identity")
    ]
    if len(codings) > 1 or (codings and codings[0] not in ("gzip", "deflate")):
        response.close()
        raise UndecodableResponseError(
            f"unsupported Content-Encoding {', '.join(codings)!r} (asked for {_ACCEPT_ENCODING})",
            request=response.request,
        )
    if isinstance(response.stream, httpx.SyncByteStream):
        inflater = _Inflater(codings[0]) if codings else None
        if codings:
            del response.headers["content-encoding"]
        response.stream = _CappedStream(
            response.stream, MAX_RESPONSE_BYTES, response.request, inflater
        )


class _Sockets:
    """The sockets a client's connections use, learned from httpcore's ``trace`` extension.

    ``connection.connect_tcp.complete`` and ``connection.start_tls.complete``
    return the network stream (documented by httpcore), whose ``socket`` is
    kept: a reference only, so a connection httpcore closes is really closed
    (its socket object then refuses ``shutdown``, and a reused descriptor is
    never touched). While a TLS handshake runs, the TCP socket object is
    detached and the TLS one not yet known, so a duplicate of the descriptor
    is held for that span only.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._handshakes: list[socket.socket] = []

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """The ``trace`` callback: remember sockets as connections are made."""
        if not event.startswith("connection."):
            return
        stream: Any = info.get("return_value")
        sock = stream.get_extra_info("socket") if hasattr(stream, "get_extra_info") else None
        with self._lock:
            if event == "connection.start_tls.started":
                current = [s for s in self._sockets if s.fileno() != -1]
                if current:  # the connection being made is the latest one
                    with contextlib.suppress(OSError):
                        self._handshakes.append(current[-1].dup())
            elif event in ("connection.start_tls.complete", "connection.start_tls.failed"):
                self._close_handshakes()
            if event.endswith(".complete") and isinstance(sock, socket.socket):
                self._sockets = [s for s in self._sockets if s.fileno() != -1]
                self._sockets.append(sock)

    def shutdown_all(self) -> None:
        """Shut every open connection down: a blocked read in another thread fails at once.

        ``socket.socket.shutdown`` is called directly, also on a TLS socket:
        the connection is dead anyway, and its TLS state is left alone.
        """
        with self._lock:
            for sock in [*self._sockets, *self._handshakes]:
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def _close_handshakes(self) -> None:
        for duplicate in self._handshakes:
            duplicate.close()
        self._handshakes.clear()

    def close(self) -> None:
        """Drop the handshake duplicates (the rest belong to httpcore)."""
        with self._lock:
            self._close_handshakes()


class _DeadlineClient(httpx.Client):
    """An httpx client whose every request (with its body) ends within ``deadline`` s.

    At the deadline a timer thread shuts down the client's connections (see
    :class:`_Sockets`): the request's own, and idle pooled ones, which the
    pool then replaces. The clients here are used by one thread at a time,
    so no other request is cut short.
    """

    def __init__(self, *args: Any, deadline: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline
        self._connections = _Sockets()

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        """:meth:`httpx.Client.send` under the total deadline.

        A streamed response (``stream=True``) is read after this returns, so
        its body is not covered: every caller here reads bodies in full.

        Raises:
            RequestDeadlineError: the deadline passed before the response was complete.
            httpx.HTTPError: as :meth:`httpx.Client.send`.
        """
        chained = request.extensions.get("trace")

        def trace(event: str, info: dict[str, Any]) -> None:
            self._connections.trace(event, info)
            if chained is not None:
                chained(event, info)

        request.extensions = {**request.extensions, "trace": trace}
        fired = threading.Event()

        def fire() -> None:
            fired.set()
            self._connections.shutdown_all()

        timer = threading.Timer(self._deadline, fire)
        timer.daemon = True
        started = time.monotonic()
        timer.start()
        try:
            return super().send(request, **kwargs)
        except httpx.TransportError as exc:
            if not fired.is_set():
                raise
            raise RequestDeadlineError(
                f"no complete answer within {self._deadline:g} s "
                f"(gave up after {time.monotonic() - started:.0f} s)",
                request=request,
            ) from exc
        finally:
            timer.cancel()
            self._connections.close()


_OwnerT = TypeVar("_OwnerT", bound="HttpClientOwner")


class HttpClientOwner:
    """Owns one client from :func:`create_http_client`; ``close()`` or ``with`` closes it.

    The base of :class:`~keynet_train.backend.client.BackendClient` and
    :class:`~keynet_train.registry.client.RegistryClient`.
    """

    _client: httpx.Client

    def close(self) -> None:
        """Close the connection pool. Idempotent."""
        self._client.close()

    def __enter__(self: _OwnerT) -> _OwnerT:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def json_object(content: bytes) -> dict[str, Any] | None:
    """A response body decoded as a JSON object, or None if it is not one. Never raises."""
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None
    return data if isinstance(data, dict) else None


def default_timeout() -> httpx.Timeout:
    """10 s to connect, 60 s to read/write (docs/platform-contract.md)."""
    return httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)


@functools.lru_cache(maxsize=1)
def _default_ssl_context() -> ssl.SSLContext:
    """httpx's default trust (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), built once.

    Loading certifi costs tens of milliseconds; contexts are safe to share
    between clients, and a process normally makes few clients anyway.
    """
    return httpx.create_ssl_context()


def _verify_setting(
    base_url: str | None, bundle: str | None, verify: bool
) -> ssl.SSLContext | bool:
    """httpx's ``verify``: off, the CA bundle only (plain HTTP), the store plus the bundle.

    Raises:
        ConfigError: the CA bundle is missing or unusable.
    """
    if not verify:
        return False
    if base_url and base_url.lower().startswith("http://"):
        # Plain HTTP needs no system trust store (50-90 ms to load). The context
        # trusts at most the CA bundle, so an https:// URL sent through this
        # client is verified against that or fails closed.
        return bundle_only_context(bundle)
    if bundle:
        return build_ssl_context(bundle)
    return _default_ssl_context()


def _event_hooks(
    debug_log: DebugLog | None, redactor: Redactor | None
) -> dict[str, list[Callable[..., Any]]]:
    """The size cap on every response, then (with ``debug_log``) the redacted logging."""
    # The size cap comes first: the debug logger reads the body.
    event_hooks: dict[str, list[Callable[..., Any]]] = {"request": [], "response": [_cap_response]}
    if debug_log is not None:
        known = redactor if redactor is not None else Redactor()
        event_hooks["request"].append(request_logger(debug_log, known))
        event_hooks["response"].append(response_logger(debug_log, known))
    return event_hooks


def create_http_client(
    base_url: str | None = None,
    *,
    ca_bundle: str | None = None,
    verify: bool = True,
    debug_log: DebugLog | None = None,
    timeout: httpx.Timeout | float | None = None,
    transport: httpx.BaseTransport | None = None,
    headers: Mapping[str, str] | None = None,
    redactor: Redactor | None = None,
    deadline: float | None = None,
) -> httpx.Client:
    """Build the configured :class:`httpx.Client` every request goes through.

    Args:
        base_url: prefix for relative request URLs (the backend server URL).
        ca_bundle: PEM file trusted in addition to the default store
            (``KEYNET_CA_BUNDLE``, read once by the caller with
            :func:`keynet_train.config.ca_bundle_from`); the process
            environment is never read here.
        verify: False disables TLS verification (``--insecure-registry``
            only); the CA bundle is then ignored.
        debug_log: receives one redacted text block per request and response.
        timeout: override of the 10 s connect / 60 s read default (tests).
        transport: an httpx transport to use instead of the network (tests).
        headers: extra default headers.
        redactor: known secret values to scrub from debug logs; secrets found
            in response bodies are added to it as they are logged. A private
            one is used when not given.
        deadline: seconds each request may take in all, body included
            (default ``limits.REQUEST_DEADLINE``, 60 s); past it the request fails with
            :class:`RequestDeadlineError` (an ``httpx.TimeoutException``).

    Raises:
        ConfigError: the CA bundle is missing or unusable.
    """
    verify_setting = _verify_setting(base_url, ca_bundle or None, verify)
    if timeout is None:
        timeout = default_timeout()
    all_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": _ACCEPT_ENCODING}
    all_headers.update(headers or {})
    return _DeadlineClient(
        deadline=limits.REQUEST_DEADLINE if deadline is None else deadline,
        base_url=base_url or "",
        verify=verify_setting,
        timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
        headers=all_headers,
        transport=transport,
        event_hooks=_event_hooks(debug_log, redactor),
        # Tokens must not follow a redirect to another host, and the backend
        # API never redirects: a 3xx is reported, not followed.
        follow_redirects=False,
        # Keeps HTTPS_PROXY/NO_PROXY (CI runners behind proxies) and
        # SSL_CERT_FILE working as users of other tools expect.
        trust_env=True,
    )


def transient_failure(exc: httpx.TransportError, *, idempotent: bool) -> bool:
    """Whether the transport failure ``exc`` may pass if the request is tried again.

    Yes when nothing was sent (connection refused, connect timeout), or for an
    idempotent request whose connection dropped mid-exchange; never for a
    certificate failure, a read timeout or the request deadline (waiting again
    would look like a hang), or an oversized or undecodable answer. How often
    and how long to wait is the :class:`~keynet_train.retries.RetryPolicy`'s.
    """
    if is_tls_verification_error(exc):
        return False
    if isinstance(exc, (RequestDeadlineError, ResponseTooLargeError, UndecodableResponseError)):
        return False
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return True
    return idempotent and isinstance(exc, (httpx.ReadError, httpx.RemoteProtocolError))


def send_with_retries(
    send: Callable[[], httpx.Response],
    policy: RetryPolicy,
    *,
    idempotent: bool,
    sleep: Callable[[float], None],
) -> httpx.Response:
    """``send()`` until it gets an answer ``policy`` does not retry; return that answer.

    The one retry loop of the backend and the registry clients: a transport
    failure is tried again while ``policy`` allows another try and
    :func:`transient_failure` says it may pass; a retried status waits as
    ``policy`` and the answer's ``Retry-After`` say.

    Raises:
        httpx.TransportError: the last failure, not (or no longer) retried.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            response = send()
        except httpx.TransportError as exc:
            if policy.another_try(attempt) and transient_failure(exc, idempotent=idempotent):
                sleep(policy.delay(attempt))
                continue
            raise
        if not policy.retries_status(response.status_code, attempt, idempotent=idempotent):
            return response
        sleep(policy.delay(attempt, response.headers.get("Retry-After")))


BACKEND_RETRIES = RetryPolicy(frozenset({429, 502, 503, 504}))
"""The backend API: 429 and the gateway statuses (502-504); its 500 is an answer, not a glitch."""

REGISTRY_RETRIES = RetryPolicy(frozenset({500, 502, 503, 504}))
"""The registry's ``/v2/`` check and token service: every transient 5xx, as for a push."""


def describe_transport_error(exc: httpx.TransportError) -> str:
    """A short human description of a network-level failure (no secrets in it)."""
    if isinstance(exc, RequestDeadlineError):
        return str(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connection timed out ({exc})" if str(exc) else "connection timed out"
    if isinstance(exc, httpx.ReadTimeout):
        return "no response within the read timeout"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the server closed the connection ({exc})"
    text = str(exc) or type(exc).__name__
    return text
