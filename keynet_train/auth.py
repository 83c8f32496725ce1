"""Sign-in flow: backend sign-in, registry credential check, atomic store.

The order matters: nothing is written until the backend accepted
the password *and* the registry accepted the robot credentials, so a failed
login leaves the previous config file byte-for-byte unchanged.

podman is not logged in: ``podman login`` would leave the robot password in
podman's own auth file (``/run/containers/0/auth.json`` as root), outliving a
``KEYNET_CONFIG`` that a CI job keeps in its workspace. A push passes the
credentials to podman explicitly instead (AUTH.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from keynet_train.config import DEFAULT_HARBOR_PROJECT, Config, RegistryCredentials
from keynet_train.config_store import ConfigStore
from keynet_train.errors import (
    AuthenticationError,
    ConfigError,
    HarborProjectNotFoundError,
    InputError,
    NotLoggedInError,
    RegistryPermissionError,
)
from keynet_train.urls import USERINFO_HINT, has_userinfo, mask_userinfo, split_http_url

if TYPE_CHECKING:
    from keynet_train.backend.models import SignInResponse


@dataclass
class LoginResult:
    """What a successful login did."""

    config_path: Path
    username: str
    display_name: str | None
    harbor_url: str
    harbor_username: str
    token_expires_at: datetime | None
    registry_verified: bool
    """True when the registry checked the robot credentials; False when it answered
    without asking for any (they were sent nowhere and proved nothing)."""
    warnings: list[str] = field(default_factory=list)


def normalize_server_url(raw: str) -> str:
    """Normalise a server URL: ``https://`` assumed, trailing slash stripped.

    Raises:
        InputError: the URL has an unsupported scheme or no host, or carries
            a user name or password (``http://alice:secret@host``).
    """
    if has_userinfo(raw):
        # Refused, not stripped: the URL would be stored and printed, and
        # httpx would send the userinfo as Basic auth instead of the token.
        raise InputError(
            f"The server URL {mask_userinfo(raw)} contains a user name or password; "
            "refused so that it is never stored, printed or sent.",
            USERINFO_HINT,
        )
    parts = split_http_url(raw)
    if parts is None:
        raise InputError(
            f"Invalid server URL: {raw!r}.",
            "Give the KeyNet API address, e.g. https://api.example.com",
        )
    if parts.query or parts.fragment:
        raise InputError(f"Invalid server URL: {raw!r} (no query or fragment allowed).")
    url = parts.geturl().rstrip("/")
    # keynet-train adds /v1/... itself; with it in the URL the sign-in goes to
    # /v1/v1/..., which servers answer with 401 ("wrong username or password").
    segments = parts.path.rstrip("/").split("/")
    if "v1" in segments:
        base = parts._replace(path="/".join(segments[: segments.index("v1")])).geturl()
        raise InputError(
            f"The server URL {url} includes the API path /v1.",
            f"Give the server's base URL, without the /v1 part: {base.rstrip('/')}",
        )
    return url


def _sign_in(
    server_url: str,
    username: str,
    password: str,
    ca_bundle: str | None,
    debug_log: Callable[[str], None] | None,
) -> SignInResponse:
    """The backend's sign-in answer, refused when its token has already expired.

    Raises:
        AuthenticationError: wrong username or password, or an expired token.
        BackendError: the backend failed or answered nonsense.
    """
    from keynet_train.backend.client import BackendClient

    with BackendClient(server_url, None, ca_bundle=ca_bundle, debug_log=debug_log) as client:
        signed_in = client.sign_in(username, password)
    expires = signed_in.access_token_expires_at
    if expires <= datetime.now(timezone.utc):
        # Storing it would only turn the next command into "token expired".
        raise AuthenticationError(
            f"The server issued an access token that had already expired "
            f"(at {expires:%Y-%m-%d %H:%M:%S} UTC); nothing was stored",
            "Check that this computer's clock and time zone are right, then log in again; "
            "if they are, report it to the platform team.",
        )
    return signed_in


def _check_robot(
    harbor: RegistryCredentials,
    project: str,
    ca_bundle: str | None,
    insecure_registry: bool,
    debug_log: Callable[[str], None] | None,
    warnings: list[str],
) -> bool:
    """Whether the registry checked the robot's credentials; push refusals become ``warnings``.

    Raises:
        RegistryAuthError: the registry rejected the robot credentials.
        RegistryError: the registry could not be reached, or is plain http://
            on another host without ``insecure_registry``.
    """
    from keynet_train.registry.answers import cleartext_registry_warning
    from keynet_train.registry.client import RegistryClient
    from keynet_train.urls import is_cleartext_remote

    if insecure_registry and is_cleartext_remote(harbor.url):
        warnings.append(cleartext_registry_warning(harbor.url, harbor.username))
    try:
        with RegistryClient(
            harbor, ca_bundle=ca_bundle, insecure=insecure_registry, debug_log=debug_log
        ) as registry:
            return registry.verify_push_access(project).credentials_checked
    except (RegistryPermissionError, HarborProjectNotFoundError) as exc:
        warnings.append(f"{exc.message}. {exc.hint or ''}".strip())
        return True


def _store_login(
    store: ConfigStore,
    server_url: str,
    username: str,
    signed_in: SignInResponse,
    harbor: RegistryCredentials,
) -> None:
    """Write the new identity and secrets; preferences and unknown keys stay.

    Raises:
        ConfigError: the config file could not be written.
    """
    now = datetime.now(timezone.utc).replace(microsecond=0)

    def apply(previous: Config | None) -> Config:
        # Preferences (project_id, harbor_project, podman_url) and unknown keys
        # survive a re-login; identity and secrets are replaced.
        config = previous if previous is not None else Config()
        config.server_url = server_url
        config.username = username
        config.api_token = signed_in.access_token
        config.api_token_expires_at = signed_in.access_token_expires_at
        config.harbor = harbor
        config.last_login = now
        return config

    store.update(apply)


def login(
    server_url: str,
    username: str,
    password: str,
    *,
    store: ConfigStore,
    ca_bundle: str | None = None,
    debug_log: Callable[[str], None] | None = None,
    harbor_project: str | None = None,
    insecure_registry: bool = False,
) -> LoginResult:
    """Sign in, verify the Harbor robot credentials, store everything.

    The robot's push permission is checked on ``harbor_project`` (else the
    stored preference, else kitech-model); a robot that may log in but not
    push there is a warning, not a failure: a push may name another project,
    and push checks again. ``insecure_registry`` (``--insecure-registry``)
    skips the registry's TLS verification and allows a plain ``http://``
    registry on another host, with a warning in the result.

    Raises:
        AuthenticationError: wrong username or password.
        RegistryAuthError: the registry rejected the robot credentials.
        RegistryError: the registry could not be reached, or is plain http://
            on another host without ``insecure_registry``.
        BackendError: the backend failed or answered nonsense.
        ConfigError: the config file could not be written.
    """
    signed_in = _sign_in(server_url, username, password, ca_bundle, debug_log)
    harbor = signed_in.registry_credentials()
    warnings: list[str] = []
    try:
        previous = store.load()
    except ConfigError:
        previous = None  # rewritten below; update() reports what it must
    project = (
        harbor_project
        or (previous.harbor_project if previous is not None else None)
        or DEFAULT_HARBOR_PROJECT
    )
    registry_verified = _check_robot(
        harbor, project, ca_bundle, insecure_registry, debug_log, warnings
    )

    _store_login(store, server_url, username, signed_in, harbor)
    return LoginResult(
        config_path=store.path,
        username=username,
        display_name=signed_in.user.display_name if signed_in.user else None,
        harbor_url=harbor.url,
        harbor_username=harbor.username,
        token_expires_at=signed_in.access_token_expires_at,
        registry_verified=registry_verified,
        warnings=warnings,
    )


def require_credentials(config: Config | None, now: datetime) -> Config:
    """Return ``config`` if it holds a usable, unexpired API token and registry credentials.

    Checked before any request is sent, so an expired token never reaches the backend.

    Raises:
        NotLoggedInError: no config, no token/Harbor credentials, or the token expired.
    """
    if config is None or not config.is_logged_in:
        raise NotLoggedInError(
            "No credentials configured. Please login first: keynet-train login <url>",
            "Run: keynet-train login https://<your-keynet-api-server>",
        )
    if config.token_expired(now):
        expired = config.api_token_expires_at
        when = f" at {expired:%Y-%m-%d %H:%M:%S} UTC" if expired else ""
        raise NotLoggedInError(
            f"Your KeyNet API token expired{when}. Not logged in.",
            f"Run: keynet-train login {config.server_url}",
        )
    return config
