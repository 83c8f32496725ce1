"""Where keynet-train keeps its files: the config file (AUTH.md) and the caches.

:func:`user_directory` is the one place the XDG base-directory rules live.
A module of its own, importing only ``os`` and ``pathlib``, so that
``keynet-train config path`` starts as fast as ``--version`` (docs/development.md,
"Start-up").
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

#: Project file names, in the order they win within one directory.
PROJECT_FILE_NAMES = ("keynet.toml", "pyproject.toml")


def config_path(environ: Mapping[str, str]) -> Path:
    """Where the config file lives (AUTH.md).

    ``$KEYNET_CONFIG`` if set and non-empty, else
    ``$XDG_CONFIG_HOME/keynet/config.json`` (only if absolute, as the XDG spec
    requires), else ``~/.config/keynet/config.json`` with ``~`` taken from
    ``environ["HOME"]`` when present. Raises nothing (falls back to
    :meth:`Path.home` only when ``HOME`` is missing, which may raise
    RuntimeError if no home directory can be determined).
    """
    explicit = environ.get("KEYNET_CONFIG")
    if explicit:
        if explicit == "~" or explicit.startswith("~/"):
            home = _home(environ)
            return home / explicit[2:] if len(explicit) > 1 else home
        return Path(explicit)
    return user_directory("config", environ) / "config.json"


def user_directory(kind: str, environ: Mapping[str, str]) -> Path:
    """keynet-train's own directory of ``kind`` (``"config"`` or ``"cache"``), by the XDG rules.

    ``$XDG_CONFIG_HOME/keynet`` or ``$XDG_CACHE_HOME/keynet`` when that variable
    is an absolute path (the XDG spec ignores relative ones), else
    ``~/.config/keynet`` or ``~/.cache/keynet``, with ``~`` taken from
    ``environ["HOME"]`` when present. Nothing is created.

    Raises:
        ValueError: ``kind`` is neither ``"config"`` nor ``"cache"``.
        RuntimeError: ``HOME`` is missing and no home directory can be determined.
    """
    if kind not in ("config", "cache"):
        raise ValueError(f"unknown user directory kind {kind!r}")
    base = environ.get(f"XDG_{kind.upper()}_HOME")
    if base and os.path.isabs(base):
        return Path(base) / "keynet"
    return _home(environ) / f".{kind}" / "keynet"


def _home(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME")
    return Path(home) if home else Path.home()


def project_file_candidates(entrypoint: Path) -> Iterator[Path]:
    """The project files that may configure ``entrypoint``, nearest first.

    Searches the entrypoint's directory (or ``entrypoint`` itself if it is a
    directory) and its parents, and stops after the git root (the directory
    holding ``.git``), the user's home directory, or the file-system root: a
    file above them belongs to someone else (another user's
    ``/tmp/keynet.toml`` must not configure a download unpacked in ``/tmp``;
    docs/security.md). Directories and dangling links by those names are
    skipped; anything else is yielded, so a FIFO or a link to a device is
    reported by the reader instead of silently ignored. Raises nothing.
    """
    start = entrypoint.resolve()
    if not start.is_dir():
        start = start.parent
    try:
        home: Path | None = Path.home().resolve()
    except (RuntimeError, OSError):  # no home directory can be determined
        home = None
    for directory in (start, *start.parents):
        for name in PROJECT_FILE_NAMES:
            candidate = directory / name
            if os.path.exists(candidate) and not os.path.isdir(candidate):
                yield candidate
        # .git is a directory in a clone and a file in a worktree or submodule.
        if os.path.lexists(directory / ".git") or directory == home:
            return
