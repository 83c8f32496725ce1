"""The one factory for HTTP clients, and redacted ``--debug`` logging.

Every HTTP request keynet-train makes (backend API, registry credential check)
goes through a client built by :func:`create_http_client`, so timeouts, the
User-Agent, TLS verification, the private-CA bundle and debug logging behave
the same everywhere. Only this module, :mod:`keynet_train.backend.client` and
:mod:`keynet_train.registry.auth` import httpx; the CLI imports them lazily.
"""

from __future__ import annotations

import functools
import json
import os
import ssl
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from keynet_train import __version__
from keynet_train.errors import ConfigError
from keynet_train.secrets import (
    REDACTED,
    Redactor,
    is_secret_name,
    redact_headers,
    redact_json,
    redact_text_fields,
)

CA_BUNDLE_ENV = "KEYNET_CA_BUNDLE"
"""Environment variable naming a PEM file of extra trusted CA certificates."""

USER_AGENT = f"keynet-train/{__version__}"

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0

# Bodies longer than this are cut in debug logs: a projects page is small, an
# HTML error page from a proxy is not worth more.
_DEBUG_BODY_LIMIT = 2000

DebugLog = Callable[[str], None]

MAX_RESPONSE_BYTES = 10 * 1024 * 1024
"""No API or registry answer we read is anywhere near this; a bigger body is refused while
it streams in, so a wrong URL (a file server, a proxy's error loop) cannot exhaust memory."""


class ResponseTooLargeError(httpx.TransportError):
    """A response body passed :data:`MAX_RESPONSE_BYTES` (raised while it is read)."""


class _CappedStream(httpx.SyncByteStream):
    """Passes a response body through, raising once more than ``limit`` bytes arrived."""

    def __init__(self, inner: httpx.SyncByteStream, limit: int, request: httpx.Request) -> None:
        self._inner = inner
        self._limit = limit
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        for chunk in self._inner:
            received += len(chunk)
            if received > self._limit:
                raise ResponseTooLargeError(
                    f"response body over {self._limit} bytes", request=self._request
                )
            yield chunk

    def close(self) -> None:
        self._inner.close()


def _cap_response(response: httpx.Response) -> None:
    """Event hook: bound the body before anything (the debug log, ``.read()``) reads it."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        response.close()
        raise ResponseTooLargeError(f"response body of {declared} bytes", request=response.request)
    if isinstance(response.stream, httpx.SyncByteStream):
        response.stream = _CappedStream(response.stream, MAX_RESPONSE_BYTES, response.request)


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


def build_ssl_context(ca_bundle: str) -> ssl.SSLContext:
    """The SSL context trusting the usual store and ``ca_bundle``, built once per process.

    Loading a trust store costs 50-90 ms (OpenSSL 3); contexts are safe to
    share, so the backend client, the registry check and the digest lookup
    of one push share one. A bundle rewritten meanwhile (new inode, size or
    mtime) is loaded again.

    Raises:
        ConfigError: the bundle is missing, unreadable or contains no PEM
            certificate; the message names ``KEYNET_CA_BUNDLE``.
    """
    try:
        st = os.stat(ca_bundle)
        identity: tuple[object, ...] = (st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        identity = ()  # _load_ssl_context reports the problem
    # OpenSSL's default store follows these two variables.
    store = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    return _load_ssl_context(ca_bundle, (*identity, *store))


@functools.lru_cache(maxsize=4)
def _load_ssl_context(ca_bundle: str, _identity: tuple[object, ...]) -> ssl.SSLContext:
    """An SSL context trusting the system store (else certifi) *and* ``ca_bundle``.

    Memoised by :func:`build_ssl_context` under the bundle's identity.

    The private CA is added to, not substituted for, the usual trust so one
    setting covers a backend with a public certificate and a Harbor with a
    private one.

    Raises:
        ConfigError: the bundle is missing, unreadable or contains no PEM
            certificate; the message names ``KEYNET_CA_BUNDLE``.
    """
    context = ssl.create_default_context()  # the system store, with its corporate CAs
    if not context.cert_store_stats()["x509_ca"]:
        # No (eagerly loaded) system roots, e.g. python.org builds on macOS:
        # use certifi's. Loading both costs ~0.1 s for the same Mozilla roots.
        import certifi

        context.load_verify_locations(cafile=certifi.where())
    _add_bundle(context, ca_bundle)
    return context


def _add_bundle(context: ssl.SSLContext, ca_bundle: str) -> None:
    """Trust the certificates of ``ca_bundle`` in ``context`` too.

    Raises:
        ConfigError: the bundle is missing, unreadable or contains no PEM
            certificate; the message names ``KEYNET_CA_BUNDLE``.
    """
    try:
        context.load_verify_locations(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(
            f"{CA_BUNDLE_ENV}={ca_bundle} cannot be used as a CA bundle: {reason}",
            f"Point {CA_BUNDLE_ENV} at a readable PEM file of CA certificates, or unset it.",
        ) from exc


def _without_default_store(ca_bundle: str | None) -> ssl.SSLContext:
    """A verifying TLS context trusting only ``ca_bundle`` (nothing when None).

    For plain-HTTP clients: the bundle is still checked (a bad
    ``KEYNET_CA_BUNDLE`` is reported at once, whatever the URL), the system
    store is not loaded.

    Raises:
        ConfigError: the bundle is unusable (see :func:`_add_bundle`).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_bundle:
        _add_bundle(context, ca_bundle)
    return context


@functools.lru_cache(maxsize=1)
def _default_ssl_context() -> ssl.SSLContext:
    """httpx's default trust (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), built once.

    Loading certifi costs tens of milliseconds; contexts are safe to share
    between clients, and a process normally makes few clients anyway.
    """
    return httpx.create_ssl_context()


def resolve_ca_bundle(
    ca_bundle: str | None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The CA bundle to use: the explicit value, else ``KEYNET_CA_BUNDLE`` in ``environ``.

    An empty value means "not set". Never raises.
    """
    if ca_bundle:
        return ca_bundle
    if environ is not None:
        return environ.get(CA_BUNDLE_ENV) or None
    return None


def create_http_client(
    base_url: str | None = None,
    *,
    ca_bundle: str | None = None,
    environ: Mapping[str, str] | None = None,
    verify: bool = True,
    debug_log: DebugLog | None = None,
    timeout: httpx.Timeout | float | None = None,
    transport: httpx.BaseTransport | None = None,
    headers: Mapping[str, str] | None = None,
    redactor: Redactor | None = None,
) -> httpx.Client:
    """Build the configured :class:`httpx.Client` every request goes through.

    Args:
        base_url: prefix for relative request URLs (the backend server URL).
        ca_bundle: PEM file trusted in addition to the default store; when
            None, ``KEYNET_CA_BUNDLE`` is read from ``environ`` (if given).
            The process environment is never read implicitly.
        verify: False disables TLS verification (``--insecure-registry``
            only); the CA bundle is then ignored.
        debug_log: receives one redacted text block per request and response.
        timeout: override of the 10 s connect / 60 s read default (tests).
        transport: an httpx transport to use instead of the network (tests).
        headers: extra default headers.
        redactor: known secret values to scrub from debug logs; secrets found
            in response bodies are added to it as they are logged. A private
            one is used when not given.

    Raises:
        ConfigError: the CA bundle is missing or unusable.
    """
    bundle = resolve_ca_bundle(ca_bundle, environ)
    verify_setting: ssl.SSLContext | bool
    if not verify:
        verify_setting = False
    elif base_url and base_url.lower().startswith("http://"):
        # Plain HTTP needs no system trust store (50-90 ms to load). The context
        # trusts at most the CA bundle, so an https:// URL sent through this
        # client is verified against that or fails closed.
        verify_setting = _without_default_store(bundle)
    elif bundle:
        verify_setting = build_ssl_context(bundle)
    else:
        verify_setting = _default_ssl_context()

    if timeout is None:
        timeout_setting = default_timeout()
    elif isinstance(timeout, httpx.Timeout):
        timeout_setting = timeout
    else:
        timeout_setting = httpx.Timeout(timeout)

    # The size cap comes first: the debug logger reads the body.
    event_hooks: dict[str, list[Callable[..., Any]]] = {"request": [], "response": [_cap_response]}
    if debug_log is not None:
        known = redactor if redactor is not None else Redactor()
        event_hooks["request"].append(_request_logger(debug_log, known))
        event_hooks["response"].append(_response_logger(debug_log, known))

    all_headers = {"User-Agent": USER_AGENT}
    all_headers.update(headers or {})
    return httpx.Client(
        base_url=base_url or "",
        verify=verify_setting,
        timeout=timeout_setting,
        headers=all_headers,
        transport=transport,
        event_hooks=event_hooks,
        # Tokens must not follow a redirect to another host, and the backend
        # API never redirects: a 3xx is reported, not followed.
        follow_redirects=False,
        # Keeps HTTPS_PROXY/NO_PROXY (CI runners behind proxies) and
        # SSL_CERT_FILE working as users of other tools expect.
        trust_env=True,
    )


def is_tls_verification_error(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a certificate verification failure."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def describe_transport_error(exc: httpx.TransportError) -> str:
    """A short human description of a network-level failure (no secrets in it)."""
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


# ------------------------------------------------------------------ debug logging


def _format_body(content: bytes, content_type: str, redactor: Redactor) -> str:
    """A redacted, truncated rendering of a request/response body.

    Redaction happens on the whole body, parsed when it is JSON, and only
    then is the result cut for display: a cut first would break the JSON and
    leave the secrets to a text scan. Secret-named values found on the way
    are handed to ``redactor`` before anything is logged.
    """
    if not content:
        return ""
    total = len(content)
    text = content.decode("utf-8", errors="replace")
    rendered: str | None = None
    if "json" in content_type or text.lstrip().startswith(("{", "[")):
        try:
            data = json.loads(text)
            redactor.learn(data)
            rendered = json.dumps(redact_json(data), ensure_ascii=False)
        except (ValueError, RecursionError):
            rendered = None  # not JSON after all (or absurdly deep): scan it as text
    if rendered is None:
        rendered = redact_text_fields(text)
    rendered = redactor(rendered)
    if len(rendered) > _DEBUG_BODY_LIMIT:
        rendered = rendered[:_DEBUG_BODY_LIMIT] + f"… ({total} bytes)"
    return rendered


def _format_url(url: httpx.URL) -> str:
    """The URL with secret-named query parameters and userinfo redacted."""
    if url.userinfo:
        url = url.copy_with(username=None, password=None)
    if not url.query:
        return str(url)
    params = [
        (key, REDACTED if is_secret_name(key) else value) for key, value in url.params.multi_items()
    ]
    return str(url.copy_with(params=params))


def _format_headers(headers: httpx.Headers) -> str:
    return "".join(f"\n  {name}: {value}" for name, value in redact_headers(headers.items()))


def _request_logger(debug_log: DebugLog, redactor: Redactor) -> Callable[[httpx.Request], None]:
    def log_request(request: httpx.Request) -> None:
        body = ""
        # Streaming uploads have no .content until read; we only ever send
        # small JSON bodies, so anything else is logged by size only.
        try:
            body = _format_body(request.content, request.headers.get("content-type", ""), redactor)
        except httpx.RequestNotRead:
            body = "<streamed body>"
        text = f"> {request.method} {_format_url(request.url)}{_format_headers(request.headers)}"
        if body:
            text += f"\n  body: {body}"
        debug_log(redactor(text))

    return log_request


def _response_logger(debug_log: DebugLog, redactor: Redactor) -> Callable[[httpx.Response], None]:
    def log_response(response: httpx.Response) -> None:
        # Reading here is safe: no caller streams responses through these clients.
        response.read()
        body = _format_body(response.content, response.headers.get("content-type", ""), redactor)
        request = response.request
        text = (
            f"< {response.status_code} {response.reason_phrase} "
            f"({request.method} {_format_url(request.url)})"
            f"{_format_headers(response.headers)}"
        )
        if body:
            text += f"\n  body: {body}"
        debug_log(redactor(text))

    return log_response
