"""URL helpers shared by login, the registry check, the config and the backend models.

Standard library only: imported on start-up paths.
"""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit


def split_http_url(raw: str) -> SplitResult | None:
    """Split an http(s) URL, assuming ``https://`` when no scheme is given.

    Returns None when the result is not an http/https URL with a host. Never raises.
    """
    url = raw.strip()
    if "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an invalid port or IPv6 literal
        return None
    return parts if valid else None


def host_of(url: str) -> str:
    """``https://harbor.example.com:8443/`` → ``harbor.example.com:8443`` (the registry host)."""
    url = url.strip()
    return url.split("://", 1)[-1].split("/", 1)[0]
