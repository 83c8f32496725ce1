"""The config file is read only when it is a regular file the user controls (docs/security.md)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.hostile.harness import Hostile

NOBODY = 65534


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_fifo_config_is_refused_without_hanging(hostile: Hostile) -> None:
    fifo = hostile.root / "config.fifo"
    os.mkfifo(fifo)
    result = hostile.run("config", "show", env={"KEYNET_CONFIG": str(fifo)})
    hostile.expect(result, exit_code=1, says=["FIFO", "regular file", "KEYNET_CONFIG"])


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/proc/kmsg"])
def test_device_config_is_refused_in_bounded_memory(hostile: Hostile, device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist on this system")
    result = hostile.run("whoami", env={"KEYNET_CONFIG": device})
    hostile.expect(result, exit_code=1, says="regular file", never_says=["chmod 600"])


def test_symlink_to_a_device_is_refused(hostile: Hostile) -> None:
    link = hostile.root / "config.json"
    link.symlink_to("/dev/zero")
    result = hostile.run("config", "show", env={"KEYNET_CONFIG": str(link)})
    hostile.expect(result, exit_code=1, says="regular file")


def test_directory_config_is_an_error_and_is_never_chmodded(hostile: Hostile) -> None:
    directory = hostile.root / "somewhere"
    directory.mkdir()
    directory.chmod(0o755)
    (directory / "notes.txt").write_text("mine\n")
    root_mode = _mode(hostile.root)
    for command in (("config", "show"), ("whoami",), ("config", "set", "project_id", "3")):
        result = hostile.run(*command, env={"KEYNET_CONFIG": str(directory)})
        hostile.expect(result, exit_code=1, says=["is a directory", "KEYNET_CONFIG"])
        assert _mode(directory) == 0o755, command
        assert _mode(hostile.root) == root_mode, command


def test_config_owned_by_another_user_is_refused(hostile: Hostile) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to give the file to another user")
    config = hostile.log_in(podman_url="unix:///attacker/podman.sock")
    os.chown(config, NOBODY, NOBODY)
    result = hostile.run("whoami")
    hostile.expect(
        result,
        exit_code=1,
        says=["belongs to another user", str(NOBODY)],
        never_says=["attacker", "alice"],
    )


def test_config_in_a_directory_others_can_write_is_refused(hostile: Hostile) -> None:
    config = hostile.log_in(podman_url="unix:///attacker/podman.sock")
    config.parent.chmod(0o777)
    result = hostile.run("whoami")
    hostile.expect(
        result,
        exit_code=1,
        says=["writable by other users", "chmod go-w"],
        never_says=["attacker", "alice"],
    )
    assert _mode(config.parent) == 0o777  # reported, not silently changed


def test_config_in_a_sticky_shared_directory_is_read(hostile: Hostile) -> None:
    """A file of the user's own in /tmp-like (sticky) directory: others cannot replace it."""
    config = hostile.log_in()
    config.parent.chmod(0o1777)
    result = hostile.run("config", "show", "--json")
    hostile.expect(result, exit_code=0)
    assert json.loads(result.stdout)["username"] == "alice"
