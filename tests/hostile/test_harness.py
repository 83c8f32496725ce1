"""The harness's own bounds: a hang, a memory hog and endless output are caught, not waited out."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.hostile.harness import MEMORY_LIMIT, assert_bounded, run_bounded

PYTHON = [sys.executable, "-c"]


def test_a_hang_is_killed_at_the_wall_limit(tmp_path: Path) -> None:
    result = run_bounded(
        ["import time; time.sleep(60)"], env={}, cwd=tmp_path, wall_limit=1.0, program=PYTHON
    )
    assert result.timed_out and result.seconds < 5
    with pytest.raises(AssertionError, match="hung"):
        assert_bounded(result)


def test_memory_over_the_limit_is_measured(tmp_path: Path) -> None:
    megabytes = MEMORY_LIMIT // (1024 * 1024) + 60
    code = f"b = bytearray({megabytes} * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"
    result = run_bounded([code], env={}, cwd=tmp_path, program=PYTHON)
    assert result.exit_code == 0, result.describe()
    assert result.max_rss_bytes > MEMORY_LIMIT
    with pytest.raises(AssertionError, match="MB"):
        assert_bounded(result)


def test_endless_output_is_an_overflow(tmp_path: Path) -> None:
    code = "import sys\nfor _ in range(4000): sys.stdout.write('y' * 1024)"
    result = run_bounded([code], env={}, cwd=tmp_path, program=PYTHON)
    with pytest.raises(AssertionError, match="printed over"):
        assert_bounded(result)


def test_a_traceback_is_not_a_clean_message(tmp_path: Path) -> None:
    result = run_bounded(["1 / 0"], env={}, cwd=tmp_path, program=PYTHON)
    with pytest.raises(AssertionError, match="Traceback"):
        assert_bounded(result)


def test_a_big_test_process_does_not_inflate_the_measure(tmp_path: Path) -> None:
    """An exec records the replaced address space's peak: the launcher keeps ours out of it."""
    ballast = bytearray(MEMORY_LIMIT + 100 * 1024 * 1024)
    ballast[::4096] = b"x" * len(ballast[::4096])  # resident, not just reserved
    result = run_bounded(["pass"], env={}, cwd=tmp_path, program=[sys.executable, "-I", "-c"])
    del ballast
    assert result.exit_code == 0, result.describe()
    assert result.max_rss_bytes < 50 * 1024 * 1024, result.max_rss_bytes
