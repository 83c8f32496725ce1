"""login → push against a Harbor-like registry: Bearer tokens, robot scopes, Harbor's refusals.

The CLI runs in-process against real podman, the real distribution registry
with ``auth: token``, our token service and the Harbor-error proxy
(``tests/support/harbor.py``), and the fake backend, all over real sockets.
The Basic-auth registry of ``test_push_flow.py`` stays the second registry type.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import SIMPLE_DOCKERFILE, Cli, make_context
from tests.support.fake_backend import FakeBackend
from tests.support.harbor import (
    ADMIN,
    MISSING_PROJECT,
    PROJECT,
    PULL_ROBOT,
    PUSH_ROBOT,
    HarborErrors,
    HarborStack,
)

pytestmark = pytest.mark.integration

UPLOAD_PREFIX = "/v1/projects/"


@pytest.fixture
def robot_name() -> str:
    """The robot account the fake backend hands out at sign-in (parametrize to change)."""
    return PUSH_ROBOT


@pytest.fixture
def backend(harbor: HarborStack, robot_name: str) -> Iterator[FakeBackend]:
    """The fake backend, its sign-in returning the Harbor proxy and a Harbor robot account."""
    robot = harbor.robot(robot_name)
    with FakeBackend(
        harbor_url=harbor.proxy.url, harbor_username=robot.name, harbor_password=robot.password
    ) as fake:
        yield fake


def _push(cli: Cli, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    result = cli(
        "push", str(context / "train.py"), "--context", str(context), "--project", "1",
        "--json", *extra,
    )  # fmt: skip
    payload = json.loads(result.out) if result.out.strip() else {}
    return result.code, payload, result.err


def _upload_requests(cli: Cli) -> list[object]:
    return cli.backend.requests_to(UPLOAD_PREFIX, "POST")


def _robot_token_requests(harbor: HarborStack) -> list[Any]:
    return [r for r in harbor.token_service.requests if r.username != ADMIN]


def _assert_error(payload: dict[str, Any], err: str, *needles: str) -> None:
    """One typed error object on stdout; the same words on stderr for people."""
    assert set(payload) == {"error"}
    assert payload["error"]["type"] == "registry"
    text = f"{payload['error']['message']} {payload['error']['hint']}"
    for needle in needles:
        assert needle in text
        assert needle in " ".join(err.split())
    assert "Traceback" not in err


def test_login_checks_push_scope_through_the_token_service(cli: Cli, harbor: HarborStack) -> None:
    result = cli(
        "login", cli.backend.url, "-u", cli.backend.username, "--password-stdin",
        stdin=cli.backend.password + "\n",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "Warning" not in result.err
    # podman is not logged in (its auth file would keep the robot password).
    assert "podman is logged in" not in result.err
    requests = _robot_token_requests(harbor)
    assert requests, "login did not ask the token service"
    check = requests[0]
    assert check.username == check.account == PUSH_ROBOT
    assert check.scopes == [f"repository:{PROJECT}/keynet-train-check:push,pull"]
    stored = cli.store.load()
    assert stored is not None and stored.harbor is not None
    assert stored.harbor.username == PUSH_ROBOT


def test_push_to_harbor(cli: Cli, harbor: HarborStack, tmp_path: Path) -> None:
    cli.login()
    code, result, err = _push(cli, tmp_path)
    assert code == 0, err
    repository = result["image"].split("/", 1)[1].rsplit(":", 1)[0]
    assert repository.startswith(f"{PROJECT}/")
    assert harbor.registry.manifest_digest(repository, "latest") == result["digest"]
    # podman's own token requests (X-Registry-Auth) kept the robot name's "$" and "+".
    podman_scope = f"repository:{repository}:pull,push"
    pushes = [r for r in _robot_token_requests(harbor) if podman_scope in r.scopes]
    assert pushes and all(r.username == r.account == PUSH_ROBOT for r in pushes)


@pytest.mark.parametrize("robot_name", [PULL_ROBOT])
def test_robot_without_push_permission(cli: Cli, harbor: HarborStack, tmp_path: Path) -> None:
    login = cli(
        "login", cli.backend.url, "-u", cli.backend.username, "--password-stdin",
        stdin=cli.backend.password + "\n",
    )  # fmt: skip
    assert login.code == 0, login.err
    needle = f"robot account {PULL_ROBOT} cannot push to Harbor project {PROJECT}"
    assert needle in login.err  # a warning at login: the robot may push elsewhere
    code, result, err = _push(cli, tmp_path)
    assert code == 1
    _assert_error(result, err, needle, "push permission")
    assert _upload_requests(cli) == []  # caught before an upload key was registered
    # One check at login, one before the push: a refusal is not retried.
    scope = f"repository:{PROJECT}/keynet-train-check:push,pull"
    checks = [r for r in _robot_token_requests(harbor) if r.scopes == [scope]]
    assert len(checks) == 2


def test_harbor_denies_the_push_itself(cli: Cli, harbor: HarborStack, tmp_path: Path) -> None:
    """Permission revoked after the check: Harbor's own 401 "… action: push" on the upload."""
    cli.login()
    harbor.proxy.answer_with(HarborErrors.push_denied(harbor.token_service.realm))
    code, result, err = _push(cli, tmp_path)
    assert code == 1
    _assert_error(
        result,
        err,
        f"robot account {PUSH_ROBOT} cannot push to Harbor project {PROJECT}",
        "unauthorized to access repository",
        "push permission",
    )
    assert "re-login" not in result["error"]["hint"]
    assert "retrying" not in err  # not retried


def test_storage_quota_on_first_blob(cli: Cli, harbor: HarborStack, tmp_path: Path) -> None:
    cli.login()
    harbor.proxy.answer_with(HarborErrors.storage_quota("29.0 MiB", "152.4 MiB", "10.0 MiB"))
    code, result, err = _push(cli, tmp_path)
    assert code == 1
    _assert_error(
        result,
        err,
        f"Harbor project {PROJECT} is over its storage quota: 152.4 MiB used of 10.0 MiB",
        "delete old images or ask the project admin",
    )
    assert [r.method for r in harbor.proxy.requests if r.status == 403] == ["PUT"]


def test_count_quota_on_manifest(cli: Cli, harbor: HarborStack, tmp_path: Path) -> None:
    cli.login()
    harbor.proxy.answer_with(HarborErrors.count_quota(10, 10))
    code, result, err = _push(cli, tmp_path)
    assert code == 1
    _assert_error(
        result,
        err,
        f"Harbor project {PROJECT} is at its artifact count quota: 10 of 10",
        "delete old images or ask the project admin",
    )
    refused = [r for r in harbor.proxy.requests if r.status == 403]
    assert len(refused) == 1 and "/manifests/" in refused[0].path


def test_missing_project(cli: Cli, harbor: HarborStack, tmp_path: Path) -> None:
    cli.login()
    harbor.proxy.answer_with(HarborErrors.project_not_found(MISSING_PROJECT))
    code, result, err = _push(cli, tmp_path, "--harbor-project", MISSING_PROJECT)
    assert code == 1
    _assert_error(
        result,
        err,
        f"Harbor project {MISSING_PROJECT} does not exist; "
        "check --harbor-project / KEYNET_HARBOR_PROJECT",
    )
    assert _upload_requests(cli) == []


def test_bad_robot_secret(cli: Cli, harbor: HarborStack, tmp_path: Path) -> None:
    cli.login()
    cli.set_harbor(password="not-the-robot-secret")
    code, result, err = _push(cli, tmp_path)
    assert code == 1
    _assert_error(result, err, "Harbor Registry authentication failed", "re-login")
    assert "not-the-robot-secret" not in err + json.dumps(result)
    assert _upload_requests(cli) == []


def test_login_checks_the_project_from_the_environment(cli: Cli, harbor: HarborStack) -> None:
    harbor.proxy.answer_with(HarborErrors.project_not_found(MISSING_PROJECT))
    result = cli(
        "login", cli.backend.url, "-u", cli.backend.username, "--password-stdin",
        stdin=cli.backend.password + "\n", KEYNET_HARBOR_PROJECT=MISSING_PROJECT,
    )  # fmt: skip
    assert result.code == 0, result.err  # the credentials work: a warning, not a failure
    assert (
        f"Warning: Harbor project {MISSING_PROJECT} does not exist; "
        "check --harbor-project / KEYNET_HARBOR_PROJECT"
    ) in result.err
    scopes = [r.scopes for r in _robot_token_requests(harbor)]
    assert [f"repository:{MISSING_PROJECT}/keynet-train-check:push,pull"] in scopes


def test_login_with_bad_robot_secret_fails(harbor: HarborStack, cli: Cli) -> None:
    cli.backend.harbor_password = "not-the-robot-secret"
    result = cli(
        "login", cli.backend.url, "-u", cli.backend.username, "--password-stdin", "--json",
        stdin=cli.backend.password + "\n",
    )  # fmt: skip
    assert result.code == 1
    assert "Harbor Registry authentication failed" in result.err
    assert not Path(cli.environ["KEYNET_CONFIG"]).exists()
