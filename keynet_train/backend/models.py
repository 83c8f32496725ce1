"""The backend API's wire models (docs/platform-contract.md), validated with pydantic.

Wire format is camelCase JSON; the models expose snake_case attributes through
aliases. Secrets on the wire (the sign-in password, the access token, the robot
password) are parsed straight into :class:`~keynet_train.config.Secret`.
:mod:`keynet_train.backend.client` sends and parses them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, JsonValue, PlainValidator, field_validator
from pydantic.alias_generators import to_camel

from keynet_train.config import RegistryCredentials, Secret
from keynet_train.urls import has_userinfo, host_of, split_http_url

NANOID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{21}$")
"""An upload key: a NanoID of 21 URL-safe characters (docs/platform-contract.md)."""

KNOWN_TASK_TYPES = ("OBJECT_DETECTION", "SEGMENTATION", "OBJECT_CLASSIFICATION")
"""Task types the platform documents; others are accepted and shown as-is."""


class _WireModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown response fields ignored."""

    # defer_build: a model's validator is built when it is first used, not at
    # import (a push uses three of the eleven models; docs/performance.md).
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
        defer_build=True,
    )


def _as_utc(value: datetime) -> datetime:
    # A timestamp without an offset from the server is taken as UTC, which is
    # what the platform emits ("...Z"); comparing naive and aware datetimes
    # would otherwise crash the expiry check.
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _secret(value: object) -> Secret:
    """A wire string as :class:`~keynet_train.config.Secret`, the one secret type.

    Raises:
        ValueError: ``value`` is not a string (pydantic reports it).
    """
    if isinstance(value, Secret):
        return value
    if isinstance(value, str):
        return Secret(value)
    raise ValueError("must be a string")


#: A secret on the wire: a :class:`~keynet_train.config.Secret` from the moment
#: it is parsed, so a token or password is one type from where it enters to
#: where a header is built (masked in ``str``/``repr``, revealed on purpose).
WireSecret = Annotated[Secret, PlainValidator(_secret)]


class SignInRequest(_WireModel):
    """Body of ``POST /v1/auth/sign-in/one-time``."""

    username: str
    password: WireSecret

    def to_wire(self) -> dict[str, str]:
        """The JSON body, with the password revealed (only for sending)."""
        return {"username": self.username, "password": self.password.reveal()}


class UserInfo(_WireModel):
    """The signed-in user (``user`` of the sign-in response)."""

    id: str
    email: str | None = None
    display_name: str | None = None
    role: str | None = None


class HarborAccount(_WireModel):
    """The Harbor robot account as the sign-in answer carries it.

    :meth:`SignInResponse.registry_credentials` turns it into the one
    credentials object the rest of the program carries.
    """

    url: str
    username: str
    password: WireSecret

    @field_validator("url")
    @classmethod
    def _url_has_host(cls, value: str) -> str:
        if not value.strip().strip("/"):
            raise ValueError("empty registry URL")
        # Checked here, where it enters: an unusable host (``https://../../etc``)
        # would otherwise fail later inside httpx's IDNA encoder.
        if has_userinfo(value):
            raise ValueError("the URL carries a user name or password")
        if split_http_url(value) is None:
            raise ValueError("not an http(s) URL with a valid host name")
        return value.strip()

    @property
    def host(self) -> str:
        """``https://harbor.example.com:8443/`` → ``harbor.example.com:8443``."""
        return host_of(self.url)


class SignInResponse(_WireModel):
    """Response of ``POST /v1/auth/sign-in/one-time``."""

    access_token: WireSecret
    access_token_expires_at: datetime
    user: UserInfo | None = None
    harbor: HarborAccount

    @field_validator("access_token_expires_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return _as_utc(value)

    @field_validator("access_token")
    @classmethod
    def _token_not_empty(cls, value: Secret) -> Secret:
        if not value.reveal():
            raise ValueError("empty access token")
        return value

    def registry_credentials(self) -> RegistryCredentials:
        """The robot account as the one :class:`~keynet_train.config.RegistryCredentials`."""
        return RegistryCredentials(
            url=self.harbor.url.rstrip("/"),
            username=self.harbor.username,
            password=self.harbor.password,
        )


class ProjectAuthor(_WireModel):
    """``author`` of a trainable project."""

    id: str | None = None
    display_name: str | None = None


class TrainableProject(_WireModel):
    """One entry of ``GET /v1/projects/trainable``."""

    id: int
    title: str
    summary: str | None = None
    task_type: str
    author: ProjectAuthor | None = None


class PageMeta(_WireModel):
    """Paging information of a projects page."""

    total: int
    page: int
    limit: int
    max_page: int


class ProjectsPage(_WireModel):
    """Response of ``GET /v1/projects/trainable``."""

    content: list[TrainableProject]
    meta: PageMeta


class HyperParameter(Protocol):
    """One hyperparameter as the backend stores it: the six fields of docs/platform-contract.md.

    The extractor's ``Argument`` is one (its descriptor is not sent: the real
    backend may reject unknown fields); backend code never imports extraction.
    """

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def default(self) -> object: ...
    @property
    def required(self) -> bool: ...
    @property
    def help(self) -> str | None: ...
    @property
    def choices(self) -> Sequence[str] | None: ...


def definition_fields(argument: HyperParameter) -> dict[str, object]:
    """The six fields of ``argument`` as the request body spells them (not validated).

    The one mapping from a hyperparameter to the wire: the upload-key request
    (through :class:`ArgumentDefinition`) and the push's record of what it
    registered (its hash) both use it. Raises nothing.
    """
    choices = argument.choices
    return {
        "name": argument.name,
        "type": argument.type,
        "default": argument.default,
        "required": argument.required,
        "help": argument.help,
        "choices": None if choices is None else list(choices),
    }


class ArgumentDefinition(_WireModel):
    """One hyperparameter as sent to the backend (see :func:`definition_fields`)."""

    name: str = Field(min_length=1)
    type: Literal["str", "int", "float", "bool"]
    default: JsonValue = None
    required: bool = Field(default=False, strict=True)
    help: str | None = None
    choices: list[str] | None = None


class UploadKeyRequest(_WireModel):
    """Body of ``POST /v1/projects/{projectId}/trains/images``."""

    model_name: str = Field(min_length=1)
    hyper_parameters: list[ArgumentDefinition]

    def to_wire(self) -> dict[str, Any]:
        """The JSON body: camelCase keys, every argument field present (nulls included)."""
        return self.model_dump(mode="json", by_alias=True)


class UploadKeyResponse(_WireModel):
    """Response of ``POST /v1/projects/{projectId}/trains/images``."""

    id: int
    upload_key: str
    command: str | None = None

    @field_validator("upload_key")
    @classmethod
    def _nanoid(cls, value: str) -> str:
        if not NANOID_PATTERN.match(value):
            raise ValueError("not a NanoID (21 characters of A-Za-z0-9_-)")
        return value
