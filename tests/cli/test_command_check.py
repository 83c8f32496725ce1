"""push refuses a script the platform's command would stop, before any request (in-process).

The predicted platform command (docs/platform-command.md) is checked right
after extraction, before the project is chosen, the image built or the key
requested: the fake backend's request log is the witness that nothing was
asked of it. No podman is needed for that: nothing is built.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from keynet_train.config import Config
from tests.cli.conftest import CliRunner
from tests.extraction.test_platform_command import SITUATIONS
from tests.support.fake_backend import FakeBackend


def _context(root: Path, script: str, project_file: str | None = None) -> Path:
    root.mkdir()
    (root / "Dockerfile").write_text("FROM scratch\nCOPY train.py /app/train.py\n")
    (root / "train.py").write_text(script)
    if project_file is not None:
        (root / "keynet.toml").write_text(project_file)
    return root


@pytest.mark.parametrize("situation", sorted(SITUATIONS))
def test_push_refuses_before_any_request(
    cli: CliRunner,
    offline_backend: FakeBackend,
    logged_in: Config,
    tmp_path: Path,
    situation: str,
) -> None:
    script, argument, sends, accepts, fix = SITUATIONS[situation]
    context = _context(tmp_path / "ctx", script)
    result = cli("push", str(context / "train.py"), "--context", str(context), "--project", "1")
    assert result.exit_code == 1, result
    message = " ".join(result.stderr.split())
    assert "Error: The platform will run `python train.py" in message
    assert argument in message and sends in message and accepts in message and fix in message
    assert "Nothing was registered or pushed" in message
    assert "--allow-command-mismatch" in message
    # The witness: not a single request reached the backend (no key, not even projects).
    assert offline_backend.requests == []


def test_push_json_error_names_the_fix(
    cli: CliRunner, offline_backend: FakeBackend, logged_in: Config, tmp_path: Path
) -> None:
    context = _context(tmp_path / "ctx", SITUATIONS["store_true"][0])
    result = cli(
        "push", str(context / "train.py"), "--context", str(context), "--project", "1", "--json"
    )
    assert result.exit_code == 1
    error = result.json()["error"]
    assert error["type"] == "validation"
    assert "--amp False" in error["message"] and "str2bool" in error["message"]
    assert offline_backend.requests == []


def test_project_file_command_check_must_be_error_or_warn(
    cli: CliRunner, offline_backend: FakeBackend, logged_in: Config, tmp_path: Path
) -> None:
    context = _context(tmp_path / "ctx", SITUATIONS["spelling"][0], 'command_check = "off"\n')
    result = cli("push", str(context / "train.py"), "--context", str(context), "--project", "1")
    assert result.exit_code == 1
    assert "command_check" in result.stderr and "'error', 'warn'" in result.stderr
    assert offline_backend.requests == []


def test_a_script_the_platform_can_run_passes_the_check(
    cli: CliRunner, offline_backend: FakeBackend, logged_in: Config, tmp_path: Path
) -> None:
    """No mismatch: the check passes and push goes on (here to the project choice)."""
    context = _context(
        tmp_path / "ctx",
        SITUATIONS["spelling"][0].replace("'--data-root',", "'--data-root', '--data_root',"),
    )
    result = cli("push", str(context / "train.py"), "--context", str(context))
    assert "Check the platform's training command: the script accepts it" in result.stderr
    assert "Platform command (defaults): python train.py --data_root /data --epochs 3" in (
        result.stderr
    )
    # It got as far as asking the backend for projects (no terminal to pick one).
    assert offline_backend.requests_to("/v1/projects/trainable")
