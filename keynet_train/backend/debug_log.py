"""Redacted ``--debug`` logging of HTTP requests and responses (httpx event hooks).

:func:`request_logger` and :func:`response_logger` render one text block per
request and response: headers, query parameters and JSON bodies with every
secret replaced, bodies cut at a small size. :func:`keynet_train.backend.http.create_http_client`
installs them when ``--debug`` asks for a log.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from keynet_train.secrets import (
    REDACTED,
    Redactor,
    is_secret_name,
    redact_headers,
    redact_json,
    redact_text_fields,
)

DebugLog = Callable[[str], None]

# Bodies longer than this are cut in debug logs: a projects page is small, an
# HTML error page from a proxy is not worth more.
_DEBUG_BODY_LIMIT = 2000


def _format_body(content: bytes, content_type: str, redactor: Redactor) -> str:
    """A redacted, truncated rendering of a request/response body.

    Redaction happens on the whole body, parsed when it is JSON, and only
    then is the result cut for display: a cut first would break the JSON and
    leave the secrets to a text scan. Secret-named values found on the way
    are handed to ``redactor`` before anything is logged.
    """
    if not content:
        return ""
    total = len(content)
    text = content.decode("utf-8", errors="replace")
    rendered: str | None = None
    if "json" in content_type or text.lstrip().startswith(("{", "[")):
        try:
            data = json.loads(text)
            redactor.learn(data)
            rendered = json.dumps(redact_json(data), ensure_ascii=False)
        except (ValueError, RecursionError):
            rendered = None  # not JSON after all (or absurdly deep): scan it as text
    if rendered is None:
        rendered = redact_text_fields(text)
    rendered = redactor(rendered)
    if len(rendered) > _DEBUG_BODY_LIMIT:
        rendered = rendered[:_DEBUG_BODY_LIMIT] + f"… ({total} bytes)"
    return rendered


def _format_url(url: httpx.URL) -> str:
    """The URL with secret-named query parameters and userinfo redacted."""
    if url.userinfo:
        url = url.copy_with(username=None, password=None)
    if not url.query:
        return str(url)
    params = [
        (key, REDACTED if is_secret_name(key) else value) for key, value in url.params.multi_items()
    ]
    return str(url.copy_with(params=params))


def _format_headers(headers: httpx.Headers) -> str:
    return "".join(f"\n  {name}: {value}" for name, value in redact_headers(headers.items()))


def request_logger(debug_log: DebugLog, redactor: Redactor) -> Callable[[httpx.Request], None]:
    def log_request(request: httpx.Request) -> None:
        body = ""
        # Streaming uploads have no .content until read; we only ever send
        # small JSON bodies, so anything else is logged by size only.
        try:
            body = _format_body(request.content, request.headers.get("content-type", ""), redactor)
        except httpx.RequestNotRead:
            body = "<streamed body>"
        text = f"> {request.method} {_format_url(request.url)}{_format_headers(request.headers)}"
        if body:
            text += f"\n  body: {body}"
        debug_log(redactor(text))

    return log_request


def response_logger(debug_log: DebugLog, redactor: Redactor) -> Callable[[httpx.Response], None]:
    def log_response(response: httpx.Response) -> None:
        # Reading here is safe: no caller streams responses through these clients.
        response.read()
        body = _format_body(response.content, response.headers.get("content-type", ""), redactor)
        request = response.request
        text = (
            f"< {response.status_code} {response.reason_phrase} "
            f"({request.method} {_format_url(request.url)})"
            f"{_format_headers(response.headers)}"
        )
        if body:
            text += f"\n  body: {body}"
        debug_log(redactor(text))

    return log_response
