"""The interactive project picker's answers, in-process with typed-in lines.

tests/e2e/test_terminal.py drives it on a real terminal (next page, an ID,
saving the default); these cover the answers that one does not: going back a
page, quitting, closed input and an account with no projects.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from keynet_train.backend.client import ProjectsPage
from keynet_train.cli.commands.push import NO_PROJECT_HINT, _pick
from keynet_train.cli.environment import Environment
from keynet_train.errors import InputError
from tests.support.fake_backend import sample_projects

PER_PAGE = 2


def _pages(count: int) -> tuple[list[int], Any]:
    """A fetch_page over ``count`` projects, and the list of pages it was asked for."""
    projects = sample_projects(count)
    last = max((count - 1) // PER_PAGE, 0)
    asked: list[int] = []

    def fetch_page(page: int) -> ProjectsPage:
        asked.append(page)
        return ProjectsPage.model_validate(
            {
                "content": projects[page * PER_PAGE : (page + 1) * PER_PAGE],
                "meta": {"total": count, "page": page, "limit": PER_PAGE, "maxPage": last},
            }
        )

    return asked, fetch_page


def _env(typed: str) -> Environment:
    return Environment(io.StringIO(typed), io.StringIO(), io.StringIO(), {})


def test_previous_page_then_an_id() -> None:
    asked, fetch_page = _pages(5)
    # "p" on the first page stays there; "n" twice reaches the last page, "n"
    # there stays; "p" goes back one. Project 4 is on page 2.
    env = _env("p\nn\nn\nn\np\n4\nn\n")
    assert _pick(env, fetch_page) == 4
    assert asked == [0, 0, 1, 2, 2, 1]
    assert isinstance(env.stderr, io.StringIO)
    assert "Page 2/3 - 5 projects" in env.stderr.getvalue()


def test_quit() -> None:
    _, fetch_page = _pages(3)
    with pytest.raises(InputError) as info:
        _pick(_env("Q\n"), fetch_page)
    assert (info.value.message, info.value.hint) == ("No project chosen.", NO_PROJECT_HINT)


def test_input_closed() -> None:
    _, fetch_page = _pages(3)
    with pytest.raises(InputError) as info:
        _pick(_env("n\n"), fetch_page)
    assert info.value.message == "No project chosen (input closed)."
    assert info.value.hint == NO_PROJECT_HINT


def test_no_projects() -> None:
    _, fetch_page = _pages(0)
    with pytest.raises(InputError, match="You have no trainable projects"):
        _pick(_env("1\n"), fetch_page)
