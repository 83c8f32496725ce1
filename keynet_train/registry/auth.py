"""Check Harbor robot credentials against the registry's ``/v2/`` (docs/platform-contract.md).

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
import binascii
import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from keynet_train.backend.http import (
    MAX_RESPONSE_BYTES,
    REGISTRY_RETRIES,
    DebugLog,
    ResponseTooLargeError,
    create_http_client,
    describe_transport_error,
    json_object,
    tls_failure,
    tls_failure_text,
)
from keynet_train.errors import (
    KeynetError,
    RegistryAuthError,
    RegistryError,
    RegistryPermissionError,
)
from keynet_train.registry.harbor_errors import project_not_found_error, push_denied
from keynet_train.secrets import redact
from keynet_train.urls import has_userinfo, is_cleartext_remote, mask_userinfo, split_http_url

RELOGIN_HINT = (
    "The Harbor robot credentials were rejected: re-login to refresh credentials "
    "(keynet-train login <url>); if it persists, ask the platform team to check the robot account."
)

CHECK_REPOSITORY = "keynet-train-check"
"""The repository named in the scope of the credential check; nothing is ever pushed to it."""

# Split before each "<scheme> " that starts a new challenge in one header.
_CHALLENGE_SPLIT_RE = re.compile(r",?\s*(?=\b(?:Basic|Bearer|Digest|Negotiate)\b\s)", re.I)

_PARAM_RE = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True)
class RegistryCheck:
    """What :func:`verify_registry_credentials` established."""

    credentials_checked: bool
    """False when the registry answered ``/v2/`` without asking for credentials:
    they were not sent, and nothing about them is known."""


def cleartext_registry_warning(registry_url: str, robot: str) -> str:
    """The warning for ``--insecure-registry`` with a plain-http registry on another host."""
    return (
        f"{registry_url} uses plain http:// to a host that is not this machine: the "
        f"password of robot account {robot} crosses the network unencrypted "
        "(--insecure-registry). Use an https:// registry unless this network is trusted."
    )


def _refuse_cleartext(url: str, robot: str, what: str) -> RegistryError:
    return RegistryError(
        f"Refusing to send the password of robot account {robot} over plain http:// to "
        f"{what} {url}, a host that is not this machine: it would cross the network "
        "unencrypted",
        "Ask the platform team for an https:// Harbor URL; if this network is trusted, "
        "pass --insecure-registry (login and push accept it).",
    )


def normalise_registry_url(registry_url: str) -> str:
    """``harbor.example.com/`` → ``https://harbor.example.com`` (https assumed).

    Raises:
        RegistryError: the URL has no host, or carries a user name or password.
    """
    if has_userinfo(registry_url):
        raise RegistryError(
            f"The registry URL {mask_userinfo(registry_url)} carries a user name or password; "
            "refused so that it is never stored, printed or sent",
            "The backend returned an unusable Harbor URL; contact the platform team.",
        )
    parts = split_http_url(registry_url)
    if parts is None:
        raise RegistryError(
            f"Invalid registry URL {registry_url!r}",
            "The backend returned an unusable Harbor URL; contact the platform team.",
        )
    return f"{parts.scheme}://{parts.netloc}"


def parse_challenges(headers: list[str]) -> list[tuple[str, dict[str, str]]]:
    """Parse ``WWW-Authenticate`` values into ``(scheme, params)``, scheme lower-case.

    Handles several challenges in one header (``Basic realm="a", Bearer
    realm="b"``) as well as repeated headers. Never raises.
    """
    challenges: list[tuple[str, dict[str, str]]] = []
    for header in headers:
        for raw in _CHALLENGE_SPLIT_RE.split(header):
            chunk = raw.strip().strip(",").strip()
            if not chunk:
                continue
            scheme, _, rest = chunk.partition(" ")
            params: dict[str, str] = {}
            for match in _PARAM_RE.finditer(rest):
                quoted, bare = match.group(2), match.group(3)
                value = quoted.replace('\\"', '"') if quoted is not None else bare
                params[match.group(1).lower()] = value
            challenges.append((scheme.lower(), params))
    return challenges


def verify_registry_credentials(
    registry_url: str,
    username: str,
    password: str,
    *,
    ca_bundle: str | None = None,
    insecure: bool = False,
    debug_log: DebugLog | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout | float | None = None,
    push_project: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RegistryCheck:
    """Succeed if ``username``/``password`` may log in to the registry at ``registry_url``.

    With ``push_project``, a Bearer registry must also grant ``push`` in that
    Harbor project (Basic registries have no scopes to ask about).
    ``insecure`` disables TLS verification and allows plain ``http://`` to
    another host (``--insecure-registry``). Returns what was checked: an
    open registry (200 without credentials) checks nothing.
    Transient failures (5xx, network) are retried, 3 attempts in all.
    ``transport``, ``timeout`` and ``sleep`` (the backoff) exist for tests.

    Raises:
        RegistryAuthError: the registry or its token service rejected the
            credentials (401); includes the registry's message.
        RegistryPermissionError: the credentials work but the robot may not
            push to ``push_project``, or the registry answered 403 (denied).
        HarborProjectNotFoundError: ``push_project`` does not exist in Harbor.
        RegistryError: the registry cannot be reached (network, TLS — the hint
            names KEYNET_CA_BUNDLE), answers unexpectedly, or is not a registry;
            or it (or its token service) is plain http:// on another host
            without ``insecure`` (nothing is sent then).
        ConfigError: the CA bundle is missing or unusable.
    """
    base = normalise_registry_url(registry_url)
    if is_cleartext_remote(base) and not insecure:
        raise _refuse_cleartext(base, username, "the registry")
    secrets = [password]

    def scrubbed_log(text: str) -> None:
        if debug_log is not None:
            debug_log(redact(text, secrets))

    with create_http_client(
        None,
        ca_bundle=ca_bundle,
        verify=not insecure,
        debug_log=scrubbed_log if debug_log is not None else None,
        transport=transport,
        timeout=timeout,
    ) as client:
        probe = _get(client, f"{base}/v2/", base, secrets, sleep=sleep, ca_bundle=ca_bundle)
        if probe.status_code == 200:
            # An open registry: it asked for no credentials, so none were sent
            # or checked. Saying "verified" here would be false.
            return RegistryCheck(credentials_checked=False)
        if probe.status_code != 401:
            raise _unexpected(probe, base, secrets)

        challenges = parse_challenges(probe.headers.get_list("www-authenticate"))
        schemes = {scheme: params for scheme, params in reversed(challenges)}
        if "bearer" in schemes:
            params = dict(schemes["bearer"])
            if push_project:
                params["scope"] = f"repository:{push_project}/{CHECK_REPOSITORY}:push,pull"
            token = _fetch_bearer_token(
                client,
                base,
                params,
                username,
                password,
                sleep,
                insecure=insecure,
                ca_bundle=ca_bundle,
            )
            secrets.append(token)
            final = _get(
                client, f"{base}/v2/", base, secrets, bearer=token, sleep=sleep, ca_bundle=ca_bundle
            )
            if final.status_code == 200 and push_project:
                _require_push(client, base, token, username, push_project, secrets)
        elif "basic" in schemes:
            final = _get(
                client,
                f"{base}/v2/",
                base,
                secrets,
                basic=(username, password),
                sleep=sleep,
                ca_bundle=ca_bundle,
            )
        else:
            offered = ", ".join(scheme for scheme, _ in challenges) or "none"
            raise RegistryError(
                f"Registry {base} asks for an unsupported authentication scheme ({offered})",
                "keynet-train supports Basic and Bearer token registry authentication.",
            )
        if final.status_code == 200:
            return RegistryCheck(credentials_checked=True)
        if final.status_code == 403:
            raise _denied(final, username, push_project, secrets)
        if final.status_code == 401:
            raise RegistryAuthError(
                f"Harbor Registry authentication failed for {username} at {base} "
                f"({final.status_code}): {_registry_message(final, secrets)}",
                RELOGIN_HINT,
            )
        raise _unexpected(final, base, secrets)


def _fetch_bearer_token(
    client: httpx.Client,
    base: str,
    params: dict[str, str],
    username: str,
    password: str,
    sleep: Callable[[float], None],
    *,
    insecure: bool,
    ca_bundle: str | None = None,
) -> str:
    """Get a token from the Bearer realm with Basic auth (Docker token protocol).

    Raises:
        RegistryError: the realm is missing, plain http:// where the registry
            is https://, or plain http:// on another host without ``insecure``;
            the token service failed or returned no token.
        RegistryAuthError / RegistryPermissionError: it rejected the credentials.
    """
    secrets = [password]
    realm = params.get("realm")
    if not realm:
        raise RegistryError(
            f"Registry {base} sent a Bearer challenge without a realm",
            "The registry is misconfigured; contact the platform team.",
        )
    realm_url = urljoin(base + "/", realm)
    if urlsplit(realm_url).scheme != "https" and urlsplit(base).scheme == "https":
        # Sending the robot password in clear to a token service the HTTPS
        # registry pointed us at would downgrade its protection.
        raise RegistryError(
            f"Registry {base} points to a token service over plain HTTP ({realm_url}); "
            "refusing to send credentials",
            "The registry is misconfigured; contact the platform team.",
        )
    if is_cleartext_remote(realm_url) and not insecure:
        raise _refuse_cleartext(realm_url, username, "the token service")
    query = {key: params[key] for key in ("service", "scope") if params.get(key)}
    # Harbor and docker send the account name too; httpx percent-encodes it, so
    # a robot name's "$" and "+" arrive intact (a raw "+" would read as a space).
    query["account"] = username
    response = _get(
        client,
        realm_url,
        base,
        secrets,
        basic=(username, password),
        params=query,
        sleep=sleep,
        ca_bundle=ca_bundle,
    )
    if response.status_code == 403:
        raise _denied(response, username, None, secrets)
    if response.status_code == 401:
        raise RegistryAuthError(
            f"Harbor Registry authentication failed for {username} at {base} "
            f"({response.status_code} from the token service): "
            f"{_registry_message(response, secrets)}",
            RELOGIN_HINT,
        )
    if response.status_code != 200:
        raise _unexpected(response, base, secrets, what="token service")
    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError):
        data = None
    token = None
    if isinstance(data, dict):
        token = data.get("token") or data.get("access_token")
    if not isinstance(token, str) or not token:
        raise RegistryError(
            f"The token service of registry {base} returned no token",
            "The registry is misconfigured; contact the platform team.",
        )
    return token


def _require_push(
    client: httpx.Client, base: str, token: str, robot: str, project: str, secrets: list[str]
) -> None:
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
    # rights, so a request inside the project tells the two cases apart.
    probe = _get(client, f"{base}/v2/{repository}/tags/list", base, secrets, bearer=token)
    if probe.status_code == 404:
        missing = project_not_found_error(_registry_message(probe, secrets), project)
        if missing is not None:
            raise missing
    have = ", ".join(sorted(granted)) or "nothing"
    raise push_denied(robot, project, f"the token service granted {have} on {repository}")


def granted_actions(token: str, repository: str) -> set[str] | None:
    """Actions a registry JWT grants on ``repository``; None if it is not a readable JWT.

    Reads the ``access`` claim of the Docker token spec without verifying the
    signature (the registry does that); never raises.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error):
        return None
    access = claims.get("access") if isinstance(claims, dict) else None
    if not isinstance(access, list):
        return None
    actions: set[str] = set()
    for entry in access:
        if (
            isinstance(entry, dict)
            and entry.get("type") == "repository"
            and entry.get("name") == repository
            and isinstance(entry.get("actions"), list)
        ):
            actions.update(str(action) for action in entry["actions"])
    return actions


def _denied(
    response: httpx.Response, robot: str, project: str | None, secrets: list[str]
) -> RegistryPermissionError:
    """A 403: the credentials were accepted but the action was not (not a re-login case)."""
    message = _registry_message(response, secrets)
    if project:
        return push_denied(robot, project, message)
    return RegistryPermissionError(
        f"The registry denied robot account {robot} access ({response.status_code}): {message}",
        "The robot credentials work but lack permission: ask the Harbor project admin to "
        "give the robot account push permission on the project you push to.",
    )


def _get(
    client: httpx.Client,
    url: str,
    base: str,
    secrets: list[str],
    *,
    basic: tuple[str, str] | None = None,
    bearer: str | None = None,
    params: dict[str, str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    ca_bundle: str | None = None,
) -> httpx.Response:
    """GET ``url``, retrying transient failures. ``ca_bundle`` shapes the TLS hint.

    Raises:
        RegistryError: TLS verification failed, or the network failed 3 times.
    """
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    # The check is idempotent, so transient failures are tried again
    # (REGISTRY_RETRIES) instead of failing a push the registry would take.
    attempt = 0
    while True:
        attempt += 1
        try:
            response = client.get(url, auth=basic, headers=headers, params=params)
        except httpx.TransportError as exc:
            if REGISTRY_RETRIES.retries_failure(exc, attempt, idempotent=True):
                sleep(REGISTRY_RETRIES.delay(attempt))
                continue
            if isinstance(exc, ResponseTooLargeError):
                raise RegistryError(
                    f"Registry {base} sent an answer larger than "
                    f"{MAX_RESPONSE_BYTES // (1024 * 1024)} MiB to {urlsplit(url).path}",
                    "The Harbor URL may point at the wrong service; contact the platform team.",
                ) from None
            failure = tls_failure(exc)
            if failure is not None:
                message, hint = tls_failure_text(*failure, f"registry {base}", ca_bundle)
                raise RegistryError(message, hint) from None
            raise RegistryError(
                f"Cannot reach registry {base}: {redact(describe_transport_error(exc), secrets)}",
                "Check the network connection, proxy settings and that the registry is up.",
            ) from None
        if not REGISTRY_RETRIES.retries_response(response, attempt, idempotent=True):
            return response
        sleep(REGISTRY_RETRIES.delay(attempt, response.headers.get("Retry-After")))


def _registry_message(response: httpx.Response, secrets: list[str]) -> str:
    """The registry's error text, e.g. ``unauthorized: authentication required``."""
    text = ""
    data = json_object(response.content)
    if data is not None:
        errors = data.get("errors")
        if isinstance(errors, list):
            parts = []
            for item in errors:
                if isinstance(item, dict):
                    code = str(item.get("code") or "").lower()
                    message = str(item.get("message") or "")
                    parts.append(f"{code}: {message}" if code and message else code or message)
            text = "; ".join(part for part in parts if part)
        if not text:
            for key in ("message", "error", "detail"):
                if isinstance(data.get(key), str):
                    text = str(data[key])
                    break
    if not text:
        text = " ".join(response.text.split())[:300]
    return redact(text or response.reason_phrase or f"HTTP {response.status_code}", secrets)


def _unexpected(
    response: httpx.Response, base: str, secrets: list[str], what: str = "registry"
) -> RegistryError:
    status = response.status_code
    message = _registry_message(response, secrets)
    if status == 404 and what == "registry":
        return RegistryError(
            f"{base} is not a container registry (GET /v2/ returned 404)",
            "The Harbor URL returned at sign-in looks wrong; contact the platform team.",
        )
    return RegistryError(
        f"Unexpected answer from the {what} of {base}: HTTP {status}: {message}",
        "Try again later; if it persists, contact the platform team.",
    )


# Every manifest kind podman may push; the registry answers with the digest of
# the one it stored.
_MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    )
)


def manifest_digest(
    registry_url: str,
    repository: str,
    tag: str,
    username: str,
    password: str,
    *,
    ca_bundle: str | None = None,
    insecure: bool = False,
    debug_log: DebugLog | None = None,
    transport: httpx.BaseTransport | None = None,
    expected_config: str | None = None,
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
    secrets = [password]

    def scrubbed_log(text: str) -> None:
        if debug_log is not None:
            debug_log(redact(text, secrets))

    try:
        base = normalise_registry_url(registry_url)
        if is_cleartext_remote(base) and not insecure:
            return None  # the credentials are not sent in clear (the push checked this first)
        with create_http_client(
            None,
            ca_bundle=ca_bundle,
            verify=not insecure,
            debug_log=scrubbed_log if debug_log is not None else None,
            transport=transport,
        ) as client:
            url = f"{base}/v2/{repository}/manifests/{tag}"
            headers = {"Accept": _MANIFEST_TYPES}
            response = client.get(url, headers=headers)
            if response.status_code == 401:
                challenges = parse_challenges(response.headers.get_list("www-authenticate"))
                schemes = {scheme: params for scheme, params in reversed(challenges)}
                if "bearer" in schemes:
                    params = {"scope": f"repository:{repository}:pull", **schemes["bearer"]}
                    token = _fetch_bearer_token(
                        client, base, params, username, password, time.sleep, insecure=insecure
                    )
                    secrets.append(token)
                    headers["Authorization"] = f"Bearer {token}"
                    response = client.get(url, headers=headers)
                elif "basic" in schemes:
                    response = client.get(url, headers=headers, auth=(username, password))
    except (KeynetError, httpx.HTTPError):
        return None
    if response.status_code != 200 or not response.content:
        return None
    return _checked_digest(response, f"{base}/{repository}:{tag}", expected_config)


def _checked_digest(response: httpx.Response, reference: str, expected_config: str | None) -> str:
    """The sha256 of a manifest body, after checking the header and the config it names.

    Raises:
        RegistryError: the header or the config disagree.
    """
    computed = "sha256:" + hashlib.sha256(response.content).hexdigest()
    claimed = str(response.headers.get("docker-content-digest", "")).strip()
    hint = (
        "The registry (or a proxy in front of it) does not hold what podman pushed; tell the "
        "platform team, and do not use this digest."
    )
    if claimed and claimed != computed:
        raise RegistryError(
            f"The registry reports digest {claimed} for {reference}, but the manifest it "
            f"serves has digest {computed}",
            hint,
        )
    if expected_config:
        manifest = json_object(response.content)
        config = manifest.get("config") if manifest is not None else None
        named = config.get("digest") if isinstance(config, dict) else None
        wanted = expected_config if ":" in expected_config else f"sha256:{expected_config}"
        if named != wanted:
            raise RegistryError(
                f"The manifest the registry holds for {reference} ({computed}) is not the "
                f"image podman pushed: its config is {named or 'missing'}, podman's image is "
                f"{wanted}",
                hint,
            )
    return computed
