"""The local receiver: the platform's callback endpoints on a thread (docs/run.md).

A stdlib ``ThreadingHTTPServer``: every request is judged by
:func:`keynet_train.run.callbacks.judge`, recorded in order and handed to the
``on_callback`` hook (the live line) before the answer is written.

Where it listens depends on how the container reaches the host: on
127.0.0.1 for slirp4netns (the container's 10.0.2.2 is the host's loopback),
on all addresses for a rootful bridge (the bridge's gateway does not exist
before a container is on it). Then only loopback and the bridge's subnet are
served; any other peer is dropped before a byte is read.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from keynet_train.run.callbacks import MAX_BODY_BYTES, Callback, JobState, Problem, judge

CallbackHook = Callable[[Callback], None]
#: How long one request may take to arrive (the platform's client gives up after 5 s).
READ_TIMEOUT = 10.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    receiver: Receiver

    def verify_request(self, request: Any, client_address: Any) -> bool:
        return self.receiver.allowed(str(client_address[0]))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = READ_TIMEOUT
    # Headers and body leave in one segment: written separately, Nagle's
    # algorithm held the body until the client's delayed ACK, 40 ms a callback.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: every request is reported through the receiver's hook."""

    def _handle(self) -> None:
        length_text = self.headers.get("Content-Length")
        try:
            length = int(length_text) if length_text else 0
        except ValueError:
            length = -1
        receiver = self.server.receiver
        if length < 0 or length > MAX_BODY_BYTES:
            # Recorded before the answer: the sender may read it and look at once.
            receiver.record_refused(self.command, self.path, 413 if length > 0 else 400)
            self._answer(413 if length > 0 else 400, {"detail": "bad Content-Length"})
            self.close_connection = True
            return
        raw = self.rfile.read(length) if length else b""
        status, response = receiver.handle(
            self.command, self.path, self.headers.get("Authorization"), raw
        )
        self._answer(status, response)

    def _answer(self, status: int, response: dict[str, object]) -> None:
        payload = json.dumps(response).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = _handle
    do_GET = _handle
    do_PUT = _handle
    do_PATCH = _handle
    do_DELETE = _handle


class Receiver:
    """The callback endpoints for one job, served on a daemon thread.

    Use as a context manager; :attr:`callbacks` lists every request in the
    order they were answered. ``clock`` gives seconds since the container
    started (for the record and the heartbeat gaps).
    """

    def __init__(
        self,
        state: JobState,
        *,
        bind_host: str = "127.0.0.1",
        allowed_networks: Sequence[str] = (),
        on_callback: CallbackHook | None = None,
    ) -> None:
        self.state = state
        self.callbacks: list[Callback] = []
        self._bind_host = bind_host
        self._networks = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
        self._networks += [ipaddress.ip_network(n, strict=False) for n in allowed_networks]
        self._on_callback = on_callback
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port the receiver listens on (after :meth:`start`)."""
        assert self._server is not None
        return int(self._server.server_address[1])

    def start(self) -> Receiver:
        """Listen on an ephemeral port and serve on a daemon thread.

        Raises:
            OSError: the address cannot be bound.
        """
        server = _Server((self._bind_host, 0), _Handler)
        server.receiver = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def mark_started(self) -> None:
        """The container started now: callback times count from here."""
        self._started = time.monotonic()

    def elapsed(self) -> float:
        """Seconds since :meth:`mark_started`."""
        return time.monotonic() - self._started

    def close(self) -> None:
        """Stop serving and close the socket. Raises nothing."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def allowed(self, host: str) -> bool:
        """True for loopback and the container network's addresses."""
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self._networks)

    def handle(
        self, method: str, path: str, authorization: str | None, raw: bytes
    ) -> tuple[int, dict[str, object]]:
        """Judge, record and report one request; return its status and JSON answer."""
        at = self.elapsed()
        answer = judge(method, path, authorization, raw, self.state, now=int(time.time()), at=at)
        self._record(
            method,
            path,
            answer.status,
            answer.response,
            answer.endpoint,
            answer.body,
            answer.problems,
            at,
        )
        return answer.status, answer.response

    def record_refused(self, method: str, path: str, status: int) -> None:
        """Record a request refused before its body was read."""
        problem = Problem("schema", f"{method} {path}: body refused ({status})")
        self._record(method, path, status, {}, None, None, [problem], self.elapsed())

    def _record(
        self,
        method: str,
        path: str,
        status: int,
        response: dict[str, object],
        endpoint: str | None,
        body: object,
        problems: list[Problem],
        at: float,
    ) -> None:
        with self._lock:
            callback = Callback(
                len(self.callbacks) + 1,
                at,
                method,
                path,
                endpoint,
                status,
                response,
                body,
                problems,
            )
            self.callbacks.append(callback)
            if self._on_callback is not None:
                self._on_callback(callback)
