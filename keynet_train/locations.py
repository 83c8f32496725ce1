"""Where keynet-train keeps its config file (AUTH.md).

A module of its own, importing only ``os`` and ``pathlib``, so that
``keynet-train config path`` starts as fast as ``--version``: the config
module itself pulls in dataclasses, json and datetime.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def config_path(environ: Mapping[str, str]) -> Path:
    """Where the config file lives (AUTH.md).

    ``$KEYNET_CONFIG`` if set and non-empty, else
    ``$XDG_CONFIG_HOME/keynet/config.json`` (only if absolute, as the XDG spec
    requires), else ``~/.config/keynet/config.json`` with ``~`` taken from
    ``environ["HOME"]`` when present. Raises nothing (falls back to
    :meth:`Path.home` only when ``HOME`` is missing, which may raise
    RuntimeError if no home directory can be determined).
    """
    home_value = environ.get("HOME")
    explicit = environ.get("KEYNET_CONFIG")
    if explicit:
        if explicit == "~" or explicit.startswith("~/"):
            home = Path(home_value) if home_value else Path.home()
            return home / explicit[2:] if len(explicit) > 1 else home
        return Path(explicit)
    xdg = environ.get("XDG_CONFIG_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "keynet" / "config.json"
    home = Path(home_value) if home_value else Path.home()
    return home / ".config" / "keynet" / "config.json"
