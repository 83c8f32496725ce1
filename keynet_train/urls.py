"""URL helpers shared by login, the registry check, the config and the backend models.

Standard library only: imported on start-up paths.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

# One DNS label (RFC 1123); "_" is accepted because internal registry hosts use it.
_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")


def is_valid_host(host: str) -> bool:
    """True for an IP literal or a DNS name whose labels are 1-63 valid characters.

    Internationalised names must encode with IDNA. Rejecting ``..``, empty or
    over-long labels here keeps httpx's IDNA encoder from raising
    ``UnicodeError`` deep inside a request. Never raises.
    """
    import ipaddress

    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    try:
        ascii_name = name if name.isascii() else name.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    if not ascii_name or len(ascii_name) > 253:
        return False
    labels = ascii_name.split(".")
    if any(label.lower().startswith("xn--") and len(label) == 4 for label in labels):
        return False  # an A-label with no content
    return all(_LABEL_RE.match(label) for label in labels)


def split_http_url(raw: str) -> SplitResult | None:
    """Split an http(s) URL, assuming ``https://`` when no scheme is given.

    Returns None when the result is not an http/https URL with a valid host
    (see :func:`is_valid_host`). Never raises.
    """
    url = raw.strip()
    if "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number in range
        valid = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and is_valid_host(parts.hostname or "")
        )
    except ValueError:  # e.g. an invalid port or IPv6 literal
        return None
    return parts if valid else None


def host_of(url: str) -> str:
    """``https://harbor.example.com:8443/`` → ``harbor.example.com:8443`` (the registry host)."""
    url = url.strip()
    return url.split("://", 1)[-1].split("/", 1)[0]


def is_cleartext_remote(url: str) -> bool:
    """True for an ``http://`` URL whose host is not this machine (loopback).

    A password sent there crosses the network unencrypted. Never raises.
    """
    import ipaddress

    parts = split_http_url(url)
    if parts is None or parts.scheme != "http":
        return False
    host = (parts.hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


USERINFO_HINT = (
    "Give the URL without a user name or password (e.g. https://api.example.com): "
    "pass the user name with -u and the password at the prompt or with --password-stdin."
)


def _authority_and_rest(url: str) -> tuple[str, str, str]:
    """``scheme://`` (or ""), and the text after it split at its *last* ``@``.

    The last ``@`` is used, not the end of the authority: a password may hold
    ``/``, ``?`` or ``#``, which would otherwise cut it in two and leave half
    of it in what looks like the path.
    """
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    prefix = f"{scheme}://" if sep else ""
    userinfo, at, host_part = rest.rpartition("@")
    return prefix, userinfo if at else "", host_part if at else rest


def has_userinfo(url: str) -> bool:
    """True if an http(s) URL has an ``@`` after its scheme (``user[:password]@host``).

    Any ``@`` counts: ``https://h/a@b`` might be a password holding ``/`` and
    a server URL has no use for ``@``. Never raises.
    """
    text = url.strip()
    return "@" in (text.partition("://")[2] if "://" in text else text)


def has_password(url: str) -> bool:
    """True if a podman service URL (``ssh://``, ``tcp://``) carries ``user:password@``.

    A user name alone is ssh's account name and stays allowed. ``unix://``
    paths are never read as userinfo. Never raises.
    """
    if url.strip().startswith("unix://"):
        return False
    _, userinfo, _ = _authority_and_rest(url)
    return ":" in userinfo


def mask_userinfo(url: str) -> str:
    """``http://alice:secret@host/x`` → ``http://***@host/x``, for messages. Never raises."""
    if not has_userinfo(url):
        return url.strip()
    prefix, _, rest = _authority_and_rest(url)
    return f"{prefix}***@{rest}"
