"""A TLS reverse proxy in front of the test registry that injects failures.

:func:`start_fault_proxy` puts a :class:`FaultProxy` in front of a registry
started by :mod:`tests.support.services`; tests make it drop connections,
answer with canned statuses or bodies (Harbor's refusals, 5xx), stall uploads,
and read back what it saw (:class:`RecordedRequest`).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.support.services import RegistryHandle, ServiceError
from tests.support.tls_server import ThreadingTLSServer

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
}


@dataclass
class RecordedRequest:
    """One request the fault proxy saw and what it answered."""

    method: str
    path: str
    status: int  # 0 when the connection was dropped


InjectedAnswer = tuple[int, Mapping[str, str], bytes]
"""A canned answer of the fault proxy: (status, headers, body)."""

Responder = Callable[[str, str], "InjectedAnswer | None"]
"""Decides per request (method, path) whether to answer instead of the registry."""


class FaultProxy:
    """A TLS reverse proxy in front of the registry that can inject failures.

    It terminates TLS with the registry's own certificate (valid for
    127.0.0.1), so the same CA is trusted for both. Faults:

    * :meth:`fail_next` — answer ``status`` (default 500) to the next N requests;
    * :meth:`reject_uploads` — answer ``status`` (default 413) to every blob upload
      (PATCH/PUT under ``/blobs/uploads/``) until :meth:`reset`;
    * :meth:`drop_next` — close the connection without answering N times;
    * :meth:`slow_uploads` — hold every blob upload for some seconds, like a
      slow link;
    * :meth:`stall_uploads` — take the next N blob uploads' bodies and never
      answer (until :meth:`reset`), like a registry that hangs;
    * :meth:`answer_with` — let a function answer chosen requests with its own
      status, headers and body (``tests/support/harbor.py`` uses it to give
      Harbor's quota, denied and project-not-found answers).

    Runs in a daemon thread of the current process; :meth:`stop` shuts it down.
    """

    def __init__(self, upstream: RegistryHandle, cert: Path, key: Path) -> None:
        self.upstream = upstream
        self._lock = threading.Lock()
        self._fail_remaining = 0
        self._fail_status = 500
        self._fail_prefix = ""
        self._drop_remaining = 0
        self._upload_status: int | None = None
        self._upload_delay = 0.0
        self._stall_remaining = 0
        self._released = threading.Event()
        self._responder: Responder | None = None
        self.requests: list[RecordedRequest] = []
        self._server = ThreadingTLSServer(("127.0.0.1", 0), _ProxyHandler, self, tls=(cert, key))
        self.host = f"127.0.0.1:{self._server.port}"
        self.url = f"https://{self.host}"
        self._server.start("fault-proxy")

    def fail_next(self, count: int, status: int = 500, path_prefix: str = "") -> None:
        """Answer ``status`` to the next ``count`` requests under ``path_prefix``."""
        with self._lock:
            self._fail_remaining, self._fail_status = count, status
            self._fail_prefix = path_prefix

    def reject_uploads(self, status: int = 413) -> None:
        """Answer ``status`` to every blob upload request until :meth:`reset`."""
        with self._lock:
            self._upload_status = status

    def slow_uploads(self, seconds: float) -> None:
        """Hold every blob upload request ``seconds`` before forwarding it, until :meth:`reset`."""
        with self._lock:
            self._upload_delay = seconds

    def stall_uploads(self, count: int) -> None:
        """Never answer the next ``count`` blob uploads (PATCH/PUT), until :meth:`reset`."""
        with self._lock:
            self._stall_remaining = count
            self._released.clear()

    def hold_if_stalled(self, method: str, path: str) -> None:
        """Block this request until :meth:`reset` if it is a stalled upload."""
        with self._lock:
            stalled = (
                self._stall_remaining > 0
                and method in ("PATCH", "PUT")
                and "/blobs/uploads/" in path
            )
            if stalled:
                self._stall_remaining -= 1
        if stalled:
            self._released.wait(300)

    def upload_delay(self, method: str, path: str) -> float:
        """How long to hold this request (0 unless it is a slowed blob upload)."""
        with self._lock:
            is_upload = method in ("PATCH", "PUT") and "/blobs/uploads/" in path
            return self._upload_delay if is_upload else 0.0

    def answer_with(self, responder: Responder | None) -> None:
        """Ask ``responder`` first for every request until :meth:`reset`; None forwards."""
        with self._lock:
            self._responder = responder

    def drop_next(self, count: int) -> None:
        """Close the connection without an answer for the next ``count`` requests."""
        with self._lock:
            self._drop_remaining = count

    def reset(self) -> None:
        """Clear all faults and the request log."""
        with self._lock:
            self._fail_remaining = self._drop_remaining = 0
            self._upload_status = None
            self._upload_delay = 0.0
            self._stall_remaining = 0
            self._responder = None
            self.requests.clear()
        self._released.set()

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        self._released.set()
        self._server.stop()

    def _decide(self, method: str, path: str) -> str | int | InjectedAnswer | None:
        """Return "drop", an HTTP status or a whole answer to send, or None to forward."""
        with self._lock:
            responder = self._responder
        if responder is not None:
            answer = responder(method, path)
            if answer is not None:
                return answer
        with self._lock:
            if self._drop_remaining:
                self._drop_remaining -= 1
                return "drop"
            if self._fail_remaining and path.startswith(self._fail_prefix):
                self._fail_remaining -= 1
                return self._fail_status
            if self._upload_status and method in ("PATCH", "PUT") and "/blobs/uploads/" in path:
                return self._upload_status
        return None

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(method, path, status))


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingTLSServer[FaultProxy]

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        proxy = self.server.owner
        body = self._read_body()
        time.sleep(proxy.upload_delay(self.command, self.path))
        proxy.hold_if_stalled(self.command, self.path)
        decision = proxy._decide(self.command, self.path)
        if decision == "drop":
            proxy._record(self.command, self.path, 0)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(decision, tuple):
            status, headers, payload = decision
            proxy._record(self.command, self.path, status)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":  # a HEAD answer has headers only
                self.wfile.write(payload)
            return
        if isinstance(decision, int):
            proxy._record(self.command, self.path, decision)
            payload = json.dumps(
                {"errors": [{"code": "UNKNOWN", "message": f"injected {decision}"}]}
            ).encode()
            self.send_response(decision)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self._forward(body)

    def _forward(self, body: bytes) -> None:
        proxy = self.server.owner
        upstream = proxy.upstream
        context = ssl.create_default_context(cafile=str(upstream.ca_cert))
        connection = http.client.HTTPSConnection(
            "127.0.0.1", upstream.port, context=context, timeout=60
        )
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers.pop("Content-Length", None)
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        try:
            # Host is kept as sent, so the registry builds upload Location URLs
            # that point back at the proxy.
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() in _HOP_BY_HOP or key.lower() == "content-length":
                    continue
                self.send_header(key, value)
            if self.command == "HEAD":
                self.send_header("Content-Length", response.getheader("Content-Length") or "0")
            else:
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            proxy._record(self.command, self.path, response.status)
        finally:
            connection.close()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


def start_fault_proxy(registry: RegistryHandle) -> FaultProxy:
    """Start a :class:`FaultProxy` in front of a TLS ``registry``.

    Raises ServiceError if the registry has no TLS certificate.
    """
    if registry.ca_cert is None or registry.cert_key is None:
        raise ServiceError("the fault proxy needs a TLS registry")
    return FaultProxy(registry, registry.ca_cert, registry.cert_key)
