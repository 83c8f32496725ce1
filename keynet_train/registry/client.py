"""The registry client: Harbor robot credentials against ``/v2/``, and manifest digests.

:class:`RegistryClient` is shaped like the backend's client: built once with
the credentials and the TLS settings, it offers
:meth:`~RegistryClient.verify_push_access` and
:meth:`~RegistryClient.manifest_digest` (docs/platform-contract.md, "The
registry"). Authentication is :class:`RegistryAuth`, an ``httpx.Auth`` flow,
and retries follow :data:`~keynet_train.backend.http.REGISTRY_RETRIES`.

The Docker registry API v2 answers an anonymous ``GET /v2/`` with 401 and a
``WWW-Authenticate`` challenge:

* ``Basic realm="..."`` (plain distribution with htpasswd): repeat with Basic auth;
* ``Bearer realm="https://h/service/token",service="harbor-registry"`` (Harbor):
  fetch a token from the realm with Basic auth, then repeat with the token.

A 200 at the end means the credentials work. A registry that answers the
anonymous ``GET /v2/`` with 200 checks nothing: the result then says the
credentials were *not* verified (:class:`RegistryCheck`), and nothing was sent.

Robot credentials never travel over plain ``http://`` to a host that is not
this machine unless ``insecure`` (``--insecure-registry``) allows it, for the
registry and for its token service alike. The password is never put into
any message: errors carry the registry's own message (``unauthorized:
authentication required``) and a hint.

Given a project, the token is requested for ``repository:P/keynet-train-check:push,pull``
(docs/platform-contract.md). Harbor answers a robot that may not push with a token that
simply lacks ``push`` (and an empty grant for a project that does not exist),
so the granted actions in the token's ``access`` claim are read; when
``push`` is missing, one more request inside the project tells a missing
project (Harbor's ``NOT_FOUND``) from a missing permission. The token is
only decoded, never trusted: the registry checks it again on every push.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Generator
from urllib.parse import urljoin, urlsplit

import httpx

from keynet_train.backend.http import (
    MAX_RESPONSE_BYTES,
    REGISTRY_RETRIES,
    DebugLog,
    HttpClientOwner,
    ResponseTooLargeError,
    create_http_client,
    describe_transport_error,
    send_with_retries,
)
from keynet_train.backend.tls import tls_failure, tls_failure_text
from keynet_train.config import RegistryCredentials
from keynet_train.errors import (
    KeynetError,
    RegistryAuthError,
    RegistryError,
)
from keynet_train.registry.answers import (
    CHECK_REPOSITORY,
    MANIFEST_TYPES,
    RELOGIN_HINT,
    RegistryCheck,
    checked_digest,
    denied,
    granted_actions,
    normalise_registry_url,
    parse_challenges,
    refuse_cleartext,
    registry_message,
    unexpected,
)
from keynet_train.registry.harbor_errors import project_not_found_error, push_denied
from keynet_train.secrets import redact
from keynet_train.urls import is_cleartext_remote

# /v2/<name>/manifests|tags|blobs/...: the repository a request is about.
_REPOSITORY_PATH_RE = re.compile(r"^/v2/(.+?)/(?:manifests|tags|blobs)/")


class RegistryAuth(httpx.Auth):
    """The Docker registry challenge flow (Basic, or Harbor's Bearer token service).

    A request goes out without credentials, or with the last token this flow
    obtained. On a 401 the ``WWW-Authenticate`` challenge decides: ``Basic``
    repeats the request with the robot's Basic credentials; ``Bearer`` asks
    the token service named by the challenge (``realm``) for a token, with
    Basic credentials and the ``scope`` the request needs, then repeats the
    request with the token. When the token service does not answer 200, its
    answer is the flow's result, so the caller can report it
    (:meth:`is_token_answer`).

    ``root_scope`` is the scope asked for ``/v2/`` itself (the push check
    sets it); a request inside a repository asks for ``pull`` on it unless
    the challenge names its own scope.
    """

    requires_response_body = True

    def __init__(
        self,
        base: str,
        credentials: RegistryCredentials,
        *,
        insecure: bool = False,
        secrets: list[str] | None = None,
    ) -> None:
        self.base = base
        self.username = credentials.username
        self._credentials = credentials
        self._insecure = insecure
        self._secrets = secrets if secrets is not None else []
        self.root_scope: str | None = None
        #: The last token obtained, sent with every later request of this client.
        self.token: str | None = None
        #: Whether any credentials were sent (an open registry never asks).
        self.credentials_sent = False
        self._token_requests: list[httpx.Request] = []

    def is_token_answer(self, response: httpx.Response) -> bool:
        """Whether ``response`` came from the token service rather than the registry."""
        return any(response.request is request for request in self._token_requests)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Send ``request``, answering the registry's challenge once.

        Raises:
            RegistryError: an unsupported scheme, a Bearer challenge without a
                usable realm (missing, or plain http:// where it must not be),
                or a token service that answered 200 without a token.
        """
        if self.token:
            request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code != 401:
            return
        challenges = parse_challenges(response.headers.get_list("www-authenticate"))
        schemes = {scheme: params for scheme, params in reversed(challenges)}
        if "bearer" in schemes:
            token_request = self._token_request(dict(schemes["bearer"]), request.url.path)
            self.credentials_sent = True
            answer = yield token_request
            if answer.status_code != 200:
                return
            self.token = self._token_from(answer)
            self._secrets.append(self.token)
            yield _with_authorization(request, f"Bearer {self.token}")
        elif "basic" in schemes:
            self.credentials_sent = True
            yield _with_authorization(request, _basic_header(self._credentials))
        else:
            offered = ", ".join(scheme for scheme, _ in challenges) or "none"
            raise RegistryError(
                f"Registry {self.base} asks for an unsupported authentication scheme ({offered})",
                "keynet-train supports Basic and Bearer token registry authentication.",
            )

    def _token_request(self, params: dict[str, str], path: str) -> httpx.Request:
        """The token-service request for the Bearer challenge ``params`` (Docker token protocol).

        Raises:
            RegistryError: the realm is missing, plain http:// where the registry
                is https://, or plain http:// on another host without ``insecure``.
        """
        realm = params.get("realm")
        if not realm:
            raise RegistryError(
                f"Registry {self.base} sent a Bearer challenge without a realm",
                "The registry is misconfigured; contact the platform team.",
            )
        realm_url = urljoin(self.base + "/", realm)
        if urlsplit(realm_url).scheme != "https" and urlsplit(self.base).scheme == "https":
            # Sending the robot password in clear to a token service the HTTPS
            # registry pointed us at would downgrade its protection.
            raise RegistryError(
                f"Registry {self.base} points to a token service over plain HTTP ({realm_url}); "
                "refusing to send credentials",
                "The registry is misconfigured; contact the platform team.",
            )
        if is_cleartext_remote(realm_url) and not self._insecure:
            raise refuse_cleartext(realm_url, self.username, "the token service")
        scope = self._scope(path)
        if path.rstrip("/") == "/v2" and scope:
            params["scope"] = scope  # the push check's own question
        elif scope:
            params.setdefault("scope", scope)
        query = {key: params[key] for key in ("service", "scope") if params.get(key)}
        # Harbor and docker send the account name too; httpx percent-encodes it, so
        # a robot name's "$" and "+" arrive intact (a raw "+" would read as a space).
        query["account"] = self.username
        request = httpx.Request(
            "GET",
            realm_url,
            params=query,
            headers={"Authorization": _basic_header(self._credentials)},
        )
        self._token_requests.append(request)
        return request

    def _scope(self, path: str) -> str | None:
        if path.rstrip("/") == "/v2":
            return self.root_scope
        match = _REPOSITORY_PATH_RE.match(path)
        return f"repository:{match.group(1)}:pull" if match else None

    def _token_from(self, answer: httpx.Response) -> str:
        try:
            data = json.loads(answer.content)
        except (ValueError, RecursionError):
            data = None
        token = None
        if isinstance(data, dict):
            token = data.get("token") or data.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError(
                f"The token service of registry {self.base} returned no token",
                "The registry is misconfigured; contact the platform team.",
            )
        return token


def _with_authorization(request: httpx.Request, value: str) -> httpx.Request:
    """A copy of the (bodiless) ``request`` carrying ``Authorization: value``."""
    headers = httpx.Headers(request.headers)
    headers["Authorization"] = value
    return httpx.Request(
        request.method, request.url, headers=headers, extensions=request.extensions
    )


def _basic_header(credentials: RegistryCredentials) -> str:
    # The one place the registry client reveals the robot password.
    pair = f"{credentials.username}:{credentials.password.reveal()}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


class RegistryClient(HttpClientOwner):
    """The registry of ``credentials.url``, seen with that robot account.

    Use as a context manager (it owns an HTTP client from
    :func:`~keynet_train.backend.http.create_http_client`). ``insecure``
    disables TLS verification and allows plain ``http://`` to another host
    (``--insecure-registry``). ``transport``, ``timeout`` and ``sleep`` (the
    backoff) exist for tests.

    Raises (on construction):
        RegistryError: the URL has no host or carries a user name or password.
        ConfigError: the CA bundle is missing or unusable.
    """

    def __init__(
        self,
        credentials: RegistryCredentials,
        *,
        ca_bundle: str | None = None,
        insecure: bool = False,
        debug_log: DebugLog | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base = normalise_registry_url(credentials.url)
        self.username = credentials.username
        self._insecure = insecure
        self._ca_bundle = ca_bundle  # shapes the hint of a TLS failure
        self._sleep = sleep
        # Known to the redaction of debug logs and messages, never printed.
        self._secrets = [credentials.password.reveal()]
        self._auth = RegistryAuth(self.base, credentials, insecure=insecure, secrets=self._secrets)

        def scrubbed_log(text: str) -> None:
            if debug_log is not None:
                debug_log(redact(text, self._secrets))

        self._client = create_http_client(
            None,
            ca_bundle=ca_bundle,
            verify=not insecure,
            debug_log=scrubbed_log if debug_log is not None else None,
            transport=transport,
            timeout=timeout,
        )

    @property
    def cleartext(self) -> bool:
        """The registry is plain http:// on another host and ``insecure`` does not allow it."""
        return is_cleartext_remote(self.base) and not self._insecure

    def verify_push_access(self, project: str | None = None) -> RegistryCheck:
        """Check that the robot may log in, and with ``project``, push to that Harbor project.

        Basic registries have no scopes to ask about, so ``project`` counts
        only where the registry hands out tokens. Returns what was checked: an
        open registry (200 without credentials) checks nothing. Transient
        failures (5xx, network) are retried (REGISTRY_RETRIES).

        Raises:
            RegistryAuthError: the registry or its token service rejected the
                credentials (401); includes the registry's message.
            RegistryPermissionError: the credentials work but the robot may not
                push to ``project``, or the registry answered 403 (denied).
            HarborProjectNotFoundError: ``project`` does not exist in Harbor.
            RegistryError: the registry cannot be reached (network, TLS — the hint
                names KEYNET_CA_BUNDLE), answers unexpectedly, or is not a registry;
                or it (or its token service) is plain http:// on another host
                without ``insecure`` (nothing is sent then).
        """
        if self.cleartext:
            raise refuse_cleartext(self.base, self.username, "the registry")
        if project:
            self._auth.root_scope = f"repository:{project}/{CHECK_REPOSITORY}:push,pull"
        final = self._get(f"{self.base}/v2/")
        if final.status_code == 200:
            if not self._auth.credentials_sent:
                # An open registry: it asked for no credentials, so none were sent
                # or checked. Saying "verified" here would be false.
                return RegistryCheck(credentials_checked=False)
            if project and self._auth.token:
                self._require_push(self._auth.token, project)
            return RegistryCheck(credentials_checked=True)
        token_service = self._auth.is_token_answer(final)
        if final.status_code == 403:
            denied_project = None if token_service else project
            raise denied(final, self.username, denied_project, self._secrets)
        if final.status_code == 401 and self._auth.credentials_sent:
            source = " from the token service" if token_service else ""
            raise RegistryAuthError(
                f"Harbor Registry authentication failed for {self.username} at {self.base} "
                f"({final.status_code}{source}): {registry_message(final, self._secrets)}",
                RELOGIN_HINT,
            )
        what = "token service" if token_service else "registry"
        raise unexpected(final, self.base, self._secrets, what=what)

    def manifest_digest(
        self, repository: str, tag: str, expected_config: str | None = None
    ) -> str | None:
        """The digest of the manifest the registry holds for ``repository:tag``, checked.

        ``GET /v2/<repository>/manifests/<tag>`` with the robot credentials
        (Basic, or a Bearer token for ``repository:<repository>:pull``). This is
        how a push learns its digest without podman 4.3's Docker-compatible push
        endpoint, which leaves a ``digest.txtNNN`` file in the service's TMPDIR for
        every call. The registry is not simply believed: the digest is computed
        from the manifest's bytes and must equal its ``Docker-Content-Digest``
        header, and the manifest must name ``expected_config`` (the image ID podman
        computed, which is the digest of the image's config) as its config.

        Returns None when the registry cannot tell (unreachable, not found,
        refused): the push itself has succeeded by then.

        Raises:
            RegistryError: the registry's answer contradicts itself or the image
                podman pushed (a different digest or config): it is not believed.
        """
        if self.cleartext:
            return None  # the credentials are not sent in clear (the push checked this first)
        url = f"{self.base}/v2/{repository}/manifests/{tag}"
        try:
            response = self._client.get(url, headers={"Accept": MANIFEST_TYPES}, auth=self._auth)
        except (KeynetError, httpx.HTTPError):
            return None
        if response.status_code != 200 or not response.content:
            return None
        return checked_digest(response, f"{self.base}/{repository}:{tag}", expected_config)

    def _require_push(self, token: str, project: str) -> None:
        """Raise unless ``token`` grants ``push`` on the check repository of ``project``.

        A token that is not a readable JWT proves nothing either way: the push
        itself will then report a refusal.

        Raises:
            RegistryPermissionError: the grant lacks ``push``.
            HarborProjectNotFoundError: Harbor says the project does not exist.
        """
        repository = f"{project}/{CHECK_REPOSITORY}"
        granted = granted_actions(token, repository)
        if granted is None or "push" in granted or "*" in granted:
            return
        # Harbor checks that the project exists before it looks at the token's
        # rights, so a request inside the project (with the same token) tells
        # the two cases apart.
        probe = self._get(f"{self.base}/v2/{repository}/tags/list")
        if probe.status_code == 404:
            missing = project_not_found_error(registry_message(probe, self._secrets), project)
            if missing is not None:
                raise missing
        have = ", ".join(sorted(granted)) or "nothing"
        reason = f"the token service granted {have} on {repository}"
        raise push_denied(self.username, project, reason)

    def _get(self, url: str) -> httpx.Response:
        """GET ``url`` through the auth flow, retrying transient failures (REGISTRY_RETRIES).

        Raises:
            RegistryError: TLS verification failed, the answer was too large, or
                the network failed on every attempt.
        """
        # The check is idempotent, so transient failures are tried again
        # instead of failing a push the registry would take.
        try:
            return send_with_retries(
                lambda: self._client.get(url, auth=self._auth),
                REGISTRY_RETRIES,
                idempotent=True,
                sleep=self._sleep,
            )
        except httpx.TransportError as exc:
            raise self._transport_error(exc, url) from None

    def _transport_error(self, exc: httpx.TransportError, url: str) -> RegistryError:
        base = self.base
        if isinstance(exc, ResponseTooLargeError):
            return RegistryError(
                f"Registry {base} sent an answer larger than "
                f"{MAX_RESPONSE_BYTES // (1024 * 1024)} MiB to {urlsplit(url).path}",
                "The Harbor URL may point at the wrong service; contact the platform team.",
            )
        failure = tls_failure(exc)
        if failure is not None:
            message, hint = tls_failure_text(*failure, f"registry {base}", self._ca_bundle)
            return RegistryError(message, hint)
        return RegistryError(
            f"Cannot reach registry {base}: {redact(describe_transport_error(exc), self._secrets)}",
            "Check the network connection, proxy settings and that the registry is up.",
        )
