"""The one atomic write (keynet_train/files.py) and the one XDG rule (keynet_train/locations.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from keynet_train.build.cache import cache_path
from keynet_train.files import write_atomically
from keynet_train.locations import config_path, user_directory


def test_write_atomically_replaces_the_file_with_the_mode_asked(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    old_umask = os.umask(0o077)
    try:
        write_atomically(target, b"new", mode=0o644)
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"new"
    # The mode is set on the open file, so a restrictive umask does not change it.
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_write_atomically_defaults_to_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "secret.json"
    write_atomically(target, b"{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    # A directory in the way makes the rename fail after the temp file was written.
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "child").write_text("x")
    with pytest.raises(OSError):
        write_atomically(blocked, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocked", "state.json"]
    assert target.read_text() == "old"


def test_write_atomically_needs_the_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomically(tmp_path / "missing" / "file", b"x")


@pytest.mark.parametrize("kind", ["config", "cache"])
def test_user_directory_follows_xdg(tmp_path: Path, kind: str) -> None:
    home = str(tmp_path / "home")
    variable = f"XDG_{kind.upper()}_HOME"
    assert user_directory(kind, {"HOME": home}) == Path(home) / f".{kind}" / "keynet"
    assert user_directory(kind, {"HOME": home, variable: "/x/y"}) == Path("/x/y/keynet")
    # The XDG spec says relative (and empty) values are invalid and must be ignored.
    for ignored in ("", "rel/dir"):
        expected = Path(home) / f".{kind}" / "keynet"
        assert user_directory(kind, {"HOME": home, variable: ignored}) == expected


def test_user_directory_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="data"):
        user_directory("data", {"HOME": "/h"})


def test_config_and_cache_files_live_in_their_user_directories(tmp_path: Path) -> None:
    environ = {
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": "/c",
        "XDG_CACHE_HOME": "relative",
    }
    assert config_path(environ) == user_directory("config", environ) / "config.json"
    assert cache_path(environ) == user_directory("cache", environ) / "builds.json"
    assert cache_path(environ) == tmp_path / ".cache" / "keynet" / "builds.json"
