"""Harbor's refusals that are not credential problems, as messages saying what to do.

They are listed in docs/harbor.md.

Harbor answers a push it will not take in a few fixed shapes, which podman
and the registry API pass on as text:

* quota — ``denied: adding 29.0 MiB of storage resource, which when updated to
  current usage of 152.4 MiB will exceed the configured upper limit of
  10.0 MiB.`` (storage, on a blob upload) or the same with ``count resource``
  (on the manifest put);
* project missing — ``NOT_FOUND`` with ``project kitech-model not found``;
* no push permission — ``unauthorized to access repository: P/R, action:
  push`` (Harbor's own check) or ``denied: requested access to the resource
  is denied`` (the registry's, for a token without ``push``).

Each becomes a :class:`~keynet_train.errors.RegistryError` subclass naming the
project and the robot account. None is retried and none asks for a re-login:
the credentials work, the project or its settings are the problem. Standard
library only; used by the podman client and the ``/v2/`` credential check.
"""

from __future__ import annotations

import re

from keynet_train.errors import (
    HarborProjectNotFoundError,
    RegistryError,
    RegistryPermissionError,
    RegistryQuotaError,
)

PROJECT_FLAGS = "--harbor-project / KEYNET_HARBOR_PROJECT"

_QUOTA_RE = re.compile(
    r"adding (?P<adding>.+?) of (?P<kind>storage|count) resource, which when updated to "
    r"current usage of (?P<usage>.+?) will exceed the configured upper limit of "
    r"(?P<limit>.+?)\.?(?:$|\s*[\n;\"}])",
    re.IGNORECASE,
)
_PROJECT_NOT_FOUND_RE = re.compile(r"project (?P<project>\S+?) not found", re.IGNORECASE)
_DENIED_RE = re.compile(
    r"unauthorized to access repository|requested access to the resource is denied"
    r"|\bdenied\b|\b403 forbidden\b|status(?: code)?:? 403\b|\b403\b \(|\(403\)",
    re.IGNORECASE,
)


def quota_error(text: str, project: str) -> RegistryQuotaError | None:
    """The quota error in ``text`` (Harbor's ``adding X … upper limit of Y``), or None."""
    match = _QUOTA_RE.search(text)
    if match is None:
        return None
    adding, usage, limit = match.group("adding", "usage", "limit")
    if match.group("kind").lower() == "count":
        message = (
            f"Harbor project {project} is at its artifact count quota: {usage} of {limit} "
            f"artifacts used, so the new image cannot be added (Harbor: {match.group(0).strip()})"
        )
    else:
        message = (
            f"Harbor project {project} is over its storage quota: {usage} used of {limit}, "
            f"and this push adds {adding} (Harbor: {match.group(0).strip()})"
        )
    return RegistryQuotaError(
        message,
        f"Free space in Harbor project {project}: delete old images or ask the project "
        "admin to raise the quota, then push again.",
    )


def project_not_found_error(text: str, project: str) -> HarborProjectNotFoundError | None:
    """The missing-project error if ``text`` is Harbor's ``project P not found``, else None."""
    match = _PROJECT_NOT_FOUND_RE.search(text)
    if match is None:
        return None
    return project_missing(project, match.group(0))


def project_missing(project: str, detail: str) -> HarborProjectNotFoundError:
    """The error for a Harbor project that does not exist."""
    return HarborProjectNotFoundError(
        f"Harbor project {project} does not exist; check {PROJECT_FLAGS} (Harbor: {detail})",
        "Push to an existing project with --harbor-project NAME (or KEYNET_HARBOR_PROJECT, "
        "or `keynet-train config set harbor_project NAME`); the default is kitech-model. "
        "Ask the platform team if the project should exist.",
    )


def push_denied(robot: str, project: str, detail: str) -> RegistryPermissionError:
    """The error for a robot account that may log in but not push to ``project``."""
    return RegistryPermissionError(
        f"Harbor robot account {robot} cannot push to Harbor project {project} (Harbor: {detail})",
        f"Ask the admin of Harbor project {project} to give the robot account push "
        f"permission, or push to a project it may push to with {PROJECT_FLAGS}.",
    )


def classify_refusal(text: str, robot: str, project: str | None) -> RegistryError | None:
    """The quota, missing-project or no-permission error ``text`` describes, else None.

    ``project`` is None when the failure is not about a repository (e.g. a
    login); then nothing is recognised. Quota comes first: its text also
    starts with ``denied:``.
    """
    if project is None:
        return None
    found = quota_error(text, project) or project_not_found_error(text, project)
    if found is not None:
        return found
    denied = _DENIED_RE.search(text)
    if denied is None:
        return None
    return push_denied(robot, project, _registry_words(text[denied.start() :]))


def _registry_words(text: str) -> str:
    """What the registry said, from the matched words to the end of their line.

    Harbor repeats its message (``A: A``); one copy is enough.
    """
    line = text.strip().splitlines()[0].strip()
    half = (len(line) - 2) // 2
    if half > 0 and line[:half] == line[half + 2 :] and line[half : half + 2] == ": ":
        line = line[:half]
    return line[:300]
