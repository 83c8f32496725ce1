"""Files where a regular file is expected, and symlinks that leave the project (docs/security.md).

FIFOs, devices and endless files get a clear error (or are ignored where the
file is only a cache), never a hang or unbounded memory; a source file that
is a symlink leading outside the project is never read, so no diagnostic
quotes a line of it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.hostile.harness import Hostile
from tests.support.services import python_stand_in

SECRET = "machine github.com login bob password ghp_hostile0123456789abcdef"
SCRIPT = (
    "import argparse\n"
    "from helper import LR\n"
    "p = argparse.ArgumentParser()\n"
    "p.add_argument('--lr', type=float, default=LR)\n"
    "p.parse_args()\n"
)


def _repo(hostile: Hostile, script: str = SCRIPT) -> Path:
    repo = hostile.home / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "train.py").write_text(script, encoding="utf-8")
    (repo / "Dockerfile").write_text(
        "FROM scratch\nCOPY train.py /\n" + python_stand_in(repo), encoding="utf-8"
    )
    return repo


def _netrc(hostile: Hostile) -> Path:
    netrc = hostile.home / ".netrc"
    netrc.write_text(SECRET + "\n", encoding="utf-8")
    return netrc


# ------------------------------------------------------------ symlinks (item 4)
def test_module_symlinked_to_a_secret_is_never_quoted(hostile: Hostile) -> None:
    repo = _repo(hostile)
    (repo / "helper.py").symlink_to(_netrc(hostile))
    result = hostile.run("inspect", "train.py", cwd=repo)
    hostile.expect(
        result,
        exit_code=0,
        says="leads outside the project",
        never_says=["ghp_hostile", "password", "machine github.com"],
    )


def test_package_directory_symlinked_outside_is_never_read(hostile: Hostile) -> None:
    repo = _repo(hostile)
    outside = hostile.root / "outside"
    outside.mkdir()
    (outside / "__init__.py").write_text(SECRET + "\n", encoding="utf-8")
    (repo / "helper").symlink_to(outside)
    result = hostile.run("inspect", "train.py", cwd=repo)
    hostile.expect(result, exit_code=0, never_says=["ghp_hostile", "password"])


def test_entrypoint_symlinked_to_a_secret_is_never_quoted(hostile: Hostile) -> None:
    repo = _repo(hostile)
    (repo / "train.py").unlink()
    (repo / "train.py").symlink_to(_netrc(hostile))
    result = hostile.run("inspect", "train.py", cwd=repo)
    hostile.expect(
        result, exit_code=1, says="leads outside", never_says=["ghp_hostile", "password"]
    )


def test_configurator_outside_the_project_is_never_read(hostile: Hostile) -> None:
    """``exec(open('/home/me/.netrc').read())``: named by the script, outside the project."""
    netrc = _netrc(hostile)
    repo = _repo(hostile, f"batch_size = 1\nexec(open({str(netrc)!r}).read())\n")
    result = hostile.run("inspect", "train.py", cwd=repo)
    hostile.expect(result, exit_code=0, never_says=["ghp_hostile", "password"])


def test_module_symlinked_to_proc_kmsg_does_not_hang(hostile: Hostile) -> None:
    repo = _repo(hostile)
    (repo / "helper.py").symlink_to("/proc/kmsg")
    result = hostile.run("inspect", "train.py", cwd=repo)
    hostile.expect(result, exit_code=0, says="leads outside the project")


def test_entrypoint_symlinked_to_proc_kmsg_does_not_hang(hostile: Hostile) -> None:
    repo = _repo(hostile)
    (repo / "train.py").unlink()
    (repo / "train.py").symlink_to("/proc/kmsg")
    result = hostile.run("inspect", "train.py", cwd=repo)
    hostile.expect(result, exit_code=1, says="leads outside")


# ---------------------------------------------------- special files (item 11)
def _special(path: Path, kind: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_pth_file_in_a_python_environment(hostile: Hostile, kind: str) -> None:
    venv = hostile.root / "venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    _special(site / "evil.pth", kind)
    repo = _repo(hostile)
    (repo / "helper.py").write_text("LR = 0.1\n")
    result = hostile.run("inspect", "train.py", "--python", str(venv), cwd=repo)
    hostile.expect(result, exit_code=0)


@pytest.mark.parametrize("name", [".dockerignore", ".containerignore"])
@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_ignore_file(hostile: Hostile, name: str, kind: str) -> None:
    hostile.log_in(project_id=1)
    repo = _repo(hostile)
    (repo / "helper.py").write_text("LR = 0.1\n")
    _special(repo / name, kind)
    result = hostile.run("push", "train.py", "--dry-run", cwd=repo)
    hostile.expect(result, exit_code=1, says=[f"ignore file {repo / name}", "regular file"])


@pytest.mark.parametrize("name", ["keynet.toml", "pyproject.toml"])
@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_project_file(hostile: Hostile, name: str, kind: str) -> None:
    repo = _repo(hostile)
    (repo / "helper.py").write_text("LR = 0.1\n")
    _special(repo / name, kind)
    for command in (("inspect", "train.py"), ("push", "train.py", "--dry-run")):
        result = hostile.run(*command, cwd=repo)
        hostile.expect(result, exit_code=1, says=["project file", "regular file"])


@pytest.mark.parametrize("cache", ["builds.json", "file-digests.json"])
@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_build_cache_files_are_ignored(hostile: Hostile, cache: str, kind: str) -> None:
    """A cache is an optimisation: a FIFO or /dev/zero there is ignored (and replaced)."""
    hostile.log_in(project_id=1)
    repo = _repo(hostile)
    (repo / "helper.py").write_text("LR = 0.1\n")
    _special(hostile.home / ".cache" / "keynet" / cache, kind)
    result = hostile.run("push", "train.py", "--dry-run", cwd=repo)
    hostile.expect(result, exit_code=0)
    assert "Dry run" in result.stdout, result.describe()


# ------------------------------------------------- internal errors (item 12)
def test_project_file_path_with_a_nul_byte(hostile: Hostile) -> None:
    repo = _repo(hostile)
    (repo / "helper.py").write_text("LR = 0.1\n")
    (repo / "keynet.toml").write_text('dockerfile = "Docker\\u0000file"\n')
    for command in (("inspect", "train.py"), ("push", "train.py", "--dry-run")):
        result = hostile.run(*command, cwd=repo)
        hostile.expect(result, exit_code=1, says=["keynet.toml", "'dockerfile'", "NUL"])


def test_context_1500_directories_deep(hostile: Hostile) -> None:
    hostile.log_in(project_id=1)
    repo = _repo(hostile)
    (repo / "helper.py").write_text("LR = 0.1\n")
    # Built and removed level by level: pathlib's mkdir(parents=True) and
    # shutil.rmtree themselves recurse once per level.
    levels = [os.path.join(repo, *["d"] * n) for n in range(1, 1501)]
    for level in levels:
        os.mkdir(level)
    # The context is scanned before podman is reached; a podman URL that does not
    # answer keeps podman's own (slow) handling of a 1,500-deep tar out of the bound.
    nowhere = f"unix://{hostile.root}/no-podman.sock"
    try:
        result = hostile.run("push", "train.py", "--dry-run", "--podman-url", nowhere, cwd=repo)
    finally:
        for level in reversed(levels):
            os.rmdir(level)
    assert "RecursionError" not in result.stderr, result.describe()
    hostile.expect(result, exit_code=1, says=["Check build context", "No podman service answers"])


@pytest.mark.parametrize("target", ["fifo", "/dev/zero", "/proc/kmsg"])
def test_dockerfile_that_is_not_a_regular_file(hostile: Hostile, target: str) -> None:
    hostile.log_in(project_id=1)
    repo = _repo(hostile)
    (repo / "helper.py").write_text("LR = 0.1\n")
    (repo / "Dockerfile").unlink()
    if target == "fifo":
        os.mkfifo(repo / "Dockerfile")
    else:
        (repo / "Dockerfile").symlink_to(target)
    result = hostile.run("push", "train.py", "--dry-run", cwd=repo)
    hostile.expect(result, exit_code=1, says=["Cannot read the Dockerfile", "not a regular file"])


def test_git_config_linked_to_dev_zero(hostile: Hostile) -> None:
    hostile.log_in(project_id=1)
    repo = _repo(hostile)
    (repo / "helper.py").write_text("LR = 0.1\n")
    (repo / ".git" / "config").symlink_to("/dev/zero")
    # .git/config is read when the context is checked, before podman is reached.
    nowhere = f"unix://{hostile.root}/no-podman.sock"
    result = hostile.run("push", "train.py", "--dry-run", "--podman-url", nowhere, cwd=repo)
    hostile.expect(result, exit_code=1, says=["Check build context", "No podman service answers"])


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_ca_bundle_that_is_not_a_regular_file(hostile: Hostile, kind: str) -> None:
    hostile.log_in()
    bundle = hostile.root / "ca.pem"
    _special(bundle, kind)
    result = hostile.run("projects", env={"KEYNET_CA_BUNDLE": str(bundle)})
    hostile.expect(result, exit_code=1, says=["KEYNET_CA_BUNDLE", "not a regular file"])


def test_modules_above_home_are_not_an_import_root(hostile: Hostile) -> None:
    """Another user's /tmp/pyproject.toml and /tmp/helper.py do not feed a project under $HOME."""
    (hostile.root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (hostile.root / "helper.py").write_text("LR = 666.0\n")
    repo = hostile.home / "downloads" / "repo"
    repo.mkdir(parents=True)
    (repo / "train.py").write_text(SCRIPT)
    result = hostile.run("inspect", "train.py", "--json", cwd=repo)
    hostile.expect(result, exit_code=0)
    assert "666" not in result.stdout, result.describe()
