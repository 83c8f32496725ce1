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
