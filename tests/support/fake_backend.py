"""A contract-faithful fake of the KeyNet backend API (docs/platform-contract.md) on a real socket.

It serves on 127.0.0.1 (a free port by default) from a background thread of
the current process, so integration and end-to-end tests exercise the real
HTTP client over TCP. It:

* signs users in (configurable username/password), issuing random tokens with
  an expiry (``accessTokenExpiresAt``) and the configured Harbor robot
  credentials, so e2e tests can point it at a real test registry;
* pages over a configurable list of trainable projects;
* validates upload-key requests like the contract says (400 with a
  ``message``; 404 for unknown projects) and returns fresh NanoIDs plus a
  ``command``;
* checks ``Authorization: Bearer`` on everything but sign-in (401 for missing,
  unknown or expired tokens);
* records every request;
* fails on demand: :meth:`FakeBackend.fail` with one of :data:`FAILURE_MODES`.

Also runnable as a script for demos::

    python -m tests.support.fake_backend --port 8080 --username alice --password pw \\
        --harbor-url https://127.0.0.1:5000 --harbor-username 'robot$x' --harbor-password s

The sample data and the upload-key contract are :mod:`tests.support.backend_contract`'s.
Standard library only, and no pytest import (the demo script uses it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import re
import secrets
import signal
import socket
import ssl
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.backend_contract import (
    DEFAULT_MESSAGES,
    build_command,
    gzip_bomb,
    new_nanoid,
    sample_projects,
    utc_iso,
    validate_upload_request,
)
from tests.support.tls_server import ThreadingTLSServer

SIGN_IN_PATH = "/v1/auth/sign-in/one-time"
PROJECTS_PATH = "/v1/projects/trainable"
_UPLOAD_RE = re.compile(r"^/v1/projects/(?P<id>[^/]+)/trains/images$")


DEFAULT_USERNAME = "alice"
DEFAULT_PASSWORD = "alice-Pa55word-for-tests"
DEFAULT_HARBOR_URL = "https://harbor.example.com"
DEFAULT_HARBOR_USERNAME = "robot$550e8400e29b41d4a716446655440000"
DEFAULT_HARBOR_PASSWORD = "harbor-robot-secret-0123456789"

STATUS_MODES = {
    "400": 400,
    "401": 401,
    "403": 403,
    "404": 404,
    "422": 422,
    "429": 429,
    "500": 500,
    "502": 502,
    "503": 503,
    "504": 504,
}
FAILURE_MODES = (
    *STATUS_MODES,
    "slow",  # wait `delay` seconds (default: slow_delay), then answer normally
    "non_json",  # 200 with an HTML body
    "wrong_schema",  # 200 with JSON of the wrong shape
    "invalid_upload_key",  # upload-key endpoint only: a key that is not a NanoID
    "drop",  # close the connection without answering
    "deep_json",  # 200 with JSON nested 100,000 levels deep
    "huge",  # 200 with a JSON body of HUGE_BODY_BYTES, streamed without Content-Length
    "trickle",  # 200 whose JSON body arrives one byte every `delay` s (default 1 s)
    "gzip_bomb",  # 200, Content-Encoding: gzip, ~2 MB on the wire inflating to 2 GiB
)
"""Modes accepted by :meth:`FakeBackend.fail` (status modes may also be ints)."""

HUGE_BODY_BYTES = 64 * 1024 * 1024
"""Size of the body of the ``huge`` failure mode."""


@dataclass
class RecordedRequest:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    json: Any  # the decoded body, or None when it is not JSON

    def header(self, name: str) -> str | None:
        """A header value by case-insensitive name."""
        return self.headers.get(name.lower())


@dataclass
class _Failure:
    prefix: str
    mode: str
    remaining: int | None  # None: until reset()
    method: str | None
    message: str | None
    delay: float | None


@dataclass
class _Token:
    username: str
    expires_at: datetime


@dataclass(eq=False)
class FakeBackend:
    """The fake server. Use as a context manager, or call :meth:`start`/:meth:`stop`."""

    username: str = DEFAULT_USERNAME
    password: str = DEFAULT_PASSWORD
    harbor_url: str = DEFAULT_HARBOR_URL
    harbor_username: str = DEFAULT_HARBOR_USERNAME
    harbor_password: str = DEFAULT_HARBOR_PASSWORD
    projects: list[dict[str, Any]] = field(default_factory=sample_projects)
    token_ttl: float = 3600.0
    slow_delay: float = 3.0
    #: The ``command`` upload-key answers carry instead of :func:`build_command`'s
    #: (a platform that writes its command another way).
    command_override: str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    tls_certfile: str | None = None
    tls_keyfile: str | None = None
    user: dict[str, Any] = field(
        default_factory=lambda: {
            "id": "550e8400-e29b-41d4-a716-446655440000",
            "email": "alice@example.com",
            "displayName": "Alice Example",
            "role": "GENERAL",
        }
    )

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._failures: list[_Failure] = []
        self._tokens: dict[str, _Token] = {}
        self._next_train_id = 1
        self._stopping = threading.Event()
        self._server: ThreadingTLSServer[FakeBackend] | None = None
        self.upload_keys: list[str] = []

    # -- lifecycle

    def start(self) -> FakeBackend:
        """Bind and serve in a daemon thread; returns self. Idempotent."""
        if self._server is not None:
            return self
        tls = (self.tls_certfile, self.tls_keyfile) if self.tls_certfile else None
        self._stopping.clear()
        self._server = ThreadingTLSServer((self.host, self.port), _Handler, self, tls)
        self.port = self._server.port
        # A short poll interval keeps stop() (and so each test's teardown) fast.
        self._server.start("fake-backend", poll_interval=0.05)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; wakes "slow" handlers. Idempotent."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> FakeBackend:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123`` (no trailing slash)."""
        scheme = "https" if self.tls_certfile else "http"
        return f"{scheme}://{self.host}:{self.port}"

    # -- test controls

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[RecordedRequest]:
        """The recorded requests whose path starts with ``path_prefix``."""
        return [
            r
            for r in self.requests
            if r.path.startswith(path_prefix) and (method is None or r.method == method)
        ]

    def fail(
        self,
        path_prefix: str,
        mode: str | int,
        times: int | None = 1,
        *,
        method: str | None = None,
        message: str | None = None,
        delay: float | None = None,
    ) -> None:
        """Make the next ``times`` requests under ``path_prefix`` fail with ``mode``.

        ``times=None`` fails until :meth:`reset`. ``message`` is the JSON
        ``message`` of status modes; ``delay`` the wait of ``"slow"``. Failures
        registered first are used first. Raises ValueError for an unknown mode.
        """
        name = str(mode)
        if name not in FAILURE_MODES:
            raise ValueError(f"unknown failure mode {mode!r}; valid: {', '.join(FAILURE_MODES)}")
        with self._lock:
            self._failures.append(
                _Failure(path_prefix, name, times, method and method.upper(), message, delay)
            )

    def reset(self) -> None:
        """Forget failures and recorded requests (tokens and upload keys stay)."""
        with self._lock:
            self._failures.clear()
            self._requests.clear()

    def issue_token(self, username: str | None = None, ttl: float | None = None) -> str:
        """Create a valid token without a sign-in request (for client tests)."""
        token = "fake-" + secrets.token_urlsafe(32)
        expires = datetime.now(timezone.utc) + timedelta(
            seconds=self.token_ttl if ttl is None else ttl
        )
        with self._lock:
            self._tokens[token] = _Token(username or self.username, expires)
        return token

    def expire_tokens(self) -> None:
        """Make every issued token expired (server-side expiry)."""
        past = datetime.now(timezone.utc) - timedelta(seconds=1)
        with self._lock:
            for token in self._tokens.values():
                token.expires_at = past

    def revoke_tokens(self) -> None:
        """Forget every issued token (revocation)."""
        with self._lock:
            self._tokens.clear()

    # -- request processing (called from handler threads)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _take_failure(self, method: str, path: str) -> _Failure | None:
        with self._lock:
            for failure in self._failures:
                if not path.startswith(failure.prefix):
                    continue
                if failure.method and failure.method != method:
                    continue
                if failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                return failure
        return None

    def _token_problem(self, authorization: str | None) -> str | None:
        """None when the bearer token is valid, else the 401 message."""
        if not authorization:
            return "Missing Authorization header"
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "Authorization must be: Bearer <accessToken>"
        with self._lock:
            entry = self._tokens.get(token.strip())
        if entry is None:
            return "Invalid or revoked access token"
        if entry.expires_at <= datetime.now(timezone.utc):
            return "Access token expired"
        return None

    def _sign_in(self, body: Any) -> tuple[int, Any]:
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("username"), str)
            or not isinstance(body.get("password"), str)
        ):
            return 400, {"message": "username and password are required strings"}
        if body["username"] != self.username or body["password"] != self.password:
            return 401, {"message": "Invalid username or password"}
        token = self.issue_token(body["username"])
        with self._lock:
            expires = self._tokens[token].expires_at
        return 200, {
            "accessToken": token,
            "accessTokenExpiresAt": utc_iso(expires),
            "user": self.user,
            "harbor": {
                "url": self.harbor_url,
                "username": self.harbor_username,
                "password": self.harbor_password,
            },
        }

    def _projects(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        try:
            page = int(query.get("page", ["0"])[0])
            limit = int(query.get("limit", ["20"])[0])
        except ValueError:
            return 400, {"message": "page and limit must be integers"}
        if page < 0 or not 1 <= limit <= 100:
            return 400, {"message": "page must be >= 0 and limit between 1 and 100"}
        total = len(self.projects)
        content = self.projects[page * limit : (page + 1) * limit]
        max_page = max(math.ceil(total / limit) - 1, 0)
        return 200, {
            "content": content,
            "meta": {"total": total, "page": page, "limit": limit, "maxPage": max_page},
        }

    def _upload_key(self, raw_id: str, body: Any, invalid_key: bool) -> tuple[int, Any]:
        if not raw_id.isdigit() or not any(p.get("id") == int(raw_id) for p in self.projects):
            return 404, {"message": f"Project {raw_id} not found"}
        problem = validate_upload_request(body)
        if problem:
            return 400, {"message": problem}
        upload_key = "not-a-nanoid!" if invalid_key else new_nanoid()
        with self._lock:
            train_id = self._next_train_id
            self._next_train_id += 1
            self.upload_keys.append(upload_key)
        return 201, {
            "id": train_id,
            "uploadKey": upload_key,
            "command": self.command_override
            or build_command(body["modelName"], body["hyperParameters"]),
        }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # idle keep-alive connections must not pin threads forever
    server: ThreadingTLSServer[FakeBackend]

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(self.timeout)
            self.request.do_handshake()
        super().setup()

    def _handle(self) -> None:
        backend = self.server.owner
        request = self._read_request()
        backend._record(request)

        failure = backend._take_failure(self.command, request.path)
        invalid_key = False
        if failure is not None:
            if failure.mode == "drop":
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            if failure.mode == "slow":
                delay = backend.slow_delay if failure.delay is None else failure.delay
                if backend._stopping.wait(delay):
                    return
            elif failure.mode in STATUS_MODES:
                status = STATUS_MODES[failure.mode]
                headers = {"Retry-After": "0"} if status == 429 else {}
                self._send_json(
                    status, {"message": failure.message or DEFAULT_MESSAGES[status]}, headers
                )
                return
            elif failure.mode == "non_json":
                self._send(200, b"<html><body>Welcome to nginx!</body></html>", "text/html")
                return
            elif failure.mode == "wrong_schema":
                self._send_json(200, {"unexpected": "shape", "content": "not-a-list"})
                return
            elif failure.mode == "invalid_upload_key":
                invalid_key = True
            elif failure.mode == "deep_json":
                depth = 100_000
                self._send(200, b"[" * depth + b"]" * depth, "application/json")
                return
            elif failure.mode == "huge":
                self._send_huge()
                return
            elif failure.mode == "trickle":
                self._send_trickle(1.0 if failure.delay is None else failure.delay)
                return
            elif failure.mode == "gzip_bomb":
                self._send(200, gzip_bomb(), "application/json", {"Content-Encoding": "gzip"})
                return

        status, payload = self._route(request, invalid_key)
        self._send_json(status, payload)

    def _read_request(self) -> RecordedRequest:
        """The request as recorded: path, query, lower-case headers, body and its JSON."""
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            decoded: Any = json.loads(raw) if raw else None
        except ValueError:
            decoded = None
        return RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=raw,
            json=decoded,
        )

    def _route(self, request: RecordedRequest, invalid_key: bool) -> tuple[int, Any]:
        backend = self.server.owner
        path = request.path
        upload = _UPLOAD_RE.match(path)
        if path == SIGN_IN_PATH:
            if request.method != "POST":
                return 405, {"message": "Method not allowed"}
            return backend._sign_in(request.json)
        if path != PROJECTS_PATH and not upload:
            return 404, {"message": f"No route for {path}"}
        problem = backend._token_problem(request.header("authorization"))
        if problem:
            return 401, {"message": problem}
        if path == PROJECTS_PATH:
            if request.method != "GET":
                return 405, {"message": "Method not allowed"}
            return backend._projects(request.query)
        assert upload is not None
        if request.method != "POST":
            return 405, {"message": "Method not allowed"}
        return backend._upload_key(upload.group("id"), request.json, invalid_key)

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            # The client gave up (e.g. its read timeout fired during "slow").
            self.close_connection = True

    def _send_huge(self) -> None:
        """A JSON string of HUGE_BODY_BYTES, chunked: its size shows only by reading it."""
        chunk = b"x" * (1024 * 1024)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            parts = [b'"', *([chunk] * (HUGE_BODY_BYTES // len(chunk) - 1)), chunk[:-2], b'"']
            for part in parts:
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client stopped reading: exactly what a size cap does
        self.close_connection = True

    def _send_trickle(self, delay: float) -> None:
        """Headers at once, then a JSON body one byte every ``delay`` s (a per-read
        timeout never fires; only a total deadline ends the request)."""
        body = json.dumps({"content": [], "padding": "x" * 4096}).encode()
        backend = self.server.owner
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.flush()
            for index in range(len(body)):
                self.wfile.write(body[index : index + 1])
                self.wfile.flush()
                if backend._stopping.wait(delay):
                    break
        except OSError:
            pass  # the client gave up: what a deadline does
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


# ---------------------------------------------------------------------------- script


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.fake_backend",
        description="Serve the fake KeyNet backend until SIGTERM/SIGINT.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--username", default=DEFAULT_USERNAME)
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    parser.add_argument("--harbor-url", default=DEFAULT_HARBOR_URL)
    parser.add_argument("--harbor-username", default=DEFAULT_HARBOR_USERNAME)
    parser.add_argument("--harbor-password", default=DEFAULT_HARBOR_PASSWORD)
    parser.add_argument("--projects-json", type=Path, help="JSON list of projects (wire format)")
    parser.add_argument("--token-ttl", type=float, default=3600.0, help="seconds")
    return parser.parse_args(argv)


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fake backend in the foreground; prints its URL on the first line."""
    args = _parse_args(argv)
    projects = (
        json.loads(args.projects_json.read_text()) if args.projects_json else sample_projects()
    )
    backend = FakeBackend(
        username=args.username,
        password=args.password,
        harbor_url=args.harbor_url,
        harbor_username=args.harbor_username,
        harbor_password=args.harbor_password,
        projects=projects,
        token_ttl=args.token_ttl,
        host=args.host,
        port=args.port,
    )
    with _stop_on_signals() as stop, backend:
        print(backend.url, flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
