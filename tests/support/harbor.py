"""A Harbor-faithful registry for the test stack: token auth, robot scopes, Harbor's errors.

Harbor puts the CNCF distribution registry behind its own token service. This
module rebuilds that arrangement from real parts on 127.0.0.1:

* :class:`TokenService` — our own ``/service/token`` over TLS. Like Harbor's,
  it takes the robot account's Basic credentials, reads the requested
  ``scope=`` values and grants, per robot and project, push+pull, pull only or
  nothing; a project that does not exist gets an empty grant (Harbor does the
  same). Tokens are JWTs signed RS256 with a key whose certificate the
  registry trusts (``rootcertbundle``); the certificate travels in the
  ``x5c`` header, which distribution 2.8 verifies against that bundle.
* :func:`start_token_registry` — the real ``docker-registry`` with ``auth:
  token`` (realm, ``service: harbor-registry``, issuer, rootcertbundle).
* :class:`HarborErrors` — answers for the fault proxy
  (:meth:`~tests.support.fault_proxy.FaultProxy.answer_with`) with Harbor's
  bodies at the points Harbor gives them: the storage quota on the first
  completed blob upload, the count quota on the manifest put, ``denied`` for
  a push the robot may not do, ``NOT_FOUND`` for a project that does not exist.

Used by the pytest fixtures and the demo (``scripts/demo --harbor``), so no
pytest import here.

Facts this relies on, checked against docker-registry 2.8.2 and podman 4.3.1:

* distribution 2.8 verifies a token's signing key from the ``x5c`` header
  (chain checked against ``rootcertbundle``), else a ``jwk`` header, else a
  ``kid`` that must equal the libtrust fingerprint of a bundle key; ``aud``
  is a single string compared with ``service``.
* podman asks the token service with ``account=<robot>`` (its ``+``
  percent-encoded: the name arrives intact) and, for a push, the scope
  ``repository:P/R:pull,push``; it checks the realm's TLS with the registry
  host's certs.d entry (the token service's own port needs none).
* distribution answers a token without ``push`` with ``denied: requested
  access to the resource is denied``; podman retries a 404 on the upload
  start (Harbor's missing project) a few times before it reports it.
* A HEAD answer must not carry a body, or podman reads the next answer on
  that connection wrongly.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.fault_proxy import FaultProxy, InjectedAnswer, start_fault_proxy
from tests.support.services import (
    RegistryHandle,
    free_port,
    make_self_signed_cert,
    spawn_registry,
    wait_for_registry,
)
from tests.support.tls_server import ThreadingTLSServer

SERVICE = "harbor-registry"
ISSUER = "harbor-token-issuer"
TOKEN_PATH = "/service/token"
TOKEN_LIFETIME = 1800  # Harbor's default token expiration, 30 minutes

PUSH_PULL = frozenset({"push", "pull"})
PULL = frozenset({"pull"})
NOTHING: frozenset[str] = frozenset()
ALL = frozenset({"*"})

PROJECT = "kitech-model"
"""The Harbor project every robot below belongs to (the CLI's default project)."""
MISSING_PROJECT = "no-such-project"
"""A project name no robot has and the token service does not know."""

PUSH_ROBOT = "robot$kitech-model+ci"
PULL_ROBOT = "robot$kitech-model+reader"
NO_ACCESS_ROBOT = "robot$kitech-model+nothing"
ADMIN = "harbor-admin"
"""An account with every right; the test helpers use it to read what was pushed."""


@dataclass(frozen=True)
class Robot:
    """A Harbor robot account: its secret and the actions it has per project."""

    name: str
    password: str
    projects: Mapping[str, frozenset[str]]

    def allowed(self, project: str) -> frozenset[str]:
        """The actions this robot may do in ``project`` (empty when it has none)."""
        return self.projects.get(project, self.projects.get("*", NOTHING))


def default_robots() -> dict[str, Robot]:
    """The robots of the test Harbor: push+pull, pull only, nothing, and an admin."""

    def secret() -> str:
        # Harbor robot secrets are 32 random letters and digits.
        return secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")

    robots = [
        Robot(PUSH_ROBOT, secret(), {PROJECT: PUSH_PULL}),
        Robot(PULL_ROBOT, secret(), {PROJECT: PULL}),
        Robot(NO_ACCESS_ROBOT, secret(), {PROJECT: NOTHING}),
        Robot(ADMIN, secret(), {"*": ALL}),
    ]
    return {robot.name: robot for robot in robots}


@dataclass
class TokenRequest:
    """One request the token service answered."""

    username: str | None
    account: str | None
    scopes: list[str]
    status: int
    granted: list[dict[str, Any]] = field(default_factory=list)
    token: str = field(default="", repr=False)


# --------------------------------------------------------------------------- token service


def parse_scope(scope: str) -> tuple[str, str, list[str]] | None:
    """``repository:p/r:push,pull`` → ``("repository", "p/r", ["push", "pull"])``; None if bad."""
    kind, sep, rest = scope.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not kind or not name:
        return None
    return kind, name, [action for action in actions.split(",") if action]


class TokenService:
    """Harbor's ``/service/token`` on 127.0.0.1 over TLS, in a daemon thread.

    ``projects`` are the Harbor projects that exist; a scope on any other
    project is granted nothing. ``robots`` maps account names to
    :class:`Robot`. Every request is recorded in :attr:`requests`.
    Tokens are signed with ``signing_key`` and carry ``signing_cert`` (the
    registry's ``rootcertbundle``) in their ``x5c`` header.
    """

    def __init__(
        self,
        robots: Mapping[str, Robot],
        projects: set[str],
        tls_cert: Path,
        tls_key: Path,
        signing_cert: Path,
        signing_key: Path,
    ) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        self.robots = dict(robots)
        self.projects = set(projects)
        self.requests: list[TokenRequest] = []
        self._lock = threading.Lock()
        self._signing_key = signing_key.read_bytes()
        certificate = x509.load_pem_x509_certificate(signing_cert.read_bytes())
        self._x5c = [
            base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()
        ]
        self._server = ThreadingTLSServer(
            ("127.0.0.1", 0), _TokenHandler, self, tls=(tls_cert, tls_key)
        )
        self.host = f"127.0.0.1:{self._server.port}"
        self.realm = f"https://{self.host}{TOKEN_PATH}"
        self._server.start("harbor-token-service")

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        self._server.stop()

    def reset(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self.requests.clear()

    def grant(self, username: str | None, scopes: list[str]) -> list[dict[str, Any]]:
        """The ``access`` claim for ``username`` asking for ``scopes`` (Harbor's rules)."""
        robot = self.robots.get(username or "")
        access: list[dict[str, Any]] = []
        for scope in scopes:
            parsed = parse_scope(scope)
            if parsed is None:
                continue
            kind, name, wanted = parsed
            allowed: frozenset[str] = NOTHING
            if robot is not None:
                if kind == "repository":
                    project = name.split("/", 1)[0]
                    # Harbor grants nothing on a project that does not exist.
                    allowed = robot.allowed(project) if project in self.projects else NOTHING
                elif kind == "registry":
                    allowed = robot.allowed("*")
            actions = wanted if "*" in allowed else [a for a in wanted if a in allowed]
            access.append({"type": kind, "name": name, "actions": actions})
        return access

    def issue(self, subject: str, access: list[dict[str, Any]]) -> str:
        """A signed JWT as distribution 2.8 accepts it (``x5c`` header, RS256)."""
        import jwt

        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + TOKEN_LIFETIME,
            "nbf": now - 5,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        return jwt.encode(claims, self._signing_key, algorithm="RS256", headers={"x5c": self._x5c})

    def _record(self, request: TokenRequest) -> None:
        with self._lock:
            self.requests.append(request)


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


class _TokenHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingTLSServer[TokenService]

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _send(self, status: int, body: dict[str, Any], extra: Mapping[str, str] = {}) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        service = self.server.owner
        url = urlsplit(self.path)
        if url.path != TOKEN_PATH:
            self._send(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
            return
        # Go's url.Query() decodes like parse_qs: a raw "+" becomes a space, so a
        # client that does not percent-encode "robot$p+ci" sends another name.
        query = parse_qs(url.query, keep_blank_values=True)
        scopes = [scope for value in query.get("scope", []) for scope in value.split(" ")]
        account = (query.get("account") or [None])[0]
        credentials = _basic_credentials(self.headers.get("Authorization"))
        username = credentials[0] if credentials else None
        record = TokenRequest(username, account, scopes, 200)
        robot = service.robots.get(username or "")
        if credentials is not None and (robot is None or robot.password != credentials[1]):
            record.status = 401
            service._record(record)
            self._send(
                401,
                {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
                {"WWW-Authenticate": 'Basic realm="harbor"'},
            )
            return
        if account is not None and credentials is not None and account != username:
            record.status = 400
            service._record(record)
            self._send(
                400,
                {
                    "errors": [
                        {
                            "code": "BAD_REQUEST",
                            "message": f"account {account!r} does not match the credentials",
                        }
                    ]
                },
            )
            return
        record.granted = service.grant(username, scopes)
        token = service.issue(username or "", record.granted)
        record.token = token
        service._record(record)
        issued = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._send(
            200,
            {"token": token, "access_token": token, "expires_in": TOKEN_LIFETIME,
             "issued_at": issued},
        )  # fmt: skip


# --------------------------------------------------------------------------- registry


_CHALLENGE_PARAM_RE = re.compile(r'(\w+)="([^"]*)"')


@dataclass
class TokenRegistryHandle(RegistryHandle):
    """A ``docker-registry`` with ``auth: token``; the queries fetch tokens as ``username``."""

    token_service: TokenService | None = field(default=None, repr=False)

    def _request(
        self, path: str, method: str = "GET", accept: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        context = ssl.create_default_context(cafile=str(self.ca_cert)) if self.ca_cert else None
        headers = {"Accept": accept} if accept else {}
        status, answer_headers, body = self._open(path, method, headers, context)
        challenge = next(
            (value for key, value in answer_headers.items() if key.lower() == "www-authenticate"),
            "",
        )
        if status != 401 or not challenge.startswith("Bearer "):
            return status, answer_headers, body
        params = dict(_CHALLENGE_PARAM_RE.findall(challenge))
        query = "&".join(
            f"{key}={urllib.request.quote(params[key], safe='')}"
            for key in ("service", "scope")
            if key in params
        )
        basic = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        request = urllib.request.Request(
            f"{params['realm']}?{query}", headers={"Authorization": f"Basic {basic}"}
        )
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            token = json.loads(response.read())["token"]
        return self._open(path, method, {**headers, "Authorization": f"Bearer {token}"}, context)


def start_token_registry(
    workdir: Path,
    token_service: TokenService,
    signing_cert: Path,
    tls: tuple[Path, Path],
    reader: Robot,
) -> TokenRegistryHandle:
    """Start ``docker-registry`` with ``auth: token`` pointing at ``token_service``.

    ``tls`` is the (cert, key) pair it serves with; ``signing_cert`` is its
    ``rootcertbundle``. ``reader`` is the account the handle's read-only
    queries (catalog, tags, manifests) use. Waits until ``/v2/`` answers 401
    with a Bearer challenge. Raises ServiceError if it does not start.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cert, key = tls
    process = spawn_registry(
        workdir,
        port,
        tls,
        f"  token:\n    realm: {token_service.realm}\n    service: {SERVICE}\n"
        f"    issuer: {ISSUER}\n    rootcertbundle: {signing_cert}\n",
    )
    handle = TokenRegistryHandle(
        url=f"https://127.0.0.1:{port}",
        host=f"127.0.0.1:{port}",
        ca_cert=cert,
        username=reader.name,
        password=reader.password,
        workdir=workdir,
        process=process,
        cert_key=key,
        token_service=token_service,
    )
    wait_for_registry(
        handle,
        lambda e: e.code == 401 and "Bearer" in (e.headers.get("WWW-Authenticate") or ""),
        f"token-auth docker-registry on {handle.host}",
    )
    return handle


# --------------------------------------------------------------------------- Harbor's errors


def harbor_error(status: int, code: str, message: str) -> InjectedAnswer:
    """An answer in Harbor's error shape: ``{"errors": [{"code", "message"}]}``."""
    body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
    return status, {"Content-Type": "application/json; charset=utf-8"}, body


def _repository_of(path: str) -> str | None:
    """``/v2/p/r/blobs/uploads/x`` → ``p/r``; None for ``/v2/`` and non-v2 paths."""
    match = re.match(r"^/v2/(.+?)/(?:blobs|manifests|tags)/", urlsplit(path).path)
    return match.group(1) if match else None


class HarborErrors:
    """Responders for :meth:`FaultProxy.answer_with` that answer like Harbor does.

    Each method returns a responder; install it with
    ``proxy.answer_with(HarborErrors.storage_quota(...))``.
    """

    @staticmethod
    def storage_quota(adding: str, usage: str, limit: str) -> Any:
        """403 DENIED on the first completed blob upload (Harbor checks quota there)."""

        def respond(method: str, path: str) -> InjectedAnswer | None:
            if method == "PUT" and "/blobs/uploads/" in path and "digest=" in path:
                return harbor_error(
                    403,
                    "DENIED",
                    f"adding {adding} of storage resource, which when updated to current "
                    f"usage of {usage} will exceed the configured upper limit of {limit}.",
                )
            return None

        return respond

    @staticmethod
    def count_quota(usage: int, limit: int) -> Any:
        """403 DENIED on the manifest put (the artifact count is checked there)."""

        def respond(method: str, path: str) -> InjectedAnswer | None:
            if method == "PUT" and "/manifests/" in path:
                return harbor_error(
                    403,
                    "DENIED",
                    f"adding 1 of count resource, which when updated to current usage of "
                    f"{usage} will exceed the configured upper limit of {limit}.",
                )
            return None

        return respond

    @staticmethod
    def project_not_found(project: str) -> Any:
        """404 NOT_FOUND for every request inside ``project`` (Harbor's v2 auth check)."""

        def respond(method: str, path: str) -> InjectedAnswer | None:
            repository = _repository_of(path)
            if repository is not None and repository.split("/", 1)[0] == project:
                return harbor_error(404, "NOT_FOUND", f"project {project} not found")
            return None

        return respond

    @staticmethod
    def push_denied(challenge_realm: str) -> Any:
        """401 "unauthorized to access repository … action: push" on the upload start."""

        def respond(method: str, path: str) -> InjectedAnswer | None:
            repository = _repository_of(path)
            if method == "POST" and repository and path.startswith(f"/v2/{repository}/blobs/"):
                text = f"unauthorized to access repository: {repository}, action: push"
                status, headers, body = harbor_error(401, "UNAUTHORIZED", f"{text}: {text}")
                challenge = (
                    f'Bearer realm="{challenge_realm}",service="{SERVICE}",'
                    f'scope="repository:{repository}:pull,push"'
                )
                return status, {**headers, "WWW-Authenticate": challenge}, body
            return None

        return respond


# --------------------------------------------------------------------------- the whole Harbor


@dataclass
class HarborStack:
    """Token service + token-auth registry + Harbor-error proxy, as one Harbor."""

    token_service: TokenService
    registry: TokenRegistryHandle
    proxy: FaultProxy
    robots: dict[str, Robot]
    workdir: Path

    @property
    def ca_cert(self) -> Path:
        """The CA that signs the TLS certificate of all three (one self-signed cert)."""
        assert self.registry.ca_cert is not None
        return self.registry.ca_cert

    def robot(self, name: str) -> Robot:
        """The robot account called ``name``."""
        return self.robots[name]

    def reset(self) -> None:
        """Clear the proxy's faults and log and the token service's log."""
        self.proxy.reset()
        self.token_service.reset()

    def stop(self) -> None:
        """Stop the proxy, the registry and the token service (idempotent)."""
        with contextlib.suppress(Exception):
            self.proxy.stop()
        self.registry.stop()
        with contextlib.suppress(Exception):
            self.token_service.stop()


def start_harbor(
    workdir: Path,
    tls: tuple[Path, Path] | None = None,
    projects: set[str] | None = None,
    robots: Mapping[str, Robot] | None = None,
) -> HarborStack:
    """Start the token service, the token-auth registry and a Harbor-error proxy.

    ``tls`` is the (cert, key) pair for all three servers (a fresh
    self-signed one when None); reuse another registry's pair so one CA bundle
    trusts both. The token-signing key is separate, as in Harbor.
    Raises ServiceError if a service does not start.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    tls = tls or make_self_signed_cert(workdir / "tls")
    signing_cert, signing_key = make_self_signed_cert(workdir / "token-signing")
    robots = dict(robots or default_robots())
    token_service = TokenService(
        robots, projects or {PROJECT}, tls[0], tls[1], signing_cert, signing_key
    )
    registry = proxy = None
    try:
        registry = start_token_registry(
            workdir / "registry", token_service, signing_cert, tls, robots[ADMIN]
        )
        proxy = start_fault_proxy(registry)
    except BaseException:
        if registry is not None:
            registry.stop()
        token_service.stop()
        raise
    return HarborStack(token_service, registry, proxy, robots, workdir)


@contextlib.contextmanager
def running_harbor(workdir: Path, tls: tuple[Path, Path] | None = None) -> Iterator[HarborStack]:
    """:func:`start_harbor` as a context manager that stops everything on exit."""
    stack = start_harbor(workdir, tls)
    try:
        yield stack
    finally:
        stack.stop()
