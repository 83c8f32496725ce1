"""The image's labels and repository name (docs/platform-contract.md).

:func:`image_labels` builds the OCI and KeyNet labels (git revision and source
only in a git checkout, the remote without its ``user:token@``);
:func:`repository_component` turns an upload key into a repository path
component. Talks to no service (it asks ``git`` for the revision).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from keynet_train.build.image_names import is_repository_component
from keynet_train.errors import InputError

LABEL_PREFIX = "ai.keynet.train"


def repository_component(upload_key: str) -> str:
    """The repository path component for an upload key.

    Upload keys are NanoIDs (``A-Za-z0-9_-``) but OCI repository names must be
    lowercase, start and end alphanumeric, and may not run ``_``/``-``
    together, so ``{harbor_project}/{uploadKey}`` is only usable after this
    mapping: lowercase, every run of ``_``/``-`` becomes one ``-``, and leading
    or trailing separators are dropped. The exact key stays in the
    ``ai.keynet.train.upload-key`` label and in the result.
    """
    component = re.sub(r"[_-]+", "-", upload_key.lower()).strip("-")
    if not is_repository_component(component):
        # Unreachable for keys that passed NanoID validation; guard anyway.
        raise InputError(f"Upload key {upload_key!r} cannot be used as a repository name.")
    return component


def _git(context: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(context), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    out = done.stdout.strip()
    return out if done.returncode == 0 and out else None


def _strip_userinfo(url: str) -> str:
    """Remove ``user:token@`` from a remote URL: CI remotes often embed a token."""
    parts = urlsplit(url)
    # No scheme needed: a scheme-relative "//user:token@host/repo" holds one too.
    if "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


def image_labels(
    context: Path,
    entrypoint_in_context: str,
    upload_key: str | None,
    hyperparameters: list[dict[str, object]],
    now: datetime | None = None,
    subcommand: str | None = None,
    source: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The OCI and KeyNet labels of docs/platform-contract.md (git labels only in a git checkout).

    ``subcommand`` (the script's sub-command trained with) adds
    ``ai.keynet.train.command``; ``source`` is :func:`source_labels` of
    ``context`` when already looked up.
    """
    created = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    labels = {
        "org.opencontainers.image.created": created,
        f"{LABEL_PREFIX}.entrypoint": entrypoint_in_context,
        f"{LABEL_PREFIX}.hyperparameters": json.dumps(hyperparameters, separators=(",", ":")),
    }
    if subcommand is not None:
        labels[f"{LABEL_PREFIX}.command"] = subcommand
    if upload_key is not None:
        labels[f"{LABEL_PREFIX}.upload-key"] = upload_key
    labels.update(source_labels(context) if source is None else source)
    return labels


def source_labels(context: Path) -> dict[str, str]:
    """The OCI revision and source labels of a git checkout (none elsewhere); asks ``git``.

    A push looks them up while its image builds: each ``git`` run takes a few
    milliseconds that would otherwise follow the upload key.
    """
    labels: dict[str, str] = {}
    revision = _git(context, "rev-parse", "HEAD")
    if revision:
        labels["org.opencontainers.image.revision"] = revision
        remote = _git(context, "config", "--get", "remote.origin.url")
        if remote:
            labels["org.opencontainers.image.source"] = _strip_userinfo(remote)
    return labels
