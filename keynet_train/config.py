"""The user's config file: where it lives, what it holds, how it is written (AUTH.md).

The file holds the backend API token and the Harbor robot credentials, so it is
treated like an SSH key: directory 0700, file 0600, written atomically
(:func:`keynet_train.files.write_atomically`) so a crash
or a concurrent writer never leaves a half-written file, and read-modify-write
cycles (:meth:`ConfigStore.update`) run under an exclusive lock on a sibling
``config.json.lock``. A corrupt file is reported, never silently overwritten.

Secrets are held as :class:`Secret`, whose ``str``/``repr`` are masked, so they
cannot reach a log line or a traceback by accident. :func:`mask_secret` is the
one rule for showing part of a secret (``config show``).

This module is imported by ``config path``/``config show``, which must start
fast: it uses only the standard library (no pydantic, httpx or rich).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import time
from collections.abc import Callable, Iterator, Mapping
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
    "ConfigStore",
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

_FIX_HINT = "Fix the file, or delete it or run: keynet-train config clear (then log in again)."

# Harbor's own project-name rule (it must also be a valid image path component):
# lowercase alphanumerics separated by single '.', '_' or '-', 1-255 characters.
# The Harbor project images go to when nobody chose one (docs/platform-contract.md, "The image").
DEFAULT_HARBOR_PROJECT = "kitech-model"
_HARBOR_PROJECT_RE = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
_HARBOR_PROJECT_MAX = 255
_PODMAN_URL_SCHEMES = ("unix://", "tcp://", "ssh://")
_UNSET_VALUES = ("", "null")
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
                hint=_FIX_HINT,
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


def _type_name(value: object) -> str:
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
            f"{self._where}: '{self._prefix}{key}' must be {expected}, got {_type_name(value)}.",
            hint=_FIX_HINT,
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
                hint=_FIX_HINT,
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
                hint=_FIX_HINT,
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
            f"{where}: 'harbor' must be an object, got {_type_name(value)}.", hint=_FIX_HINT
        )
    reader = _Reader(value, where, prefix="harbor.")
    return RegistryCredentials(
        url=str(_url_without_userinfo(reader.required_string("url"), "harbor.url", where)),
        username=reader.required_string("username"),
        password=Secret(reader.required_string("password")),
        extra={k: v for k, v in value.items() if k not in ("url", "username", "password")},
    )


# --------------------------------------------------------------------------- store


def _ignore_warning(message: str) -> None:
    """Default ``warn`` callback of :class:`ConfigStore`: drop the message."""


class ConfigStore:
    """Reads and writes one config file safely.

    ``warn`` receives human-readable warnings (a file that was readable by
    others and has been tightened); the CLI passes a function that writes to
    stderr. ``lock_timeout`` bounds how long :meth:`update` waits for another
    keynet-train process holding the lock.
    """

    def __init__(
        self,
        path: Path,
        warn: Callable[[str], None] = _ignore_warning,
        *,
        lock_timeout: float = 30.0,
    ) -> None:
        self.path = path
        self._warn = warn
        self._lock_timeout = lock_timeout

    @property
    def lock_path(self) -> Path:
        """The sibling lock file used by :meth:`update` (``config.json.lock``)."""
        return self.path.with_name(self.path.name + ".lock")

    # -- reading

    def load(self) -> Config | None:
        """Read the config; None if the file does not exist.

        Credentials are read only from a regular file (at most
        :data:`MAX_CONFIG_BYTES`) owned by the user (or root) in a directory
        that other users cannot write to, unless it is sticky like ``/tmp``
        (docs/security.md): otherwise another user could have put their own
        server, token and podman URL there. A file readable or writable by
        group/others is chmod'ed to 0600 and ``warn`` is called; a directory
        is never chmod'ed here. Raises ConfigError (with the path and how to
        fix it) if the path is a directory, FIFO or device, is too large, is
        owned by someone else or sits in a directory others can write to, if
        the file cannot be read, is not UTF-8 JSON, is not a JSON object, has
        a wrong type for a known key, or has a newer schema version. Never
        modifies the file's contents.
        """
        from keynet_train.files import UnreadableFile, read_regular_file

        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        except ValueError:  # a NUL byte in KEYNET_CONFIG
            raise self._not_a_file("holds a NUL character") from None
        except OSError as exc:
            raise self._os_error("read", exc) from exc
        self._check_kind(info.st_mode)
        self._check_trusted(info)
        self._tighten_file(info)
        try:
            raw = read_regular_file(self.path, MAX_CONFIG_BYTES)
        except UnreadableFile as exc:
            if exc.missing:  # deleted since the stat: as if it never was
                return None
            raise self._not_a_file(exc.reason) from None
        return Config.from_json_dict(self._parse(raw), source=self.path)

    def _not_a_file(self, reason: str) -> ConfigError:
        return ConfigError(
            f"The config file {self.path} {reason}; keynet-train reads its credentials only "
            "from a regular file.",
            hint="Point KEYNET_CONFIG at a file path such as ~/.config/keynet/config.json "
            "(it is created at login), or unset it.",
        )

    def _check_kind(self, mode: int) -> None:
        """Refuse a directory, FIFO or device before anything opens or chmods it."""
        if stat.S_ISDIR(mode):
            raise ConfigError(
                f"The config path {self.path} is a directory; KEYNET_CONFIG must name a file.",
                hint=f"Set KEYNET_CONFIG={self.path / 'config.json'} (a file in that "
                "directory), or unset it.",
            )
        if not stat.S_ISREG(mode):
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device or other special file"
            raise self._not_a_file(f"is {kind}, not a regular file")

    def _check_trusted(self, info: os.stat_result) -> None:
        """Refuse a file another user owns, or one in a directory others can write to.

        Root is trusted like the owner (it can change anything anyway). Not
        checked where there are no user ids (Windows).
        """
        if not hasattr(os, "getuid"):
            return
        me = os.getuid()
        if info.st_uid not in (me, 0):
            raise ConfigError(
                f"The config file {self.path} belongs to another user (uid {info.st_uid}); "
                "keynet-train does not read credentials from a file you do not own, since its "
                "owner chooses the server, token and podman URL you would use.",
                hint="Log in again with KEYNET_CONFIG pointing at a file of your own, or "
                "unset KEYNET_CONFIG.",
            )
        directory = self.path.parent
        try:
            dir_info = os.stat(directory)
        except OSError as exc:
            raise self._os_error("read", exc) from exc
        mode = stat.S_IMODE(dir_info.st_mode)
        sticky = bool(dir_info.st_mode & stat.S_ISVTX)
        shared = dir_info.st_uid not in (me, 0) or (mode & 0o022 and not sticky)
        if shared:
            whose = (
                f"belongs to another user (uid {dir_info.st_uid})"
                if dir_info.st_uid not in (me, 0)
                else f"is writable by other users (mode {mode:04o})"
            )
            raise ConfigError(
                f"The directory of the config file, {directory}, {whose}: another user could "
                "replace the credentials in it, so keynet-train does not read them.",
                hint=f"Restrict it (chmod go-w {directory}) if it is yours, or point "
                "KEYNET_CONFIG at a file in a private directory.",
            )

    def _parse(self, raw: bytes) -> dict[str, Any]:
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise self._corrupt(
                f"it is not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
        except json.JSONDecodeError as exc:
            raise self._corrupt(
                f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            ) from None
        except RecursionError:
            raise self._corrupt("its JSON is nested too deeply to read") from None
        if not isinstance(data, dict):
            raise self._corrupt(f"expected a JSON object, found {_type_name(data)}")
        return data

    def _corrupt(self, reason: str) -> ConfigError:
        return ConfigError(
            f"The config file {self.path} is corrupt: {reason}. It was left untouched.",
            hint="Fix it, or delete it or run: keynet-train config clear (then log in again).",
        )

    def _tighten_file(self, info: os.stat_result) -> None:
        """chmod 0600 a regular file of the user's that others may read (never through a link)."""
        mode = stat.S_IMODE(info.st_mode)
        if not mode & 0o077:
            return
        if self.path.is_symlink():
            # The link's target is someone's own file (dotfiles, a mounted
            # secret): say so, but never change a mode through a link.
            target = self.path.resolve()
            self._warn(
                f"{self.path} is a symlink to {target}, which is accessible by other users "
                f"(mode {mode:04o}) and contains credentials; not changing a file through a "
                f"link: restrict it yourself with: chmod 600 {target}"
            )
            return
        try:
            os.chmod(self.path, 0o600)
        except OSError as exc:
            self._warn(
                f"{self.path} is accessible by other users (mode {mode:04o}) and could not "
                f"be restricted to 0600: {exc.strerror}. It contains credentials."
            )
            return
        self._warn(
            f"{self.path} was accessible by other users (mode {mode:04o}); "
            "restricted it to 0600 because it contains credentials."
        )

    # -- writing

    def save(self, config: Config) -> None:
        """Write ``config`` atomically with mode 0600 (directory 0700).

        The new content goes to a temp file created exclusively (0600) in the
        same directory, is fsync'ed and renamed over the old file, then the
        directory is fsync'ed; on any failure the temp file is removed and the
        old file is byte-for-byte unchanged. Secrets are written in clear (the
        file's mode protects them). Raises ConfigError naming the path on any
        OSError (permission denied, read-only or full file system).
        """
        payload = (json.dumps(config.to_json_dict(reveal=True), indent=2) + "\n").encode("utf-8")
        from keynet_train.files import write_atomically

        self._ensure_directory()
        try:
            write_atomically(self.path, payload, mode=0o600)
        except OSError as exc:
            raise self._os_error("write", exc) from exc

    def _ensure_directory(self) -> None:
        directory = self.path.parent
        with contextlib.suppress(OSError, ValueError):
            if self.path.is_dir():
                # Before anything below could chmod it or its parent.
                self._check_kind(os.stat(self.path).st_mode)
        try:
            # Path.mkdir(parents=True) gives the parents 0777 & ~umask (0777 under
            # umask 000); each missing level is created 0700 here instead.
            missing = [d for d in (directory, *directory.parents) if not d.exists()]
            for level in reversed(missing):
                level.mkdir(mode=0o700, exist_ok=True)
            info = directory.stat()
        except OSError as exc:
            raise self._os_error("create the directory for", exc) from exc
        mode = stat.S_IMODE(info.st_mode)
        if not mode & 0o077 or info.st_uid != os.getuid() or not self._owns_directory():
            return
        try:
            directory.chmod(0o700)
        except OSError as exc:
            raise self._os_error("restrict the directory of", exc) from exc
        self._warn(
            f"{directory} was accessible by other users (mode {mode:04o}); "
            "restricted it to 0700 because it holds credentials."
        )

    def _owns_directory(self) -> bool:
        # Only a directory holding nothing but our own files is ours to restrict:
        # KEYNET_CONFIG=./ci-config.json must not chmod the user's project directory.
        name = self.path.name
        try:
            entries = os.listdir(self.path.parent)
        except OSError:
            return False
        return all(
            entry in (name, name + ".lock")
            or (entry.startswith(f".{name}.") and entry.endswith(".tmp"))
            for entry in entries
        )

    # -- read-modify-write

    def update(self, mutator: Callable[[Config | None], Config]) -> Config:
        """Re-read, apply ``mutator`` and save, holding an exclusive lock throughout.

        The lock is ``fcntl.flock`` on the sibling ``config.json.lock`` (0600),
        so two processes logging in at once serialise and both changes survive.
        ``mutator`` gets the current config (None if there is none) and returns
        the config to write. Raises ConfigError if the lock cannot be taken
        within ``lock_timeout`` seconds, if the current file is corrupt (it is
        never overwritten), or on any OSError; whatever ``mutator`` raises
        propagates and leaves the file unchanged.
        """
        with self._locked():
            updated = mutator(self.load())
            self.save(updated)
            return updated

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the exclusive lock of :meth:`update`. Raises ConfigError (timeout, OSError)."""
        self._ensure_directory()
        try:
            fd = os.open(
                self.lock_path, os.O_CREAT | os.O_RDWR | getattr(os, "O_CLOEXEC", 0), 0o600
            )
        except OSError as exc:
            raise self._os_error("lock", exc) from exc
        try:
            self._acquire(fd)
            try:
                yield
            finally:
                _release(fd)
        finally:
            os.close(fd)

    def _acquire(self, fd: int) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: atomic rename still protects the file
            return
        deadline = time.monotonic() + self._lock_timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ConfigError(
                        f"Another keynet-train process has held {self.lock_path} for "
                        f"{self._lock_timeout:g} seconds.",
                        hint="Wait for it to finish; if none is running, delete the lock file.",
                    ) from None
                time.sleep(0.01)
            except OSError as exc:
                raise self._os_error("lock", exc) from exc

    def set_preference(self, key: str, value: str) -> Config:
        """Store one non-secret preference (``config set KEY VALUE``) and return the config.

        ``project_id`` must be a positive integer, ``harbor_project`` a valid
        Harbor project name, ``podman_url`` a ``unix://``, ``tcp://`` or
        ``ssh://`` URL; ``null`` or an empty value removes the setting. Raises
        ConfigError for an unknown key (listing the valid ones), an invalid
        value, a corrupt config file, or an OSError.
        """
        if key not in PREFERENCE_KEYS:
            raise ConfigError(
                f"Unknown setting {key!r}. Valid settings: {', '.join(PREFERENCE_KEYS)}.",
                hint="Example: keynet-train config set project_id 123",
            )
        unset = value.strip() in _UNSET_VALUES
        parsed: int | str | None = None
        if not unset:
            if key == "project_id":
                parsed = validate_project_id(value)
            elif key == "harbor_project":
                parsed = validate_harbor_project(value.strip())
            else:
                parsed = validate_podman_url(value.strip())

        def apply(current: Config | None) -> Config:
            config = current if current is not None else Config()
            setattr(config, key, parsed)
            return config

        return self.update(apply)

    def clear(self) -> bool:
        """Delete the config file; True if one was deleted, False if there was none.

        Idempotent. Raises ConfigError naming the path if it exists but cannot
        be deleted, or if the lock cannot be taken (see :meth:`remove`).
        """
        return self.remove()[0]

    def remove(self) -> tuple[bool, Config | None]:
        """Delete the config file under the lock of :meth:`update`.

        Returns whether a file was deleted and the config it held (None when
        there was none or it was corrupt: clearing is the way out of a corrupt
        file). Holding the lock means a concurrent ``login`` or ``config set``
        either finishes before the file goes, or starts after and sees no
        file; without it, one that read the file before the delete would
        write the credentials back after ``logout`` said they were gone.

        Raises:
            ConfigError: the file exists but cannot be deleted, or the lock
                cannot be taken within ``lock_timeout`` seconds.
        """
        if not self.path.exists() and not self.path.is_symlink():
            return False, None  # nothing to remove: no need to create the directory
        with self._locked():
            try:
                previous = self.load()
            except ConfigError:
                previous = None
            try:
                self.path.unlink()
            except FileNotFoundError:
                return False, None
            except OSError as exc:
                raise self._os_error("delete", exc) from exc
            return True, previous

    def _os_error(self, action: str, exc: OSError) -> ConfigError:
        reason = exc.strerror or str(exc)
        return ConfigError(
            f"Cannot {action} the config file {self.path}: {reason}.",
            hint=(
                f"Check the permissions of {self.path.parent}, or set KEYNET_CONFIG "
                "to a writable file path."
            ),
        )


def _release(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - see _acquire
        return
    fcntl.flock(fd, fcntl.LOCK_UN)
