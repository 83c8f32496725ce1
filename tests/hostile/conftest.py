"""The ``hostile`` fixture: a sandbox and a bounded runner for the installed CLI.

See ``tests/hostile/harness.py`` for the bounds every case asserts and how
to add one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.harness import Hostile


@pytest.fixture
def hostile(tmp_path: Path) -> Hostile:
    """A private HOME/config/cache under ``tmp_path`` and a marker no payload may create."""
    return Hostile(tmp_path)
