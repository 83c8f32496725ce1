"""Secret canary: no password, API token or robot password in any output, log or exception.

Every command is run with distinctive secrets, with and without ``--debug``
(which logs requests and responses and prints tracebacks), on success and
failure paths. The check is stricter than "the whole value does not appear":
no run of :data:`WINDOW` consecutive characters of a secret may appear, which
still allows the masked form ``config show`` prints (6 + 3 characters).
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from keynet_train.auth import login
from keynet_train.config_store import ConfigStore
from keynet_train.errors import KeynetError
from tests.cli.conftest import CliResult, CliRunner
from tests.support.fake_backend import PROJECTS_PATH, SIGN_IN_PATH, FakeBackend
from tests.support.services import RegistryHandle

WINDOW = 10
USER_PASSWORD = "CANARY-userpw-Qz7Kp2Xw9Lm4"
WRONG_PASSWORD = "CANARY-wrongpw-Hv3Jd8Ns1Rt6"
REJECTED_ROBOT_PASSWORD = "CANARY-robotpw-Yb5Fc0Ug7Ie2"


def leaks(text: str, secret: str) -> list[str]:
    """The windows of ``secret`` that occur in ``text``."""
    assert len(secret) >= WINDOW, f"canary {secret!r} too short to check"
    windows = {secret[i : i + WINDOW] for i in range(len(secret) - WINDOW + 1)}
    return sorted(w for w in windows if w in text)


class Canary:
    """Collects the secrets in play and checks texts against all of them."""

    def __init__(self, *secrets: str) -> None:
        self.secrets = list(secrets)

    def add(self, secret: str) -> None:
        self.secrets.append(secret)

    def check(self, text: str, what: str) -> None:
        found = {s: leaks(text, s) for s in self.secrets}
        found = {s: w for s, w in found.items() if w}
        assert not found, f"secret fragments {found} leaked in {what}:\n{text}"

    def check_result(self, result: CliResult) -> None:
        self.check(result.output, f"keynet-train {' '.join(result.argv)}")


@pytest.fixture
def canary_backend(backend: FakeBackend) -> FakeBackend:
    backend.password = USER_PASSWORD
    return backend


@pytest.fixture
def canary(
    canary_backend: FakeBackend, registry: RegistryHandle, caplog: pytest.LogCaptureFixture
) -> Iterator[Canary]:
    caplog.set_level(logging.DEBUG)
    checker = Canary(USER_PASSWORD, WRONG_PASSWORD, REJECTED_ROBOT_PASSWORD, registry.password)
    yield checker
    checker.check(caplog.text, "Python logging")


def _issued_token(cli: CliRunner) -> str:
    return str(json.loads(cli.config_path.read_text())["api_token"])


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_no_secret_in_any_command_output(
    cli: CliRunner,
    canary_backend: FakeBackend,
    canary: Canary,
    tmp_path: Path,
    debug: bool,
) -> None:
    fb = canary_backend
    g = ["--debug"] if debug else []
    results: list[CliResult] = []

    def run(*argv: str, stdin: str = "", **kwargs: object) -> CliResult:
        result = cli(*g, *argv, stdin=stdin, **kwargs)  # type: ignore[arg-type]
        results.append(result)
        return result

    login_args = ("login", fb.url, "-u", fb.username, "--password-stdin")

    # Failures before any credentials exist.
    assert run(*login_args, stdin=WRONG_PASSWORD).exit_code == 1
    # A password in the URL is refused, not stored, shown or sent (issue 21 item 3).
    scheme, rest = fb.url.split("://", 1)
    with_userinfo = f"{scheme}://{fb.username}:{USER_PASSWORD}@{rest}"
    assert run("login", with_userinfo, "-u", fb.username, "--password-stdin",
               stdin=USER_PASSWORD).exit_code == 1  # fmt: skip
    fb.harbor_password = REJECTED_ROBOT_PASSWORD
    assert run(*login_args, "--json", stdin=USER_PASSWORD).exit_code == 1
    fb.harbor_password = canary.secrets[3]  # the registry's real robot password
    fb.fail(SIGN_IN_PATH, "500")
    assert run(*login_args, stdin=USER_PASSWORD).exit_code == 1
    fb.fail(SIGN_IN_PATH, "non_json")
    assert run(*login_args, stdin=USER_PASSWORD).exit_code == 1

    # Successful logins: stdin, env var, prompt.
    assert run(*login_args, stdin=USER_PASSWORD).exit_code == 0
    canary.add(_issued_token(cli))
    assert run(*login_args, "--json", stdin=USER_PASSWORD).exit_code == 0
    canary.add(_issued_token(cli))
    env_login = run("login", fb.url, environ={"KEYNET_USERNAME": fb.username,
                                              "KEYNET_PASSWORD": USER_PASSWORD})  # fmt: skip
    assert env_login.exit_code == 0
    prompted = run("login", fb.url, "-u", fb.username, tty=True, getpass=lambda _: USER_PASSWORD)
    assert prompted.exit_code == 0
    canary.add(_issued_token(cli))

    # Logged in: show, projects ok and failing, push failure paths.
    assert run("config", "show").exit_code == 0
    assert run("config", "show", "--json").exit_code == 0
    assert run("projects").exit_code == 0
    assert run("projects", "--json").exit_code == 0
    fb.fail(PROJECTS_PATH, "500")
    assert run("projects", "--json").exit_code == 1
    fb.fail(PROJECTS_PATH, "wrong_schema")
    assert run("projects").exit_code == 1
    missing = str(tmp_path / "missing.py")
    broken = tmp_path / "broken.py"
    broken.write_text("import argparse\np = argparse.ArgumentParser(\n")
    assert run("push", missing, "--dry-run").exit_code == 1
    assert run("push", missing, "--json").exit_code == 1
    assert run("push", str(broken), "--dry-run", "--json").exit_code == 1
    assert run("inspect", missing).exit_code == 1
    fb.revoke_tokens()
    assert run("projects").exit_code == 1
    assert run("projects", "--json").exit_code == 1

    # Expired token, then logout and failures without credentials.
    store = ConfigStore(cli.config_path)
    config = store.load()
    assert config is not None and config.api_token_expires_at is not None
    config.api_token_expires_at = config.api_token_expires_at.replace(year=2000)
    store.save(config)
    assert run("projects").exit_code == 1
    assert run("config", "show").exit_code == 0
    assert run("logout").exit_code == 0
    assert run("logout").exit_code == 0
    assert run("push", missing, "--dry-run").exit_code == 1
    assert run("projects", "--json").exit_code == 1

    for result in results:
        canary.check_result(result)
    if debug:  # the debug runs really did log traffic, so the check means something
        assert any("[debug] > POST" in r.stderr for r in results)
        assert any("Traceback" in r.stderr for r in results)


def _exception_texts(exc: BaseException) -> Iterator[str]:
    yield "".join(traceback.format_exception(exc))
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield str(current)
        yield repr(current)
        yield repr(current.args)
        if isinstance(current, KeynetError):
            yield f"{current.message} {current.hint}"
        current = current.__cause__ or current.__context__


@pytest.mark.parametrize("failure", ["wrong_password", "robot_rejected", "500", "non_json"])
def test_no_secret_in_exception_chains(
    canary_backend: FakeBackend,
    canary: Canary,
    registry: RegistryHandle,
    tmp_path: Path,
    failure: str,
) -> None:
    password = USER_PASSWORD
    if failure == "wrong_password":
        password = WRONG_PASSWORD
    elif failure == "robot_rejected":
        canary_backend.harbor_password = REJECTED_ROBOT_PASSWORD
    else:
        canary_backend.fail(SIGN_IN_PATH, failure)
    debug_lines: list[str] = []

    with pytest.raises(KeynetError) as info:
        login(
            canary_backend.url,
            canary_backend.username,
            password,
            store=ConfigStore(tmp_path / "config.json"),
            ca_bundle=str(registry.ca_cert),
            debug_log=debug_lines.append,
        )

    for text in _exception_texts(info.value):
        canary.check(text, f"exception text ({failure})")
    canary.check("\n".join(debug_lines), f"debug log ({failure})")
    assert debug_lines  # traffic was logged
