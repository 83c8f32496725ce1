"""The ``/v2/`` credential check against a Harbor-like registry over real sockets.

The real distribution registry with ``auth: token``, our token service
granting per robot and project, and the Harbor-error proxy
(``tests/support/harbor.py``). No mocked HTTP here.
"""

from __future__ import annotations

import base64

import pytest

from keynet_train.errors import (
    HarborProjectNotFoundError,
    RegistryAuthError,
    RegistryPermissionError,
)
from keynet_train.registry.answers import (
    CHECK_REPOSITORY,
    granted_actions,
)
from tests.support.harbor import (
    MISSING_PROJECT,
    NO_ACCESS_ROBOT,
    PROJECT,
    PULL_ROBOT,
    PUSH_ROBOT,
    HarborErrors,
    HarborStack,
)
from tests.support.registry_calls import verify_registry_credentials

pytestmark = pytest.mark.integration


def check(harbor: HarborStack, robot: str, *, password: str | None = None, **kw: object) -> None:
    account = harbor.robot(robot)
    verify_registry_credentials(
        harbor.proxy.url,
        account.name,
        password if password is not None else account.password,
        ca_bundle=str(harbor.ca_cert),
        **kw,  # type: ignore[arg-type]
    )


def test_push_robot_passes_and_asks_for_push_scope(harbor: HarborStack) -> None:
    check(harbor, PUSH_ROBOT, push_project=PROJECT)
    (request,) = harbor.token_service.requests
    # "$" and "+" survive Basic auth and the account= query parameter.
    assert request.username == PUSH_ROBOT == request.account
    assert request.scopes == [f"repository:{PROJECT}/{CHECK_REPOSITORY}:push,pull"]
    assert request.granted[0]["actions"] == ["push", "pull"]


def test_debug_log_hides_secret_and_tokens(harbor: HarborStack) -> None:
    lines: list[str] = []
    check(harbor, PUSH_ROBOT, push_project=PROJECT, debug_log=lines.append)
    log = "\n".join(lines)
    assert "/service/token" in log
    robot = harbor.robot(PUSH_ROBOT)
    basic = base64.b64encode(f"{robot.name}:{robot.password}".encode()).decode()
    tokens = [r.token for r in harbor.token_service.requests]
    assert tokens and all(tokens)
    for secret in (robot.password, basic, *tokens):
        assert secret not in log


def test_direct_registry_without_proxy(harbor: HarborStack) -> None:
    robot = harbor.robot(PUSH_ROBOT)
    verify_registry_credentials(
        harbor.registry.url,
        robot.name,
        robot.password,
        ca_bundle=str(harbor.ca_cert),
        push_project=PROJECT,
    )


@pytest.mark.parametrize("robot", [PULL_ROBOT, NO_ACCESS_ROBOT])
def test_robot_that_cannot_push_is_caught(harbor: HarborStack, robot: str) -> None:
    with pytest.raises(RegistryPermissionError) as info:
        check(harbor, robot, push_project=PROJECT)
    error = info.value
    assert error.error_type == "registry"
    assert f"robot account {robot} cannot push to Harbor project {PROJECT}" in error.message
    assert error.hint is not None and "push permission" in error.hint
    assert "re-login" not in (error.hint or "")
    assert harbor.robot(robot).password not in f"{error.message} {error.hint}"


def test_login_only_check_accepts_a_pull_robot(harbor: HarborStack) -> None:
    """Without a project there is nothing to push to: the credentials are what counts."""
    check(harbor, PULL_ROBOT)


def test_wrong_secret_is_an_authentication_failure(harbor: HarborStack) -> None:
    with pytest.raises(RegistryAuthError) as info:
        check(harbor, PUSH_ROBOT, password="not-the-robot-secret", push_project=PROJECT)
    error = info.value
    assert "Harbor Registry authentication failed" in error.message
    assert error.hint is not None and "re-login" in error.hint
    assert "not-the-robot-secret" not in f"{error.message} {error.hint}"
    assert harbor.token_service.requests[-1].status == 401


def test_unknown_robot_is_an_authentication_failure(harbor: HarborStack) -> None:
    with pytest.raises(RegistryAuthError):
        verify_registry_credentials(
            harbor.proxy.url,
            "robot$kitech-model+gone",
            "whatever-secret",
            ca_bundle=str(harbor.ca_cert),
            push_project=PROJECT,
        )


def test_missing_project_is_named(harbor: HarborStack) -> None:
    harbor.proxy.answer_with(HarborErrors.project_not_found(MISSING_PROJECT))
    with pytest.raises(HarborProjectNotFoundError) as info:
        check(harbor, PUSH_ROBOT, push_project=MISSING_PROJECT)
    error = info.value
    assert error.error_type == "registry"
    assert error.message.startswith(
        f"Harbor project {MISSING_PROJECT} does not exist; "
        "check --harbor-project / KEYNET_HARBOR_PROJECT"
    )
    # Harbor grants nothing on a project that does not exist.
    assert harbor.token_service.requests[-1].granted[0]["actions"] == []


def test_granted_actions_reads_the_token_service_grant(harbor: HarborStack) -> None:
    repository = f"{PROJECT}/x"
    access = harbor.token_service.grant(PULL_ROBOT, [f"repository:{repository}:push,pull"])
    token = harbor.token_service.issue(PULL_ROBOT, access)
    assert granted_actions(token, repository) == {"pull"}
    assert granted_actions(token, "other/x") == set()
    assert granted_actions("opaque-token", repository) is None
    assert granted_actions("a.!!!.c", repository) is None
