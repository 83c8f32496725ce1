"""Masking and redaction of secrets: the one place that decides how they look.

docs/platform-contract.md: no token or password ever appears in any output, log or exception
text. Three tools cover that:

* :func:`mask_secret` — the display form used by ``config show``;
* :func:`redact` — scrubs *known* secret values from arbitrary text (server
  error messages, exception strings) before it reaches the user;
* :func:`redact_json` / :func:`redact_text_fields` / :func:`redact_headers` —
  scrub secrets by *name* (``password``, ``accessToken``, ``Authorization`` …)
  where the values are not known in advance, e.g. ``--debug`` HTTP logs.

Standard library only: ``config show`` imports this at start-up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

REDACTED = "***"
"""What a redacted value is replaced with."""

FULL_MASK = "********"
"""The mask of a value too short to show any of it."""

_MASK_MIN_LENGTH = 12

# Header names whose values are credentials (compared lower-case).
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-registry-auth",
        "x-auth-token",
        "x-api-key",
    }
)

# A JSON/form field is secret when its normalised name (lower-case, without
# "_" and "-") contains one of these. Substring matching catches variants such
# as accessToken, access_token, refreshToken, harborPassword, clientSecret.
_SECRET_NAME_PARTS = ("password", "passwd", "token", "secret", "authorization", "apikey")
# ...unless the name ends in one of these: it then describes a secret (when it
# expires, what kind it is) without holding it, and --debug must show it
# because an expiry time is what explains a 401.
_METADATA_SUFFIXES = ("expiresat", "expiresin", "expiry", "expiration", "type")

# `key=` / `"key": "` in non-JSON text (form bodies, query strings, half-broken
# JSON). Keys start at a word boundary (the look-behind) and values are matched
# separately, so scanning stays linear even on huge runs of word characters.
_KEY_SEP_RE = re.compile(r"""(?<![\w\-])(?P<key>[\w\-]+)["']?[ \t]*[:=][ \t]*(?P<quote>["']?)""")
# An unquoted value (form data, query strings) ends at these characters...
_VALUE_RE = re.compile(r"""[^"'&\s,;}]+""")
# ...a quoted one only at its closing quote (escapes skipped), or at the end
# of a truncated text: a token may contain any of the characters above.
_QUOTED_VALUE_RE = {
    '"': re.compile(r'(?:[^"\\]|\\.)*\\?', re.S),
    "'": re.compile(r"(?:[^'\\]|\\.)*\\?", re.S),
}


def mask_secret(value: str) -> str:
    """Return the display form of a secret: first 6 + ``...`` + last 3 characters.

    Values shorter than 12 characters are fully masked (``********``) because
    showing 9 of them would reveal most of the secret. Never raises.
    """
    if len(value) < _MASK_MIN_LENGTH:
        return FULL_MASK
    return f"{value[:6]}...{value[-3:]}"


def is_secret_name(name: str) -> bool:
    """True when a field or parameter called ``name`` holds a credential."""
    normalised = name.lower().replace("_", "").replace("-", "")
    if normalised.endswith(_METADATA_SUFFIXES):
        return False
    return any(part in normalised for part in _SECRET_NAME_PARTS)


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every occurrence of each known secret in ``text`` with ``***``.

    Also catches the JSON-escaped and URL-encoded spellings of each secret, as
    servers and libraries echo them in those forms. Empty/None entries are
    ignored. Longer secrets are replaced first so a secret containing another
    one is not left half-visible. Never raises.
    """
    variants: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        variants.add(secret)
        variants.add(json.dumps(secret)[1:-1])
        variants.add(json.dumps(secret, ensure_ascii=False)[1:-1])
        variants.add(quote(secret, safe=""))
        variants.add(quote(secret))
    # Every variant of a non-empty secret is non-empty: no empty replace below.
    for variant in sorted(variants, key=len, reverse=True):
        text = text.replace(variant, REDACTED)
        # A replacement can join its neighbours into the secret again
        # ("x***" in "xx***"); each pass shortens the text, so this ends.
        while len(variant) > len(REDACTED) and variant in text:
            text = text.replace(variant, REDACTED)
    return text


class Redactor:
    """The secret values known so far, scrubbed from any text passed through it.

    Fed as soon as a value is known (the password before sign-in is sent, a
    token while its response is being logged), so nothing logged afterwards,
    or at the same moment, can show it.
    """

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Remember more secret values (empty/None ignored). Never raises."""
        for secret in secrets:
            if secret and secret not in self._secrets:
                self._secrets.append(secret)

    def learn(self, value: Any) -> None:
        """Remember every string held by a secret-named field of a decoded JSON value.

        Never raises (deep nesting is cut off rather than recursed into).
        """
        stack: list[tuple[Any, int]] = [(value, 0)]
        while stack:
            item, depth = stack.pop()
            if depth > _MAX_LEARN_DEPTH:
                continue
            if isinstance(item, Mapping):
                for key, child in item.items():
                    if isinstance(key, str) and is_secret_name(key) and isinstance(child, str):
                        self.add(child)
                    else:
                        stack.append((child, depth + 1))
            elif isinstance(item, list):
                stack.extend((child, depth + 1) for child in item)

    @property
    def secrets(self) -> list[str]:
        """The known values (a copy)."""
        return list(self._secrets)

    def __call__(self, text: str) -> str:
        """``text`` with every known secret replaced by ``***`` (see :func:`redact`)."""
        return redact(text, self._secrets)


_MAX_LEARN_DEPTH = 100


def redact_json(value: Any) -> Any:
    """Return a copy of a decoded JSON value with secret-named fields replaced.

    Walks dicts and lists recursively; a dict key accepted by
    :func:`is_secret_name` has its value (whatever its type) replaced by
    ``***``. Never raises.
    """
    if isinstance(value, Mapping):
        return {
            key: REDACTED if isinstance(key, str) and is_secret_name(key) else redact_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    return value


def redact_text_fields(text: str) -> str:
    """Scrub ``name=value`` / ``"name": "value"`` pairs with secret names from text.

    For bodies that are not valid JSON (form data, query strings, truncated
    JSON). A quoted value is redacted whole, up to its closing quote (or the
    end of the text when it was cut off); an unquoted one ends at ``&``,
    ``,``, ``;``, ``}``, a quote or whitespace. Never raises.
    """

    parts: list[str] = []
    position = 0
    for match in _KEY_SEP_RE.finditer(text):
        if match.start() < position or not is_secret_name(match.group("key")):
            continue
        quote_char = match.group("quote")
        pattern = _QUOTED_VALUE_RE[quote_char] if quote_char else _VALUE_RE
        value = pattern.match(text, match.end())
        if value is None or value.end() == match.end():
            continue
        parts.append(text[position : match.end()])
        parts.append(REDACTED)
        position = value.end()
    parts.append(text[position:])
    return "".join(parts)


def redact_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Return ``(name, value)`` pairs with credential headers' values replaced.

    The auth scheme of an ``Authorization`` header (``Basic``/``Bearer``) is
    kept because it helps debugging and reveals nothing. Never raises.
    """
    result: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() in SECRET_HEADERS:
            scheme, _, rest = value.partition(" ")
            keep_scheme = rest and scheme.lower() in ("basic", "bearer", "token", "digest")
            result.append((name, f"{scheme} {REDACTED}" if keep_scheme else REDACTED))
        else:
            result.append((name, value))
    return result
