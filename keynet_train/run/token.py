"""The job's ``CALLBACK_TOKEN``: an HS256 JWT signed with a per-run secret (docs/run.md).

The platform gives each job a 6-hour token ``{job_id, scope:
"training-callback", iat, exp}`` and checks it on every callback. JWT HS256
is base64url(header).base64url(payload).base64url(HMAC-SHA256): the standard
library is enough, so no JWT package becomes a runtime dependency.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import NamedTuple

SCOPE = "training-callback"
LIFETIME_SECONDS = 6 * 3600
_HEADER = {"alg": "HS256", "typ": "JWT"}


class TokenRejected(Exception):
    """A callback token failed verification; ``status`` is what the platform answers."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Claims(NamedTuple):
    """The verified claims of a callback token."""

    job_id: int
    scope: str
    iat: int
    exp: int


def new_secret() -> bytes:
    """A fresh signing secret for one run (never written anywhere)."""
    return secrets.token_bytes(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(signing_input: str, secret: bytes) -> str:
    return _b64(hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest())


def issue_token(
    job_id: int, secret: bytes, now: int, *, scope: str = SCOPE, lifetime: int = LIFETIME_SECONDS
) -> str:
    """The JWT the platform would put in ``CALLBACK_TOKEN`` for ``job_id``. Raises nothing."""
    payload = {"job_id": job_id, "scope": scope, "iat": now, "exp": now + lifetime}
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (_HEADER, payload)
    )
    return f"{signing_input}.{_sign(signing_input, secret)}"


def verify_token(authorization: str | None, secret: bytes, now: int) -> Claims:
    """Check an ``Authorization`` header value as the platform does; return the claims.

    Raises:
        TokenRejected: 401 when the header is missing or not ``Bearer``, the
            token is malformed, its signature or algorithm is wrong, or it
            expired; 403 when the scope is not ``training-callback``.
    """
    if not authorization:
        raise TokenRejected(401, "no Authorization header")
    kind, _, token = authorization.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise TokenRejected(401, "the Authorization header is not 'Bearer <CALLBACK_TOKEN>'")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise TokenRejected(401, "the bearer token is not a JWT")
    try:
        header = json.loads(_unb64(parts[0]))
        payload = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError):
        raise TokenRejected(401, "the bearer token is not a JWT") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise TokenRejected(401, "the token is not signed with HS256")
    expected = _sign(f"{parts[0]}.{parts[1]}", secret)
    if not hmac.compare_digest(expected, parts[2]):
        raise TokenRejected(401, "the token's signature is invalid (not this job's CALLBACK_TOKEN)")
    if not isinstance(payload, dict):
        raise TokenRejected(401, "the token has no claims")
    job_id, scope = payload.get("job_id"), payload.get("scope")
    iat, exp = payload.get("iat"), payload.get("exp")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (job_id, iat, exp)):
        raise TokenRejected(401, "the token lacks job_id, iat or exp")
    assert isinstance(job_id, int) and isinstance(iat, int) and isinstance(exp, int)
    if exp <= now:
        raise TokenRejected(401, "the token expired")
    if scope != SCOPE:
        raise TokenRejected(403, f"the token's scope is {scope!r}, not {SCOPE!r}")
    return Claims(job_id, str(scope), iat, exp)
