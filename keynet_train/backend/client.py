"""The KeyNet backend API client (docs/platform-contract.md): models, status mapping, retries.

The wire models are :mod:`keynet_train.backend.models`' (re-exported here, where
callers have always found them). Every response is validated: a body that is not
JSON or does not match the contract is a :class:`BackendError` naming the
endpoint. HTTP statuses and network failures become typed
:class:`~keynet_train.errors.KeynetError` subclasses here, where httpx enters
the program, so nothing above this module sees httpx.

This module imports httpx and pydantic at module level; the CLI imports it
lazily (inside commands) to keep start-up fast.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from keynet_train.backend.http import (
    BACKEND_RETRIES,
    MAX_RESPONSE_BYTES,
    DebugLog,
    HttpClientOwner,
    ResponseTooLargeError,
    create_http_client,
    describe_transport_error,
    json_object,
    send_with_retries,
)
from keynet_train.backend.models import (
    KNOWN_TASK_TYPES,
    NANOID_PATTERN,
    ArgumentDefinition,
    HarborAccount,
    HyperParameter,
    PageMeta,
    ProjectAuthor,
    ProjectsPage,
    SignInRequest,
    SignInResponse,
    TrainableProject,
    UploadKeyRequest,
    UploadKeyResponse,
    UserInfo,
    definition_fields,
)
from keynet_train.backend.tls import tls_failure, tls_failure_text
from keynet_train.config import Secret
from keynet_train.errors import (
    AuthenticationError,
    BackendError,
    ConfigError,
    NotFoundError,
    NotLoggedInError,
    ValidationError,
)
from keynet_train.secrets import Redactor, redact_json, redact_text_fields

SIGN_IN_PATH = "/v1/auth/sign-in/one-time"
PROJECTS_PATH = "/v1/projects/trainable"

_MESSAGE_LIMIT = 500

_M = TypeVar("_M", bound=BaseModel)


# ---------------------------------------------------------------------------- client


class BackendClient(HttpClientOwner):
    """A session with the KeyNet backend at ``server_url``.

    Use as a context manager (or call :meth:`close`). ``access_token`` is sent
    as ``Authorization: Bearer`` on every call except :meth:`sign_in`.
    Secrets the client knows (token, password, the credentials it receives)
    are scrubbed from its error messages and debug log.
    """

    def __init__(
        self,
        server_url: str,
        access_token: str | Secret | None = None,
        *,
        ca_bundle: str | None = None,
        debug_log: DebugLog | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Build the client (no request is sent yet).

        Raises:
            ConfigError: ``ca_bundle`` is missing or unusable, or ``server_url``
                is not a valid URL.
        """
        self.server_url = server_url.rstrip("/")
        self._ca_bundle = ca_bundle
        token = access_token.reveal() if isinstance(access_token, Secret) else access_token
        self._token = token or None
        # Known secret values, scrubbed from debug logs and error texts; the
        # HTTP layer adds those it reads in response bodies as they arrive.
        self._redactor = Redactor([token])
        self._sleep = sleep
        try:
            self._client = create_http_client(
                self.server_url,
                ca_bundle=ca_bundle,
                debug_log=debug_log,
                redactor=self._redactor,
                timeout=timeout,
                transport=transport,
                headers={"Accept": "application/json"},
            )
        except httpx.InvalidURL as exc:
            raise _invalid_url_error(self.server_url, exc) from None

    # -- endpoints

    def sign_in(self, username: str, password: str) -> SignInResponse:
        """``POST /v1/auth/sign-in/one-time``: exchange a password for a token + robot account.

        Raises:
            AuthenticationError: wrong username or password (401/403).
            ValidationError: the request was rejected (400/422).
            BackendError: network failure, 429/5xx, or an invalid response.
        """
        self._redactor.add(password)
        body = SignInRequest(username=username, password=Secret(password)).to_wire()
        endpoint = f"POST {SIGN_IN_PATH}"
        response = self._send("POST", SIGN_IN_PATH, endpoint=endpoint, json_body=body, auth=False)
        if response.status_code in (401, 403):
            raise AuthenticationError(
                f"Sign-in failed ({response.status_code}): wrong username or password"
                + self._detail_suffix(response),
                f"Check the username and password for {self.server_url}.",
            )
        self._raise_for_status(response, endpoint)
        result = self._parse(response, SignInResponse, endpoint)
        # Learned secrets are scrubbed from anything this client reports later.
        self._redactor.add(result.access_token.reveal(), result.harbor.password.reveal())
        return result

    def fetch_trainable_projects(self, page: int = 0, limit: int = 20) -> ProjectsPage:
        """``GET /v1/projects/trainable``: one page of projects the user may train.

        Retried on connect errors, 429, 502, 503, 504 (at most 3 attempts).

        Raises:
            NotLoggedInError: the client has no access token.
            AuthenticationError: the token is expired or revoked (401/403).
            ValidationError: bad ``page``/``limit`` (400/422).
            NotFoundError: the endpoint does not exist on this server (404).
            BackendError: network failure, 429/5xx, or an invalid response.
        """
        endpoint = f"GET {PROJECTS_PATH}"
        response = self._send(
            "GET",
            PROJECTS_PATH,
            endpoint=endpoint,
            params={"page": page, "limit": limit},
            auth=True,
        )
        self._raise_for_status(
            response,
            endpoint,
            rejected_hint="Check --page (0 or more) and --limit (1 or more).",
        )
        return self._parse(response, ProjectsPage, endpoint)

    def request_upload_key(
        self,
        project_id: int,
        model_name: str,
        hyper_parameters: Sequence[HyperParameter],
    ) -> UploadKeyResponse:
        """``POST /v1/projects/{project_id}/trains/images``: register hyperparameters.

        ``hyper_parameters`` are any objects with the six fields (the
        extractor's arguments, :class:`ArgumentDefinition`); their fields are
        mapped once (:func:`definition_fields`) and validated locally first.
        Only retried when the connection failed before the request was sent.

        Raises:
            NotLoggedInError: the client has no access token.
            ValidationError: an argument definition is invalid locally, or the
                backend rejected the request (400/422).
            AuthenticationError: the token is expired or revoked (401/403).
            NotFoundError: the project does not exist or is not trainable (404).
            BackendError: network failure, 429/5xx, or an invalid response
                (including an upload key that is not a NanoID).
        """
        request = self._build_upload_request(model_name, hyper_parameters)
        path = f"/v1/projects/{int(project_id)}/trains/images"
        endpoint = f"POST {path}"
        response = self._send("POST", path, endpoint=endpoint, json_body=request.to_wire())
        if response.status_code == 404:
            raise NotFoundError(
                f"Project {project_id} was not found, or is not trainable for this account "
                f"(404 from {endpoint})" + self._detail_suffix(response),
                "Run: keynet-train projects  to list trainable projects, then pass --project ID.",
            )
        self._raise_for_status(
            response,
            endpoint,
            rejected_hint=(
                "Check the hyperparameter definitions (run: keynet-train inspect ENTRYPOINT) "
                "and the model name."
            ),
        )
        return self._parse(response, UploadKeyResponse, endpoint)

    # -- internals

    @staticmethod
    def _build_upload_request(
        model_name: str, hyper_parameters: Sequence[HyperParameter]
    ) -> UploadKeyRequest:
        arguments: list[ArgumentDefinition] = []
        for index, item in enumerate(hyper_parameters):
            try:
                arguments.append(ArgumentDefinition.model_validate(definition_fields(item)))
            except (PydanticValidationError, TypeError, ValueError) as exc:
                name = getattr(item, "name", None)
                label = f"#{index + 1}" + (f" ({name!r})" if isinstance(name, str) else "")
                raise ValidationError(
                    f"Invalid hyperparameter definition {label}: {_summarise(exc)}",
                    "Check the parser definitions in the entrypoint (keynet-train inspect).",
                ) from None
        if not model_name:
            raise ValidationError("The model name is empty", "Pass --model-name NAME.")
        return UploadKeyRequest(model_name=model_name, hyper_parameters=arguments)

    def _headers(self, auth: bool) -> dict[str, str]:
        if not auth:
            return {}
        if not self._token:
            raise NotLoggedInError(
                "No credentials configured. Please login first: "
                f"keynet-train login {self.server_url}",
                f"Run: keynet-train login {self.server_url}",
            )
        return {"Authorization": f"Bearer {self._token}"}

    def _send(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        auth: bool = True,
    ) -> httpx.Response:
        """Send with the retry policy of docs/platform-contract.md; return the final response.

        Raises:
            NotLoggedInError: ``auth`` but no token.
            BackendError: a network failure that was not (or no longer) retried.
            ConfigError: the server URL cannot form a request URL.
        """
        headers = self._headers(auth)
        idempotent = method in ("GET", "HEAD")
        try:
            return send_with_retries(
                lambda: self._client.request(
                    method, path, json=json_body, params=params, headers=headers
                ),
                BACKEND_RETRIES,
                idempotent=idempotent,
                sleep=self._sleep,
            )
        except httpx.TransportError as exc:
            raise self._transport_error(exc, endpoint) from None
        except httpx.InvalidURL as exc:
            raise _invalid_url_error(self.server_url, exc) from None

    def _transport_error(self, exc: httpx.TransportError, endpoint: str) -> BackendError:
        failure = tls_failure(exc)
        if failure is not None:
            message, hint = tls_failure_text(
                *failure, f"{self.server_url} ({endpoint})", self._ca_bundle
            )
            return BackendError(message, hint)
        if isinstance(exc, ResponseTooLargeError):
            return BackendError(
                f"The response of {endpoint} on {self.server_url} is larger than "
                f"{MAX_RESPONSE_BYTES // (1024 * 1024)} MiB: refusing to read it",
                "The server URL may point at the wrong service; check it, or contact the "
                "platform team.",
            )
        cause = self._scrub(describe_transport_error(exc))
        if "WRONG_VERSION_NUMBER" in cause and self.server_url.startswith("https://"):
            # The classic sign of TLS spoken to a plain-HTTP port; a URL typed
            # without a scheme gets https:// (docs/login.md).
            plain = "http://" + self.server_url.removeprefix("https://")
            return BackendError(
                f"Cannot reach the backend at {self.server_url} ({endpoint}): the server "
                "does not speak TLS (https) on that port",
                f"If it is a plain-HTTP server, give the URL with http://: {plain}",
            )
        if isinstance(exc, httpx.TimeoutException):
            return BackendError(
                f"Backend request timed out: {endpoint} on {self.server_url}: {cause}",
                "The server is slow or unreachable; try again later.",
            )
        return BackendError(
            f"Cannot reach the backend at {self.server_url} ({endpoint}): {cause}",
            "Check the server URL, your network connection and any proxy settings.",
        )

    def _raise_for_status(
        self, response: httpx.Response, endpoint: str, *, rejected_hint: str | None = None
    ) -> None:
        """Map a non-2xx status to the typed error (docs/platform-contract.md)."""
        status = response.status_code
        if 200 <= status < 300:
            return
        detail = self._detail_suffix(response)
        if status in (401, 403):
            raise AuthenticationError(
                f"Backend API authentication failed ({status}) for {endpoint}: the access token "
                "is missing, expired or revoked. Please login again" + detail,
                f"Run: keynet-train login {self.server_url}",
            )
        if status in (400, 422):
            raise ValidationError(
                f"Request rejected: {self._server_message(response)} ({status} from {endpoint})",
                rejected_hint,
            )
        if status == 404:
            raise NotFoundError(
                f"Not found (404): {endpoint} on {self.server_url}" + detail,
                "Check the server URL (keynet-train config show).",
            )
        if status == 429:
            raise BackendError(
                f"Backend rate limit exceeded (429) for {endpoint}" + detail,
                "Wait a moment and try again.",
            )
        if status >= 500:
            raise BackendError(
                f"Backend server error ({status}) for {endpoint}" + detail,
                "The KeyNet backend failed; try again later or contact the platform team.",
            )
        raise BackendError(
            f"Unexpected HTTP {status} from {endpoint}" + detail,
            "Check the server URL (keynet-train config show).",
        )

    def _parse(self, response: httpx.Response, model: type[_M], endpoint: str) -> _M:
        """Validate a 2xx body against ``model``.

        Raises:
            BackendError: the body is not JSON or violates the contract; the
                pydantic error is not chained because it would carry the input
                (which may hold secrets) into --debug tracebacks.
        """
        try:
            data = json.loads(response.content)
        except RecursionError:
            raise BackendError(
                f"Invalid response from {endpoint}: its JSON is nested too deeply to read",
                "The server sent a malformed answer; contact the platform team.",
            ) from None
        except ValueError:
            content_type = response.headers.get("content-type") or "none"
            raise BackendError(
                f"Invalid response from {endpoint}: the body is not JSON "
                f"(HTTP {response.status_code}, Content-Type: {content_type})",
                "Check the server URL: it may point at a proxy or web page, not the KeyNet API.",
            ) from None
        try:
            return model.model_validate(data)
        except PydanticValidationError as exc:
            raise BackendError(
                f"Invalid response from {endpoint}: it does not match the API contract "
                f"({self._scrub(_summarise(exc))})",
                "The server may run an incompatible API version; upgrade keynet-train "
                "or contact the platform team.",
            ) from None

    def _server_message(self, response: httpx.Response) -> str:
        """The server's explanation (``message`` field or body), secrets scrubbed."""
        text = ""
        data = json_object(response.content)
        if data is not None:
            for key in ("message", "error", "detail", "errors"):
                value = data.get(key)
                if isinstance(value, str) and value.strip():
                    text = value.strip()
                    break
                if isinstance(value, list) and value:
                    text = "; ".join(
                        str(item.get("message") or json.dumps(redact_json(item)))
                        if isinstance(item, dict)
                        else str(item)
                        for item in value
                    )
                    break
            else:
                text = json.dumps(redact_json(data))
        else:
            text = response.text.strip()
        if not text:
            text = response.reason_phrase or f"HTTP {response.status_code}"
        text = " ".join(text.split())
        if len(text) > _MESSAGE_LIMIT:
            text = text[:_MESSAGE_LIMIT] + "…"
        return self._scrub(text)

    def _detail_suffix(self, response: httpx.Response) -> str:
        message = self._server_message(response)
        reason = response.reason_phrase or ""
        if not message or message == reason:
            return ""
        return f" (server said: {message})"

    def _scrub(self, text: str) -> str:
        return redact_text_fields(self._redactor(text))


def _invalid_url_error(server_url: str, exc: Exception) -> ConfigError:
    return ConfigError(
        f"Invalid backend URL {server_url!r}: {exc}",
        "Run: keynet-train login <url> with the right address, e.g. https://api.example.com",
    )


def _summarise(exc: Exception, limit: int = 3) -> str:
    """A short, input-free description of a validation error."""
    if isinstance(exc, PydanticValidationError):
        parts = []
        for error in exc.errors(include_input=False, include_url=False)[:limit]:
            location = ".".join(str(part) for part in error["loc"]) or "body"
            parts.append(f"{location}: {error['msg']}")
        more = exc.error_count() - limit
        if more > 0:
            parts.append(f"and {more} more")
        return "; ".join(parts)
    return str(exc)


__all__ = [
    "KNOWN_TASK_TYPES",
    "NANOID_PATTERN",
    "ArgumentDefinition",
    "BackendClient",
    "HarborAccount",
    "PageMeta",
    "ProjectAuthor",
    "ProjectsPage",
    "SignInRequest",
    "SignInResponse",
    "TrainableProject",
    "UploadKeyRequest",
    "UploadKeyResponse",
    "UserInfo",
]
