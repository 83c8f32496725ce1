"""What a failed push or ``podman login`` means, from the text podman reports.

podman passes the registry's answer on as text, inside a stream that said
HTTP 200 or in ``podman login``'s stderr. :func:`classify_push_error` turns it
into a :class:`~keynet_train.errors.RegistryError` subclass with a hint, or a
:class:`TransientPushError` the caller retries. Harbor's own refusals come
first (:mod:`keynet_train.registry.harbor_errors`). Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from keynet_train.errors import RegistryAuthError, RegistryError
from keynet_train.registry.harbor_errors import classify_refusal
from keynet_train.secrets import redact


class TransientPushError(Exception):
    """A push failure worth retrying (5xx, reset, timeout)."""


_AUTH_RE = re.compile(
    r"unauthorized|authentication required|access to the resource is denied|denied:"
    r"|invalid username/password"
    r"|\b40[13]\b \(",
    re.IGNORECASE,
)
_TOO_LARGE_RE = re.compile(r"\b413\b|request entity too large|payload too large", re.IGNORECASE)
_TLS_RE = re.compile(r"x509:|certificate|tls: |server gave HTTP response to HTTPS", re.IGNORECASE)
_TRANSIENT_RE = re.compile(
    r"\b5\d\d \(|status(?: code)?:? 5\d\d\b|internal server error|bad gateway"
    r"|service unavailable|gateway timeout"
    r"|connection reset|broken pipe|\bEOF\b|timeout|timed out",
    re.IGNORECASE,
)
_REFUSED_RE = re.compile(r"connection refused|no such host|network is unreachable", re.IGNORECASE)


# Go's crypto/x509 wording, as podman passes it on.
_TLS_EXPIRED_RE = re.compile(r"certificate has expired|not yet valid", re.IGNORECASE)
_TLS_HOSTNAME_RE = re.compile(
    r"certificate is valid for|not valid for any names|doesn't contain any IP SANs", re.IGNORECASE
)


def _tls_error(text: str, registry: str) -> RegistryError:
    """A TLS failure of a push: expiry, host name and trust each have their own remedy."""
    if _TLS_EXPIRED_RE.search(text):
        return RegistryError(
            f"TLS verification of the registry {registry} failed: its certificate has "
            f"expired or is not valid yet … {text}",
            hint="The registry's certificate must be renewed: tell the platform team. If it "
            "should be valid, check this computer's date and time.",
        )
    if _TLS_HOSTNAME_RE.search(text):
        return RegistryError(
            f"TLS verification of the registry {registry} failed: its certificate is not "
            f"valid for this host name … {text}",
            hint="The Harbor URL and the certificate disagree on the host name: tell the "
            "platform team (a CA bundle does not change this).",
        )
    return RegistryError(
        f"TLS verification of the registry {registry} failed … {text}",
        hint="Trust its CA: set KEYNET_CA_BUNDLE to the CA's PEM file (keynet-train "
        f"installs it for podman under certs.d/{registry}/ca.crt; if it is already set, "
        "it does not hold the CA that signed this certificate), or pass "
        "--insecure-registry to skip verification (not recommended).",
    )


def _registry_of(reference: str) -> str:
    return reference.split("/", 1)[0]


def _project_of(reference: str) -> str | None:
    """``host/project/repo:tag`` → ``project`` (None without a project part)."""
    parts = reference.split("/")
    return parts[1] if len(parts) >= 3 and parts[1] else None


def raise_push_error(text: str, reference: str, secrets: Iterable[str], robot: str) -> None:
    """Raise the error matching a push failure podman reported."""
    raise classify_push_error(text, reference, secrets, robot=robot)


def classify_push_error(
    text: str,
    reference: str,
    secrets: Iterable[str],
    action: str | None = None,
    *,
    robot: str,
) -> Exception:
    """Map podman's error text to a RegistryError subclass or TransientPushError.

    Harbor's quota, missing-project and no-permission answers come first
    (:mod:`keynet_train.registry.harbor_errors`): they are not credential problems.
    """
    # Very short "secrets" are skipped: redacting "p" would mangle every word,
    # and podman never echoes passwords anyway; this is defence in depth.
    text = redact(text.strip(), [s for s in secrets if len(s) >= 6])
    registry = _registry_of(reference)
    refusal = classify_refusal(text, robot, _project_of(reference))
    if refusal is not None:
        return refusal
    if _AUTH_RE.search(text):
        return RegistryAuthError(
            f"Harbor Registry authentication failed for {registry} … {text}",
            hint="The robot credentials were rejected; run `keynet-train login` again "
            "to re-login and refresh credentials.",
        )
    if _TOO_LARGE_RE.search(text):
        return RegistryError(
            f"The registry (or a proxy in front of it) rejected an upload as too large "
            f"(HTTP 413) while pushing {reference} … {text}",
            hint="A reverse proxy body-size limit is too small for image layers: raise it "
            "(nginx: client_max_body_size 0;) or ask the registry administrator.",
        )
    if _TLS_RE.search(text):
        return _tls_error(text, registry)
    if _REFUSED_RE.search(text):
        return RegistryError(
            f"Cannot reach the registry {registry} … {text}",
            hint="Check the registry address and your network, then push again.",
        )
    if _TRANSIENT_RE.search(text):
        return TransientPushError(text)
    return RegistryError(
        f"{action or f'Pushing {reference}'} failed … {text}",
        hint="The registry's own words are above; push again, and if it keeps failing "
        "the same way, contact the platform team with this message.",
    )
