"""Fixtures of the BackendClient tests: a client recording its sleeps and debug lines."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from keynet_train.backend.client import BackendClient
from tests.backend.backend_doubles import SERVER, TOKEN


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def debug_lines() -> list[str]:
    return []


@pytest.fixture
def client(sleeps: list[float], debug_lines: list[str]) -> Iterator[BackendClient]:
    with BackendClient(SERVER, TOKEN, sleep=sleeps.append, debug_log=debug_lines.append) as c:
        yield c
