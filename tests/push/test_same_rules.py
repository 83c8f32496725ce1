"""The command line and the project file accept exactly the same image-reference values.

A tag, a platform, a build-arg name and a Harbor project name are checked by
one rule each (keynet_train/build/image_names.py, and config.py for the Harbor
project), whether they come from a flag (or a KEYNET_* variable) or from
keynet.toml: a value that one accepts and the other refuses would make a CI
job behave differently from the same push typed by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from keynet_train.errors import ConfigError, KeynetError
from keynet_train.push.project_file import ProjectSettings, load_project_file
from keynet_train.push.settings import PushOptions, resolve_settings

TAGS = [
    "latest", "v1.2", "_x", "A-b.C_d", "a" * 128, "a" * 129, "-x", ".x", "", "has space",
    "a:b", "a/b", "é",
]  # fmt: skip
PLATFORMS = [
    "linux/amd64", "linux/arm64", "linux/arm64/v8", "linux/arm/v7", "windows/amd64",
    "linux_x/amd64", "linux/amd_64", "linux/arm64/v_8", "Linux/amd64", "linux/AMD64",
    "linux", "linux/", "/amd64", "linux/amd64/v8/x", "linux/x86_64", "linx/amd64",
    "linux/amd64 ", "",
]  # fmt: skip
BUILD_ARG_NAMES = ["A", "TORCH_VERSION", "_x", "a1", "1A", "A-B", "A.B", "A B", "é", ""]
HARBOR_PROJECTS = [
    "kitech-model", "a", "a.b_c-d", "a" * 255, "a" * 256, "Bad", "a--b", "a__b", "-a",
    "a-", "a/b", "", "a b",
]  # fmt: skip


def _flag_accepts(options: PushOptions) -> bool:
    try:
        resolve_settings(options, {}, ProjectSettings(), None, Path("/work/project"))
    except KeynetError:
        return False
    return True


def _file_accepts(tmp_path: Path, line: str) -> bool:
    path = tmp_path / "keynet.toml"
    path.write_text(line + "\n")
    try:
        load_project_file(path)
    except KeynetError:
        return False
    return True


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize("tag", TAGS)
def test_tags(tmp_path: Path, tag: str) -> None:
    flag = _flag_accepts(PushOptions(entrypoint=Path("train.py"), tags=[tag]))
    assert flag == _file_accepts(tmp_path, f"tags = [{_toml_string(tag)}]")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_platforms(tmp_path: Path, platform: str) -> None:
    flag = _flag_accepts(PushOptions(entrypoint=Path("train.py"), platform=platform or None))
    if not platform:
        return  # an empty flag means "not given"; the file's empty string is checked below
    assert flag == _file_accepts(tmp_path, f"platform = {_toml_string(platform)}")


def test_an_empty_platform_in_the_file_is_refused(tmp_path: Path) -> None:
    assert not _file_accepts(tmp_path, 'platform = ""')


@pytest.mark.parametrize("name", BUILD_ARG_NAMES)
def test_build_arg_names(tmp_path: Path, name: str) -> None:
    flag = _flag_accepts(PushOptions(entrypoint=Path("train.py"), build_args={name: "1"}))
    assert flag == _file_accepts(tmp_path, f"build_args = {{ {_toml_string(name)} = '1' }}")


@pytest.mark.parametrize("name", HARBOR_PROJECTS)
def test_harbor_projects(tmp_path: Path, name: str) -> None:
    flag = _flag_accepts(PushOptions(entrypoint=Path("train.py"), harbor_project=name or None))
    if not name:
        return
    assert flag == _file_accepts(tmp_path, f"harbor_project = {_toml_string(name)}")


def test_the_file_names_itself_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "keynet.toml"
    path.write_text('platform = "linux_x/amd64"\n')
    with pytest.raises(ConfigError) as caught:
        load_project_file(path)
    assert str(path) in caught.value.message and "platform" in caught.value.message
