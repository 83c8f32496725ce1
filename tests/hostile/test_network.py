"""Hostile peers and patterns end in bounded time and memory (issue 21 items 7, 8, 9).

The installed CLI runs under the harness's bounds (10 s, 200 MB): a
``.dockerignore`` pattern that makes a backtracking matcher run forever, a
backend that trickles its answer one byte at a time, and a backend whose gzip
answer inflates to 2 GiB. The stalled registry upload (item 10) needs a real
podman push and is in ``tests/podman/test_push_stall.py`` with its own bound.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.hostile.harness import Hostile
from tests.support.fake_backend import PROJECTS_PATH, FakeBackend

SCRIPT = (
    "import argparse\n"
    "p = argparse.ArgumentParser()\n"
    "p.add_argument('--lr', type=float, default=0.1)\n"
    "p.parse_args()\n"
)


@pytest.fixture
def backend() -> Iterator[FakeBackend]:
    with FakeBackend() as fake:
        yield fake


def test_a_backtracking_dockerignore_pattern_is_matched_in_linear_time(hostile: Hostile) -> None:
    repo = hostile.home / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "train.py").write_text(SCRIPT, encoding="utf-8")
    (repo / "Dockerfile").write_text("FROM scratch\nCOPY . /ctx\n", encoding="utf-8")
    (repo / ".dockerignore").write_text("*a" * 25 + "*b\n", encoding="utf-8")
    (repo / ("a" * 40)).write_text("x", encoding="utf-8")
    deep = repo.joinpath(*(["a" * 39 + "d"] * 20))
    deep.mkdir(parents=True)
    (deep / ("a" * 40)).write_text("x", encoding="utf-8")
    result = hostile.run(
        "push", "train.py", "--dry-run", "--podman-url", "unix:///nonexistent/podman.sock",
        cwd=repo,
    )  # fmt: skip
    # The context was scanned (every path matched against the pattern) and the
    # run went on to look for podman: the matcher ended.
    hostile.expect(result, exit_code=1, says="No podman service answers")


def test_a_trickling_backend_ends_at_the_request_deadline(
    hostile: Hostile, backend: FakeBackend
) -> None:
    hostile.log_in(server_url=backend.url)
    backend.fail(PROJECTS_PATH, "trickle", times=None, delay=0.5)
    result = hostile.run("projects", env={"KEYNET_REQUEST_DEADLINE": "3"})
    hostile.expect(result, exit_code=1, says="no complete answer within 3 s")
    assert len(backend.requests_to(PROJECTS_PATH)) == 1  # a deadline is not retried


def test_a_gzip_bomb_from_the_backend_fails_in_bounded_memory(
    hostile: Hostile, backend: FakeBackend
) -> None:
    hostile.log_in(server_url=backend.url)
    backend.fail(PROJECTS_PATH, "gzip_bomb", times=None)
    result = hostile.run("projects", "--json")
    hostile.expect(result, exit_code=1, says="larger than 10 MiB")


def test_a_bad_deadline_setting_is_refused(hostile: Hostile, backend: FakeBackend) -> None:
    hostile.log_in(server_url=backend.url)
    result = hostile.run("projects", env={"KEYNET_REQUEST_DEADLINE": "forever"})
    hostile.expect(result, exit_code=1, says="KEYNET_REQUEST_DEADLINE")
    assert not backend.requests
