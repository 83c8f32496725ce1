"""A cloned repository must never make keynet-train run its programs (docs/security.md).

Each case plants a payload that creates ``hostile.marker`` if it is ever run,
points keynet-train at it the way a hostile repository can (its project file,
a parent directory's project file, a planted virtualenv), and asserts the
marker never appears.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.hostile.harness import Hostile

SCRIPT = (
    "import argparse\n"
    "p = argparse.ArgumentParser()\n"
    "p.add_argument('--lr', type=float, default=0.1)\n"
    "p.parse_args()\n"
)


def _repo(root: Path, *, git: bool = True) -> Path:
    repo = root / "repo"
    (repo / ".git" if git else repo).mkdir(parents=True)
    (repo / "train.py").write_text(SCRIPT, encoding="utf-8")
    return repo


def test_project_file_python_is_never_run(hostile: Hostile) -> None:
    repo = _repo(hostile.home)
    hostile.payload(repo / "evil.sh")
    (repo / "keynet.toml").write_text('python = "evil.sh"\n', encoding="utf-8")
    result = hostile.run("inspect", "train.py", cwd=repo)
    hostile.expect(
        result,
        exit_code=1,
        says=["is not a virtualenv", "never runs a program", f"--python {repo / 'evil.sh'}"],
    )


def test_project_file_python_is_never_run_by_push(hostile: Hostile) -> None:
    repo = _repo(hostile.home)
    hostile.payload(repo / "evil.sh")
    (repo / "keynet.toml").write_text('python = "evil.sh"\nproject_id = 1\n', encoding="utf-8")
    (repo / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    result = hostile.run("push", "train.py", "--dry-run", cwd=repo)
    hostile.expect(result, exit_code=1, says="is not a virtualenv")


def test_parent_directory_project_file_python_is_never_run(hostile: Hostile) -> None:
    """No .git: the search walks up to a parent's keynet.toml, whose python is still only read."""
    parent = hostile.home / "downloads"
    repo = _repo(parent, git=False)
    hostile.payload(parent / "tools" / "python")
    (parent / "keynet.toml").write_text('python = "tools/python"\n', encoding="utf-8")
    result = hostile.run("inspect", "train.py", cwd=repo)
    hostile.expect(result, exit_code=1, says="is not a virtualenv")


def test_project_file_above_home_is_not_read(hostile: Hostile) -> None:
    """Another user's keynet.toml above $HOME configures nothing (the search stops at home)."""
    hostile.payload(hostile.root / "evil.sh")
    (hostile.root / "keynet.toml").write_text('python = "evil.sh"\n', encoding="utf-8")
    repo = _repo(hostile.home, git=False)
    result = hostile.run("inspect", "train.py", "--json", cwd=repo)
    hostile.expect(result, exit_code=0)
    assert '"lr"' in result.stdout


def _planted_venv(repo: Path, hostile: Hostile) -> Path:
    """A .venv whose pyvenv.cfg names a payload directory as the base interpreter's home."""
    venv = repo / ".venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    evil_bin = repo / "evilbin"
    for name in ("python3", "python", "python3.11"):
        hostile.payload(evil_bin / name)
    hostile.payload(venv / "bin" / "python")
    (venv / "pyvenv.cfg").write_text(
        f"home = {evil_bin}\ninclude-system-site-packages = true\nversion = 3.11.2\n",
        encoding="utf-8",
    )
    return venv


def test_planted_venv_home_is_never_run_through_the_project_file(hostile: Hostile) -> None:
    repo = _repo(hostile.home)
    _planted_venv(repo, hostile)
    (repo / "keynet.toml").write_text('python = ".venv"\n', encoding="utf-8")
    result = hostile.run("inspect", "train.py", "--json", cwd=repo)
    hostile.expect(result, exit_code=0)


def test_planted_venv_interpreter_is_never_run(hostile: Hostile) -> None:
    repo = _repo(hostile.home)
    _planted_venv(repo, hostile)
    (repo / "keynet.toml").write_text('python = ".venv/bin/python"\n', encoding="utf-8")
    result = hostile.run("inspect", "train.py", "--json", cwd=repo)
    hostile.expect(result, exit_code=0)


def test_planted_venv_home_is_never_run_through_virtual_env(hostile: Hostile) -> None:
    repo = _repo(hostile.home)
    venv = _planted_venv(repo, hostile)
    result = hostile.run("inspect", "train.py", cwd=repo, env={"VIRTUAL_ENV": str(venv)})
    hostile.expect(result, exit_code=0)


def test_planted_venv_home_is_never_run_even_through_python_option(hostile: Hostile) -> None:
    """--python names the venv; its pyvenv.cfg's home is still only read (docs/security.md)."""
    repo = _repo(hostile.home)
    _planted_venv(repo, hostile)
    result = hostile.run("inspect", "train.py", "--python", ".venv", cwd=repo)
    hostile.expect(result, exit_code=0)


def _fake_interpreter(path: Path, site: Path, ran: Path) -> None:
    path.write_text(
        f'#!/bin/sh\ntouch \'{ran}\'\necho \'["{site.parent}", "{site}", "{site}"]\'\n',
        encoding="utf-8",
    )
    path.chmod(0o755)


def test_relative_python_resolves_against_the_working_directory(hostile: Hostile) -> None:
    """``--python ./fakepy`` runs ./fakepy, not a ``fakepy`` found on PATH."""
    repo = _repo(hostile.home)
    site = hostile.root / "site"
    site.mkdir()
    ran = hostile.root / "local-interpreter-ran"
    _fake_interpreter(repo / "fakepy", site, ran)
    path_dir = hostile.root / "on-path"
    hostile.payload(path_dir / "fakepy")
    env = {"PATH": f"{path_dir}{os.pathsep}{hostile.env['PATH']}"}
    for spelling in ("./fakepy", "fakepy"):
        ran.unlink(missing_ok=True)
        result = hostile.run("inspect", "train.py", "--python", spelling, cwd=repo, env=env)
        hostile.expect(result, exit_code=0)
        assert ran.exists(), result.describe()
    result = hostile.run("inspect", "train.py", cwd=repo, env={**env, "KEYNET_PYTHON": "fakepy"})
    hostile.expect(result, exit_code=0)


def test_user_named_interpreter_that_prints_endlessly(hostile: Hostile) -> None:
    endless = hostile.root / "endless"
    endless.write_text("#!/bin/sh\nwhile :; do echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; done\n")
    endless.chmod(0o755)
    repo = _repo(hostile.home)
    result = hostile.run("inspect", "train.py", "--python", str(endless), cwd=repo)
    hostile.expect(result, exit_code=1, says="printed more than")
