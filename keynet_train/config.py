"""The user's config file: what it holds and how each value is checked (AUTH.md).

The file holds the backend API token and the Harbor robot credentials; how it
is read, written (0600, atomically) and locked is
:class:`keynet_train.config_store.ConfigStore`'s.

Secrets are held as :class:`Secret`, whose ``str``/``repr`` are masked, so they
cannot reach a log line or a traceback by accident. :func:`mask_secret` is the
one rule for showing part of a secret (``config show``).

This module is imported by ``config path``/``config show``, which must start
fast: it uses only the standard library (no pydantic, httpx or rich).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from keynet_train.errors import ConfigError
from keynet_train.locations import config_path
from keynet_train.secrets import FULL_MASK, mask_secret
from keynet_train.urls import has_password, has_userinfo, host_of, mask_userinfo

__all__ = [
    "PREFERENCE_KEYS",
    "SCHEMA_VERSION",
    "Config",
    "RegistryCredentials",
    "Secret",
    "SshTarget",
    "config_path",
    "mask_secret",
    "parse_ssh_url",
    "validate_harbor_project",
    "validate_podman_url",
    "validate_project_id",
]

#: The schema this version writes; a file with a higher number is refused.
SCHEMA_VERSION = 1
#: A config file is a few hundred bytes; a larger one is not ours to read.
MAX_CONFIG_BYTES = 1024 * 1024

#: Keys ``config set`` accepts, in the order they are listed to the user.
PREFERENCE_KEYS: tuple[str, ...] = ("project_id", "harbor_project", "podman_url")

FIX_HINT = "Fix the file, or delete it or run: keynet-train config clear (then log in again)."

# Harbor's own project-name rule (it must also be a valid image path component):
# lowercase alphanumerics separated by single '.', '_' or '-', 1-255 characters.
# The Harbor project images go to when nobody chose one (docs/platform-contract.md, "The image").
DEFAULT_HARBOR_PROJECT = "kitech-model"
_HARBOR_PROJECT_RE = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
_HARBOR_PROJECT_MAX = 255
_PODMAN_URL_SCHEMES = ("unix://", "tcp://", "ssh://")
UNSET_VALUES = ("", "null")
# Keys of unknown (newer-version) data that are masked by ``config show`` anyway.
_SECRET_KEY_RE = re.compile(r"token|password|secret|credential", re.IGNORECASE)


# --------------------------------------------------------------------------- secrets


class Secret:
    """A secret string that does not print itself.

    ``str()`` and ``repr()`` are masked; :meth:`reveal` is the single, greppable
    way to get the value. It is deliberately not a ``str`` subclass, so
    ``json.dumps`` and string concatenation fail loudly instead of leaking it.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        """Wrap ``value``. Raises TypeError if it is not a str."""
        if not isinstance(value, str):
            raise TypeError(f"Secret wraps a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """Return the secret value. Raises nothing."""
        return self._value

    def masked(self) -> str:
        """Return :func:`mask_secret` of the value. Raises nothing."""
        return mask_secret(self._value)

    def __str__(self) -> str:
        return FULL_MASK

    def __repr__(self) -> str:
        return f"Secret('{FULL_MASK}')"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return self._value == other._value
        return NotImplemented

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        # Immutable, so sharing is a faithful copy; defined so copy.deepcopy does
        # not fall back to __reduce__, which refuses.
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling would copy the value into a byte stream nobody meant to create.
        raise TypeError("Secret values cannot be pickled")


# --------------------------------------------------------------------------- validation


def validate_project_id(value: str) -> int:
    """Parse a project id given as text (``config set project_id``).

    Raises ConfigError unless it is a positive decimal integer.
    """
    text = value.strip()
    # int() would also accept "+5", "1_000" and non-ASCII digits; a project id is plainer.
    if not re.fullmatch(r"[0-9]+", text) or int(text) <= 0:
        raise ConfigError(
            f"project_id must be a positive integer, got {value!r}.",
            hint="List the projects you can train in with: keynet-train projects",
        )
    return int(text)


CA_BUNDLE_ENV = "KEYNET_CA_BUNDLE"
"""Environment variable naming a PEM file of CA certificates trusted besides the system's."""


def ca_bundle_from(environ: Mapping[str, str]) -> str | None:
    """The PEM file ``KEYNET_CA_BUNDLE`` names, or None (an empty value is "not set").

    The one place the variable is read; the CLI and the push settings call it
    once and pass the path down to the backend client, the registry client and
    podman's certs.d. Raises nothing.
    """
    return environ.get(CA_BUNDLE_ENV) or None


def validate_harbor_project(value: str) -> str:
    """Check a Harbor project name and return it.

    Raises ConfigError unless it is 1-255 characters of lowercase letters and
    digits, separated by single ``.``, ``_`` or ``-`` (Harbor's rule; the name
    is also a path component of the image reference).
    """
    if len(value) > _HARBOR_PROJECT_MAX or not _HARBOR_PROJECT_RE.fullmatch(value):
        raise ConfigError(
            f"{value!r} is not a valid Harbor project name.",
            hint=(
                "Use 1-255 lowercase letters and digits, optionally separated by single "
                "'.', '_' or '-' (for example: kitech-model)."
            ),
        )
    return value


_PODMAN_URL_HINT = (
    "Use unix:///run/user/1000/podman/podman.sock, tcp://host:port or "
    "ssh://user@host[:port]/run/podman/podman.sock."
)
# ssh:// as podman's connection grammar has it: ssh://[user@]host[:port][/path][?query].
# A user or host starting with '-' would be read by ssh as an option (-oProxyCommand=...
# runs a command), so neither may: login names and DNS labels never start with one.
_SSH_USER_RE = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.$-]{0,63}")
_DNS_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?"
_SSH_HOST_RE = re.compile(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*\.?")
# The socket path is sent to the remote shell (`test -S PATH`): printable, no spaces.
_SSH_PATH_RE = re.compile(r"/[A-Za-z0-9_.~@%+=,:/-]*")


@dataclass(frozen=True)
class SshTarget:
    """The parts of an ``ssh://`` podman URL, each checked by :func:`parse_ssh_url`."""

    user: str | None
    host: str
    port: int | None
    path: str

    @property
    def destination(self) -> str:
        """``user@host`` (or ``host``): what ssh is given after ``--``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.user}@{host}" if self.user else host


def parse_ssh_url(value: str) -> SshTarget:
    """Split an ``ssh://[user@]host[:port][/path]`` URL, checking each part by its grammar.

    Raises:
        ConfigError: the user or host is empty, starts with ``-`` or holds a
            character that is not allowed; the port is not 1-65535; the path
            holds spaces or control characters.
    """
    import ipaddress

    def bad(problem: str) -> ConfigError:
        return ConfigError(
            f"{value!r} is not a valid ssh:// podman URL: {problem}.", hint=_PODMAN_URL_HINT
        )

    rest = value[len("ssh://") :]
    netloc, slash, tail = rest.partition("/")
    path_and_query = slash + tail
    path = path_and_query.partition("?")[0]
    user: str | None = None
    if "@" in netloc:
        user, _, netloc = netloc.rpartition("@")
        if not _SSH_USER_RE.fullmatch(user):
            raise bad(
                f"the user {user!r} must be letters, digits, '.', '_', '$' or '-', "
                "not starting with '-'"
            )
    port_text = ""
    if netloc.startswith("["):
        host, bracket, after = netloc[1:].partition("]")
        if not bracket or (after and not after.startswith(":")):
            raise bad("an IPv6 address must be written [address] or [address]:port")
        port_text = after[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad(f"{host!r} is not an IPv6 address") from None
    else:
        host, colon, port_text = netloc.partition(":")
        if colon and not port_text:
            raise bad("the port is empty")
        if not host:
            raise bad("the host is empty")
        if not _SSH_HOST_RE.fullmatch(host):
            raise bad(
                f"the host {host!r} must be a host name or address (letters, digits, '.', "
                "'-'), not starting with '-'"
            )
    port: int | None = None
    if port_text:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise bad(f"the port {port_text!r} must be a number from 1 to 65535")
        port = int(port_text)
    if path and not _SSH_PATH_RE.fullmatch(path):
        raise bad(f"the socket path {path!r} holds spaces or other characters not allowed")
    return SshTarget(user=user, host=host, port=port, path=path or "/run/podman/podman.sock")


def validate_podman_url(value: str) -> str:
    """Check a podman service URL and return it.

    Raises ConfigError unless it starts with ``unix://``, ``tcp://`` or
    ``ssh://`` followed by an address, and when it carries a password
    (``ssh://user:secret@host``; a user name alone is fine); an ``ssh://``
    URL must also pass :func:`parse_ssh_url`; no URL may hold control
    characters.
    """
    if has_password(value):
        raise ConfigError(
            f"The podman service URL {mask_userinfo(value)} carries a password; "
            "refused so that it is never stored or printed.",
            hint="Use ssh keys (ssh://user@host/run/podman/podman.sock, CONTAINER_SSHKEY) "
            "instead of a password in the URL.",
        )
    if not value.startswith(_PODMAN_URL_SCHEMES) or value.endswith("://"):
        raise ConfigError(
            f"{value!r} is not a podman service URL.",
            hint=_PODMAN_URL_HINT + " 'null' removes the setting.",
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError(
            f"{value!r} is not a podman service URL: it holds control characters.",
            hint=_PODMAN_URL_HINT,
        )
    if value.startswith("ssh://"):
        parse_ssh_url(value)
    return value


# --------------------------------------------------------------------------- model


def _format_time(value: datetime) -> str:
    text = value.astimezone(timezone.utc).isoformat()
    return text.removesuffix("+00:00") + "Z"


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


@dataclass
class RegistryCredentials:
    """The Harbor robot account the backend hands out at sign-in.

    One object from ``login`` to ``podman push``: the backend client builds it
    from the sign-in answer, the config file stores and reloads it, the
    registry client and the podman client take it as it is. The password is
    revealed only where an ``Authorization`` header or podman's
    ``X-Registry-Auth`` payload is built.

    ``extra`` keeps unknown keys of the file's ``harbor`` object so a rewrite
    by this version does not drop what a newer version stored.
    """

    url: str
    username: str
    password: Secret
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def host(self) -> str:
        """The registry host: the URL without scheme or trailing slash."""
        return host_of(self.url)


@dataclass
class Config:
    """Everything the config file holds. Every field is optional on disk.

    Datetimes are timezone-aware (stored as UTC, ``...Z``); a naive one raises
    ValueError at construction because it would be written with the wrong time.
    """

    server_url: str | None = None
    username: str | None = None
    api_token: Secret | None = None
    api_token_expires_at: datetime | None = None
    harbor: RegistryCredentials | None = None
    last_login: datetime | None = None
    project_id: int | None = None
    harbor_project: str | None = None
    podman_url: str | None = None
    extra: dict[str, object] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        _require_aware("api_token_expires_at", self.api_token_expires_at)
        _require_aware("last_login", self.last_login)

    @property
    def is_logged_in(self) -> bool:
        """True when a server, an API token and Harbor credentials are stored.

        Expiry is not considered here; see :meth:`token_expired`.
        """
        return bool(self.server_url) and bool(self.api_token) and self.harbor is not None

    def token_expired(self, now: datetime) -> bool:
        """True if the stored token's expiry is at or before ``now``.

        A token without a recorded expiry is not considered expired. Raises
        TypeError if ``now`` is naive (it cannot be compared with UTC).
        """
        if self.api_token_expires_at is None:
            return False
        return now >= self.api_token_expires_at

    @property
    def harbor_host(self) -> str | None:
        """The Harbor host (URL without scheme or trailing slash), None if not logged in."""
        return self.harbor.host if self.harbor is not None else None

    def to_json_dict(self, *, reveal: bool) -> dict[str, object]:
        """The file's JSON object.

        With ``reveal=False`` (``config show``) the API token and Harbor
        password are masked with :func:`mask_secret`, and so are string values
        of unknown keys whose name suggests a secret. Unknown keys come last and
        never override known ones. Raises nothing.
        """

        def secret(value: Secret | None) -> str | None:
            if value is None:
                return None
            return value.reveal() if reveal else value.masked()

        def time_text(value: datetime | None) -> str | None:
            return _format_time(value) if value is not None else None

        harbor: dict[str, object] | None = None
        if self.harbor is not None:
            harbor = {
                "url": self.harbor.url,
                "username": self.harbor.username,
                "password": secret(self.harbor.password),
            }
            for key, value in self.harbor.extra.items():
                harbor.setdefault(key, value if reveal else _mask_unknown(key, value))
        data: dict[str, object] = {
            "schema_version": self.schema_version,
            "server_url": self.server_url,
            "username": self.username,
            "api_token": secret(self.api_token),
            "api_token_expires_at": time_text(self.api_token_expires_at),
            "harbor": harbor,
            "last_login": time_text(self.last_login),
            "project_id": self.project_id,
            "harbor_project": self.harbor_project,
            "podman_url": self.podman_url,
        }
        for key, value in self.extra.items():
            data.setdefault(key, value if reveal else _mask_unknown(key, value))
        return data

    @classmethod
    def from_json_dict(cls, data: Mapping[str, object], source: Path | None = None) -> Config:
        """Build a Config from the file's JSON object, checking every known key's type.

        ``null`` is accepted for every known key (it means unset). Raises
        ConfigError naming the key and ``source`` for a wrong type, a malformed
        timestamp, a missing ``harbor`` field, or a ``schema_version`` newer
        than this program understands.
        """
        where = str(source) if source is not None else "the config file"
        reader = _Reader(data, where, prefix="")
        version = data.get("schema_version", SCHEMA_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ConfigError(
                f"{where}: 'schema_version' must be a positive integer, got {version!r}.",
                hint=FIX_HINT,
            )
        if version > SCHEMA_VERSION:
            raise ConfigError(
                f"{where} was written by a newer keynet-train (schema version {version}; "
                f"this version understands {SCHEMA_VERSION}).",
                hint="Upgrade keynet-train: pip install --upgrade keynet-train",
            )
        token = reader.string("api_token")
        known = {
            "schema_version",
            "server_url",
            "username",
            "api_token",
            "api_token_expires_at",
            "harbor",
            "last_login",
            "project_id",
            "harbor_project",
            "podman_url",
        }
        return cls(
            server_url=_url_without_userinfo(reader.string("server_url"), "server_url", where),
            username=reader.string("username"),
            api_token=Secret(token) if token is not None else None,
            api_token_expires_at=reader.timestamp("api_token_expires_at"),
            harbor=_read_harbor(data.get("harbor"), where),
            last_login=reader.timestamp("last_login"),
            project_id=reader.integer("project_id"),
            harbor_project=reader.string("harbor_project"),
            podman_url=_podman_url_without_password(reader.string("podman_url"), where),
            extra={key: value for key, value in data.items() if key not in known},
            schema_version=SCHEMA_VERSION,
        )


def _mask_unknown(key: str, value: object) -> object:
    if isinstance(value, str) and _SECRET_KEY_RE.search(key):
        return mask_secret(value)
    if isinstance(value, dict):
        return {str(k): _mask_unknown(str(k), v) for k, v in value.items()}
    return value


def type_name(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "number" if isinstance(value, (int, float)) else type(value).__name__
    )


class _Reader:
    """Typed access to one JSON object, raising ConfigError that names the key."""

    def __init__(self, data: Mapping[str, object], where: str, prefix: str) -> None:
        self._data = data
        self._where = where
        self._prefix = prefix

    def _wrong(self, key: str, expected: str, value: object) -> ConfigError:
        return ConfigError(
            f"{self._where}: '{self._prefix}{key}' must be {expected}, got {type_name(value)}.",
            hint=FIX_HINT,
        )

    def string(self, key: str) -> str | None:
        value = self._data.get(key)
        if value is None or isinstance(value, str):
            return value
        raise self._wrong(key, "a string", value)

    def required_string(self, key: str) -> str:
        value = self.string(key)
        if value is None:
            raise ConfigError(
                f"{self._where}: '{self._prefix}{key}' is missing.",
                hint=FIX_HINT,
            )
        return value

    def integer(self, key: str) -> int | None:
        value = self._data.get(key)
        if value is None:
            return None
        # bool is an int subclass; `true` is never a valid project id.
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, "an integer", value)
        return value

    def timestamp(self, key: str) -> datetime | None:
        text = self.string(key)
        if text is None:
            return None
        try:
            # Python 3.10's fromisoformat does not accept the 'Z' suffix.
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise ConfigError(
                f"{self._where}: '{self._prefix}{key}' is not an ISO 8601 timestamp: {text!r}.",
                hint=FIX_HINT,
            ) from None
        if parsed.utcoffset() is None:
            # Older writers stored UTC without an offset; reading it as local time would
            # shift the token expiry by the machine's UTC offset.
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)


def _url_without_userinfo(url: str | None, key: str, where: str) -> str | None:
    """``url`` unchanged, refused when it carries ``user:password@`` (never shown).

    Raises:
        ConfigError: the URL has userinfo; the way out is logout, then login again.
    """
    if url is not None and has_userinfo(url):
        raise ConfigError(
            f"{where}: {key!r} ({mask_userinfo(url)}) carries a user name or password, "
            "which keynet-train never uses or shows.",
            hint="Run `keynet-train logout` (deletes the file), then log in again with the "
            "URL alone: keynet-train login https://<server> -u <user>",
        )
    return url


def _podman_url_without_password(url: str | None, where: str) -> str | None:
    """``url`` unchanged unless it carries a password (then refused, never shown).

    Raises:
        ConfigError: ``ssh://user:secret@host``-style URL.
    """
    if url is not None and has_password(url):
        raise ConfigError(
            f"{where}: 'podman_url' ({mask_userinfo(url)}) carries a password, "
            "which keynet-train never uses or shows.",
            hint="Remove it: keynet-train config set podman_url null (use ssh keys instead).",
        )
    return url


def _read_harbor(value: object, where: str) -> RegistryCredentials | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where}: 'harbor' must be an object, got {type_name(value)}.", hint=FIX_HINT
        )
    reader = _Reader(value, where, prefix="harbor.")
    return RegistryCredentials(
        url=str(_url_without_userinfo(reader.required_string("url"), "harbor.url", where)),
        username=reader.required_string("username"),
        password=Secret(reader.required_string("password")),
        extra={k: v for k, v in value.items() if k not in ("url", "username", "password")},
    )
