"""What a real process prints (issue 8 items 6 and 9), against the whole local stack."""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from tests.e2e.conftest import SIMPLE_DOCKERFILE, Cli, make_context

pytestmark = pytest.mark.integration


def _run(cli: Cli, args: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, **cli.environ, **extra}
    env.pop("NO_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "keynet_train", *args], cwd=cwd, env=env, capture_output=True
    )


def test_push_on_an_ascii_terminal_succeeds_with_ascii_symbols(cli: Cli, tmp_path: Path) -> None:
    cli.login()
    # A Korean model name (the script's path in the image): its summary line
    # cannot be encoded in ASCII.
    # (A non-ASCII COPY destination fails in podman 4.3's copier; a context file does not.)
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE + "COPY . /app\nLABEL ascii=yes\n")
    (context / "객체-탐지.py").write_text((context / "train.py").read_text())
    done = _run(
        cli,
        ["push", "train.py", "--project", "1", "--model-name", "객체-탐지.py"],
        context,
        PYTHONIOENCODING="ascii",
    )
    out, err = done.stdout.decode("ascii"), done.stderr.decode("ascii")
    assert done.returncode == 0, err
    assert "* Push completed successfully!" in out
    assert "Upload Key: " in out


def test_build_log_escapes_do_not_reach_the_terminal(cli: Cli, tmp_path: Path) -> None:
    """A RUN step printing escape sequences (as a hostile base image or script could)."""
    context = make_context(
        tmp_path / "ctx",
        SIMPLE_DOCKERFILE + "RUN printf 'x\\033]0;pwned\\007\\033[2Jy\\n'\n",
    )
    done = _run(cli, ["push", "train.py", "--dry-run"], context)
    err = done.stderr.decode()
    assert done.returncode == 0, err
    assert "pwned" in err
    controls = [c for c in err if unicodedata.category(c) == "Cc" and c not in "\n\t"]
    assert controls == [], err
