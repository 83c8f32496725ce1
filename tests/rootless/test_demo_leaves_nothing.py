"""The demo, run by an unprivileged user with rootless podman, leaves nothing in their home.

As root the demo runs as the rootless test user (scripts/setup-rootless-user)
in a clean login environment; as a normal user it runs as that user. Either
way HOME is a fresh directory owned by the user, so anything the demo (or a
podman it starts) writes under HOME shows: no image store in
~/.local/share/containers, no ~/.cache/keynet/builds.json, no
~/.config/containers/certs.d. The whole fresh home must stay empty.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LEFTOVERS = (
    ".local/share/containers/storage",
    ".cache/keynet/builds.json",
    ".config/containers/certs.d",
    ".config/keynet",
    ".config/cni",
)


def _demo_command(home: Path) -> list[str]:
    """The demo command line, run with ``home`` as HOME."""
    if os.geteuid() != 0:
        return ["env", f"HOME={home}", sys.executable, "scripts/demo.py"]
    user = subprocess.run(
        ["bash", "scripts/setup-rootless-user"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    entry = pwd.getpwnam(user)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    os.chown(home.parent, entry.pw_uid, entry.pw_gid)
    return [
        "runuser",
        "-u",
        user,
        "--",
        "env",
        "-i",
        f"HOME={home}",
        f"USER={user}",
        f"PATH={entry.pw_dir}/.keynet-venv/bin:/usr/bin:/bin",
        f"XDG_RUNTIME_DIR=/run/user/{entry.pw_uid}",
        f"PYTHONPATH={REPO}",
        "PYTHONDONTWRITEBYTECODE=1",
        "LANG=C.UTF-8",
        "python",
        "scripts/demo.py",
    ]


@pytest.mark.integration
def test_rootless_demo_leaves_nothing_in_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # The user must be able to reach its HOME through pytest's tmp dirs.
    for parent in (tmp_path, tmp_path.parent, tmp_path.parent.parent):
        if parent.stat().st_uid == os.geteuid():  # never /tmp itself
            parent.chmod(parent.stat().st_mode | 0o711)

    done = subprocess.run(
        _demo_command(home),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Push completed successfully" in done.stdout + done.stderr
    for relative in LEFTOVERS:
        assert not (home / relative).exists(), relative
    # All that remains is podman's blob-info cache: which layer digests a
    # registry already has (containers/image writes it on push; podman 4.3
    # has no setting to move it). No image data, no credentials.
    assert {str(p.relative_to(home)) for p in home.rglob("*")} <= {
        ".local",
        ".local/share",
        ".local/share/containers",
        ".local/share/containers/cache",
        ".local/share/containers/cache/blob-info-cache-v1.boltdb",
    }
    assert home.stat().st_uid != 0  # it really ran as an unprivileged user
