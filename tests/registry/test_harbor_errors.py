"""Harbor's refusals, as podman 4.3 reported them in the Harbor e2e runs, mapped to typed errors.

The texts below were captured from real pushes against the token-auth
registry and the Harbor-error proxy (tests/podman/test_harbor_push.py runs
the same cases end to end); these tests pin the wording rules.
"""

from __future__ import annotations

import pytest

from keynet_train.errors import (
    HarborProjectNotFoundError,
    RegistryAuthError,
    RegistryPermissionError,
    RegistryQuotaError,
)
from keynet_train.registry.harbor_errors import classify_refusal
from keynet_train.registry.push_errors import classify_push_error

ROBOT = "robot$kitech-model+ci"
REFERENCE = "harbor.example.com/kitech-model/abc:latest"

STORAGE = (
    "writing blob: uploading layer to https://h/v2/kitech-model/d/blobs/uploads/0d53?_state=x"
    "&digest=sha256%3Af579: denied: adding 29.0 MiB of storage resource, which when updated to "
    "current usage of 152.4 MiB will exceed the configured upper limit of 10.0 MiB."
)
COUNT = (
    "writing manifest: uploading manifest 1 to h/kitech-model/e: denied: adding 1 of count "
    "resource, which when updated to current usage of 10 will exceed the configured upper "
    "limit of 10."
)
HARBOR_DENIED = (
    "writing blob: initiating layer upload to /v2/kitech-model/g/blobs/uploads/ in h: "
    "unauthorized: unauthorized to access repository: kitech-model/g, action: push: "
    "unauthorized to access repository: kitech-model/g, action: push"
)
REGISTRY_DENIED = (
    "writing blob: initiating layer upload to /v2/kitech-model/c/blobs/uploads/ in h: errors:\n"
    "denied: requested access to the resource is denied\n"
    "unauthorized: authentication required"
)
BAD_SECRET = (
    "trying to reuse blob sha256:05f6 at destination: unable to retrieve auth token: "
    "invalid username/password: unauthorized"
)


def test_storage_quota_names_project_usage_and_limit() -> None:
    error = classify_push_error(STORAGE, REFERENCE, [], robot=ROBOT)
    assert isinstance(error, RegistryQuotaError)
    assert error.message.startswith(
        "Harbor project kitech-model is over its storage quota: 152.4 MiB used of 10.0 MiB, "
        "and this push adds 29.0 MiB"
    )
    assert error.hint is not None and "delete old images or ask the project admin" in error.hint


def test_count_quota() -> None:
    error = classify_push_error(COUNT, REFERENCE, [], robot=ROBOT)
    assert isinstance(error, RegistryQuotaError)
    assert "artifact count quota: 10 of 10" in error.message


@pytest.mark.parametrize(
    "text",
    [
        HARBOR_DENIED,
        REGISTRY_DENIED,
        "writing blob: unexpected status code 403 Forbidden",
        "initiating layer upload: forbidden (403)",
    ],
)
def test_denied_is_a_permission_error_not_a_relogin(text: str) -> None:
    error = classify_push_error(text, REFERENCE, [], robot=ROBOT)
    assert type(error) is RegistryPermissionError
    assert f"robot account {ROBOT} cannot push to Harbor project kitech-model" in error.message
    assert "re-login" not in (error.hint or "")


def test_harbor_repeats_its_message_once_is_enough() -> None:
    error = classify_refusal(HARBOR_DENIED, ROBOT, "kitech-model")
    assert error is not None
    assert error.message.count("unauthorized to access repository") == 1


def test_project_not_found() -> None:
    error = classify_push_error(
        "initiating layer upload: not_found: project nope not found", REFERENCE, [], robot=ROBOT
    )
    assert isinstance(error, HarborProjectNotFoundError)
    assert error.message.startswith(
        "Harbor project kitech-model does not exist; check --harbor-project / KEYNET_HARBOR_PROJECT"
    )


def test_bad_secret_stays_an_authentication_failure() -> None:
    error = classify_push_error(BAD_SECRET, REFERENCE, [], robot=ROBOT)
    assert type(error) is RegistryAuthError
    assert error.hint is not None and "re-login" in error.hint


def test_without_a_project_nothing_is_reinterpreted() -> None:
    assert classify_refusal(STORAGE, ROBOT, None) is None
    assert classify_refusal("all good", ROBOT, "kitech-model") is None


def test_unrecognised_failure_still_has_a_hint() -> None:
    error = classify_push_error("something odd happened", REFERENCE, [], robot=ROBOT)
    assert type(error).__name__ == "RegistryError"
    assert getattr(error, "hint", None)
