"""Bad flag values are usage errors (exit 2), like ``--project abc``; bad names never travel.

The model name goes into the command line the platform builds, so a newline,
a terminal escape or a bidirectional override in it is refused wherever it
comes from (flag, project file, the script's own file name).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.harness import Hostile
from tests.support.services import python_stand_in


def _repo(hostile: Hostile) -> Path:
    repo = hostile.home / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "train.py").write_text(
        "import argparse\np = argparse.ArgumentParser()\np.add_argument('--lr', default=0.1)\n"
        "p.parse_args()\n"
    )
    (repo / "Dockerfile").write_text(
        "FROM scratch\nCOPY train.py /\n" + python_stand_in(repo), encoding="utf-8"
    )
    return repo


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--project", "abc"], "--project"),
        (["--project", "-1"], "--project"),
        (["--project", "0"], "--project"),
        (["--tag", ".x"], "--tag"),
        (["--tag", "ok", "--tag", "bad tag"], "--tag"),
        (["--platform", "x"], "--platform"),
        (["--platform", "linux/x86_64"], "--platform"),
        (["--build-arg", "X"], "--build-arg"),
        (["--build-arg", "1X=2"], "--build-arg"),
        (["--model-name", "evil\nrm -rf /"], "--model-name"),
        (["--model-name", "name\x1b[31m"], "--model-name"),
        (["--model-name", "train\u202epy.exe"], "--model-name"),
        (["--model-name", " "], "--model-name"),
        (["--harbor-project", "Bad/Name"], "--harbor-project"),
    ],
)
def test_bad_flag_values_are_usage_errors(hostile: Hostile, flags: list[str], says: str) -> None:
    hostile.log_in(project_id=1)
    repo = _repo(hostile)
    result = hostile.run("push", "train.py", "--dry-run", *flags, cwd=repo)
    hostile.expect(result, exit_code=2, says=says)
    assert "\x1b[31m" not in result.stderr, result.describe()


def test_model_name_with_a_newline_in_the_project_file(hostile: Hostile) -> None:
    hostile.log_in(project_id=1)
    repo = _repo(hostile)
    (repo / "keynet.toml").write_text('model_name = "train.py\\nrm -rf /"\n')
    result = hostile.run("push", "train.py", "--dry-run", cwd=repo)
    hostile.expect(result, exit_code=1, says=["keynet.toml", "'model_name'", "U+000A"])


def test_script_file_name_with_a_newline(hostile: Hostile) -> None:
    """The default model name is the script's file name: "train\\n.py" is refused too."""
    hostile.log_in(project_id=1)
    repo = _repo(hostile)
    (repo / "train.py").rename(repo / "train\n.py")
    (repo / "Dockerfile").write_text("FROM scratch\n")
    result = hostile.run("push", "train\n.py", "--dry-run", cwd=repo)
    hostile.expect(result, exit_code=1, says="model name")
