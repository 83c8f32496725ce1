"""Commands end within the request deadline and refuse decompression bombs (issue 21 items 8, 9).

The fake backend serves the hostile answers over a real socket; the registry
check is pointed at a raw server that trickles its answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager

import pytest

from keynet_train import limits
from keynet_train.config import Config
from keynet_train.errors import RegistryError
from tests.backend.test_http_bounds import trickle_body, trickle_headers
from tests.cli.conftest import CliRunner
from tests.support.fake_backend import PROJECTS_PATH, FakeBackend
from tests.support.raw_server import raw_server
from tests.support.registry_calls import verify_registry_credentials


def test_projects_against_a_trickling_backend_ends_at_the_deadline(
    cli: CliRunner,
    offline_backend: FakeBackend,
    logged_in: Config,
) -> None:
    offline_backend.fail(PROJECTS_PATH, "trickle", delay=0.3)
    started = time.monotonic()
    result = cli("projects", environ={"KEYNET_REQUEST_DEADLINE": "1.5"})
    elapsed = time.monotonic() - started
    assert result.exit_code == 1, result
    assert "within 1.5 s" in result.stderr, result
    assert "Traceback" not in result.stderr
    assert elapsed < 6, elapsed  # not retried: one deadline, not three
    assert len(offline_backend.requests_to(PROJECTS_PATH)) == 1


def test_projects_against_a_gzip_bomb_fails_fast(
    cli: CliRunner, offline_backend: FakeBackend, logged_in: Config
) -> None:
    offline_backend.fail(PROJECTS_PATH, "gzip_bomb")
    started = time.monotonic()
    result = cli("projects", "--json")
    assert result.exit_code == 1, result
    assert "larger than 10 MiB" in result.stderr, result
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("script", [trickle_headers, trickle_body], ids=["headers", "body"])
def test_the_registry_check_ends_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch, script: object
) -> None:
    monkeypatch.setattr(limits, "REQUEST_DEADLINE", 1.5)
    with raw_server(script) as url:  # type: ignore[arg-type]
        started = time.monotonic()
        with pytest.raises(RegistryError, match=r"within 1\.5 s"):
            verify_registry_credentials(url, "robot$x", "pw-123456")
        assert time.monotonic() - started < 5  # not retried three times


@pytest.mark.parametrize("value", ["0", "-3", "soon", "nan", "1e9"])
def test_a_bad_deadline_setting_is_refused(
    cli: CliRunner, offline_backend: FakeBackend, logged_in: Config, value: str
) -> None:
    result = cli("projects", environ={"KEYNET_REQUEST_DEADLINE": value})
    assert result.exit_code == 1, result
    assert "KEYNET_REQUEST_DEADLINE" in result.stderr
    assert not offline_backend.requests


def test_the_setting_does_not_outlive_its_run(
    cli: CliRunner,
    offline_backend: FakeBackend,
    logged_in: Config,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[float] = []
    real = limits.from_environment

    def spy(environ: Mapping[str, str]) -> AbstractContextManager[None]:
        @contextmanager
        def wrapped() -> Iterator[None]:
            with real(environ):
                seen.append(limits.REQUEST_DEADLINE)
                yield

        return wrapped()

    monkeypatch.setattr(limits, "from_environment", spy)
    assert cli("projects", environ={"KEYNET_REQUEST_DEADLINE": "7"}).exit_code == 0
    assert limits.REQUEST_DEADLINE == limits.DEFAULT_REQUEST_DEADLINE
    assert cli("projects").exit_code == 0
    assert seen == [7.0, 60.0]
