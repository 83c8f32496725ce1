"""What the registry's answers mean, and how they are reported.

The pieces of the registry protocol that do not send anything: the
``WWW-Authenticate`` challenge grammar, the grants a token carries, the
registry's error text, the errors keynet-train raises for its answers, and
the check that a manifest is the image podman pushed. The client that sends
the requests is :mod:`keynet_train.registry.client`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass

import httpx

from keynet_train.backend.http import json_object
from keynet_train.errors import RegistryError, RegistryPermissionError
from keynet_train.registry.harbor_errors import push_denied
from keynet_train.secrets import redact
from keynet_train.urls import has_userinfo, mask_userinfo, split_http_url

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
    """What :meth:`RegistryClient.verify_push_access` established."""

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


def refuse_cleartext(url: str, robot: str, what: str) -> RegistryError:
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


def denied(
    response: httpx.Response, robot: str, project: str | None, secrets: list[str]
) -> RegistryPermissionError:
    """A 403: the credentials were accepted but the action was not (not a re-login case)."""
    message = registry_message(response, secrets)
    if project:
        return push_denied(robot, project, message)
    return RegistryPermissionError(
        f"The registry denied robot account {robot} access ({response.status_code}): {message}",
        "The robot credentials work but lack permission: ask the Harbor project admin to "
        "give the robot account push permission on the project you push to.",
    )


def registry_message(response: httpx.Response, secrets: list[str]) -> str:
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


def unexpected(
    response: httpx.Response, base: str, secrets: list[str], what: str = "registry"
) -> RegistryError:
    status = response.status_code
    message = registry_message(response, secrets)
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
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    )
)


def checked_digest(response: httpx.Response, reference: str, expected_config: str | None) -> str:
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
