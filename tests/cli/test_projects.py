"""``keynet-train projects`` in-process against the fake backend."""

from __future__ import annotations

import pytest

from keynet_train.config import Config
from tests.cli.conftest import CliRunner, write_config
from tests.support.fake_backend import PROJECTS_PATH, FakeBackend, sample_projects


def test_table(cli: CliRunner, offline_backend: FakeBackend, logged_in: Config) -> None:
    result = cli("projects")

    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "TITLE", "TASK", "TYPE", "AUTHOR"]
    assert lines[2].split() == ["1", "Project", "1", "OBJECT_DETECTION", "Hong", "Gildong"]
    assert len(lines) == 2 + 3
    assert result.stderr == "3 projects.\n"  # one page: no page talk, no next page
    [request] = offline_backend.requests_to(PROJECTS_PATH)
    assert logged_in.api_token is not None
    assert request.header("authorization") == f"Bearer {logged_in.api_token.reveal()}"
    assert request.query == {"page": ["0"], "limit": ["20"]}


def test_json(cli: CliRunner, offline_backend: FakeBackend, logged_in: Config) -> None:
    result = cli("projects", "--json")

    assert result.exit_code == 0, result
    page = result.json()
    # snake_case like every other --json, although the backend speaks camelCase.
    first = offline_backend.projects[0]
    assert page["content"][0] == {
        "id": first["id"],
        "title": first["title"],
        "summary": first["summary"],
        "task_type": first["taskType"],
        "author": {"id": first["author"]["id"], "display_name": first["author"]["displayName"]},
    }
    assert [p["id"] for p in page["content"]] == [p["id"] for p in offline_backend.projects]
    assert page["meta"] == {"total": 3, "page": 0, "limit": 20, "max_page": 0}


def test_page_and_limit(cli: CliRunner, offline_backend: FakeBackend, logged_in: Config) -> None:
    offline_backend.projects = sample_projects(5)

    result = cli("projects", "--page", "2", "--limit", "2", "--json")

    assert result.exit_code == 0, result
    assert [p["id"] for p in result.json()["content"]] == [3, 4]
    [request] = offline_backend.requests_to(PROJECTS_PATH)
    assert request.query == {"page": ["1"], "limit": ["2"]}


def test_footer_offers_the_next_page(
    cli: CliRunner, offline_backend: FakeBackend, logged_in: Config
) -> None:
    offline_backend.projects = sample_projects(5)

    first = cli("projects", "--limit", "2")
    last = cli("projects", "--limit", "2", "--page", "3")

    # Pages count from 1, as in the project picker ("Page 1/3").
    assert first.stderr == "Page 1 of 3 (5 projects). Next page: --page 2\n"
    assert last.stderr == "Page 3 of 3 (5 projects).\n"


def test_page_zero_is_refused_saying_pages_count_from_one(cli: CliRunner) -> None:
    result = cli("projects", "--page", "0")

    assert result.exit_code == 2
    assert "pages count from 1 (the first page is --page 1), not 0" in result.stderr


def test_unknown_task_type_and_missing_author_are_shown(
    cli: CliRunner, offline_backend: FakeBackend, logged_in: Config
) -> None:
    offline_backend.projects = [
        {"id": 9, "title": "Pose", "summary": "", "taskType": "POSE_ESTIMATION", "author": None}
    ]

    result = cli("projects")

    assert result.exit_code == 0, result
    assert result.stdout.splitlines()[2].split() == ["9", "Pose", "POSE_ESTIMATION", "-"]


def test_empty_page(cli: CliRunner, offline_backend: FakeBackend, logged_in: Config) -> None:
    result = cli("projects", "--page", "5")

    assert result.exit_code == 0
    assert result.stdout == ""
    assert "No trainable projects" in result.stderr


def test_not_logged_in(cli: CliRunner, offline_backend: FakeBackend) -> None:
    result = cli("projects", "--json")

    assert result.exit_code == 1
    assert "No credentials configured. Please login first: keynet-train login <url>" in (
        result.stderr
    )
    assert result.json()["error"]["type"] == "authentication"
    assert offline_backend.requests == []


def test_expired_token_sends_no_request(cli: CliRunner, offline_backend: FakeBackend) -> None:
    write_config(cli, offline_backend, expires_in=-60)

    result = cli("projects")

    assert result.exit_code == 1
    assert "expired" in result.stderr
    assert f"keynet-train login {offline_backend.url}" in result.stderr
    assert offline_backend.requests == []


def test_backend_401_says_login_again(
    cli: CliRunner, offline_backend: FakeBackend, logged_in: Config
) -> None:
    offline_backend.revoke_tokens()

    result = cli("projects", "--json")

    assert result.exit_code == 1
    assert "401" in result.stderr
    assert "login" in result.stderr.lower()
    error = result.json()["error"]
    assert error["type"] == "authentication"
    assert "login" in (error["message"] + error["hint"]).lower()


@pytest.mark.parametrize(("mode", "expected"), [("500", "500"), ("non_json", "projects")])
def test_backend_failures(
    cli: CliRunner, offline_backend: FakeBackend, logged_in: Config, mode: str, expected: str
) -> None:
    offline_backend.fail(PROJECTS_PATH, mode, times=None)

    result = cli("projects", "--json")

    assert result.exit_code == 1
    assert expected in result.stderr
    assert result.json()["error"]["type"] == "backend"


def test_transient_failure_is_retried(
    cli: CliRunner, offline_backend: FakeBackend, logged_in: Config
) -> None:
    offline_backend.fail(PROJECTS_PATH, "503", times=1)

    result = cli("projects", "--json")

    assert result.exit_code == 0, result
    assert len(offline_backend.requests_to(PROJECTS_PATH)) == 2
