"""Discovery and validation of keynet.toml / [tool.keynet-train] (docs/commands.md)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from keynet_train.errors import ConfigError
from keynet_train.push.project_file import (
    PROJECT_KEYS,
    ProjectSettings,
    find_project_settings,
    load_project_file,
)

FULL_TABLE = """
project_id = 123
model_name = "detector"
dockerfile = "docker/Dockerfile"
context = "."
harbor_project = "kitech-model"
tags = ["latest", "v1.2"]
build_args = { TORCH_VERSION = "2.4", CUDA = "12.1" }
platform = "linux/amd64"
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git checkout with a nested training script: repo/src/models/train.py."""
    root = tmp_path.resolve() / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "src" / "models").mkdir(parents=True)
    (root / "src" / "models" / "train.py").write_text("print('train')\n")
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def entry(repo: Path) -> Path:
    return repo / "src" / "models" / "train.py"


# ----------------------------------------------------------------- discovery


def test_no_project_file_gives_empty_settings(repo: Path) -> None:
    assert find_project_settings(entry(repo)) == ProjectSettings()
    assert find_project_settings(entry(repo)).source is None


def test_pyproject_table_read_with_all_keys(repo: Path) -> None:
    pyproject = write(
        repo / "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.keynet-train]\n' + FULL_TABLE,
    )
    settings = find_project_settings(entry(repo))
    assert settings == ProjectSettings(
        source=pyproject,
        project_id=123,
        model_name="detector",
        dockerfile=repo / "docker" / "Dockerfile",
        context=repo,
        harbor_project="kitech-model",
        tags=["latest", "v1.2"],
        build_args={"TORCH_VERSION": "2.4", "CUDA": "12.1"},
        platform="linux/amd64",
    )


def test_keynet_toml_top_level_keys(repo: Path) -> None:
    keynet = write(repo / "src" / "keynet.toml", "project_id = 5\ntags = ['a']\n")
    settings = find_project_settings(entry(repo))
    assert settings.source == keynet
    assert settings.project_id == 5
    assert settings.tags == ["a"]
    assert settings.build_args == {}


def test_nearest_file_wins(repo: Path) -> None:
    write(repo / "pyproject.toml", "[tool.keynet-train]\nproject_id = 1\n")
    near = write(
        repo / "src" / "models" / "pyproject.toml", "[tool.keynet-train]\nproject_id = 2\n"
    )
    settings = find_project_settings(entry(repo))
    assert settings.source == near
    assert settings.project_id == 2


def test_keynet_toml_wins_over_pyproject_in_the_same_directory(repo: Path) -> None:
    write(repo / "pyproject.toml", "[tool.keynet-train]\nproject_id = 1\n")
    keynet = write(repo / "keynet.toml", "project_id = 2\n")
    assert find_project_settings(entry(repo)).source == keynet


def test_pyproject_without_table_is_skipped(repo: Path) -> None:
    outer = write(repo / "keynet.toml", "project_id = 9\n")
    write(
        repo / "src" / "pyproject.toml", '[project]\nname = "lib"\n[tool.ruff]\nline-length = 1\n'
    )
    settings = find_project_settings(entry(repo))
    assert settings.source == outer
    assert settings.project_id == 9


def test_search_stops_at_the_git_root(tmp_path: Path, repo: Path) -> None:
    # A project file above the checkout belongs to something else.
    write(tmp_path / "keynet.toml", "project_id = 666\n")
    assert find_project_settings(entry(repo)).source is None


def test_git_root_itself_is_searched(repo: Path) -> None:
    at_root = write(repo / "keynet.toml", "project_id = 3\n")
    assert find_project_settings(entry(repo)).source == at_root


def test_git_file_marks_a_worktree_root(tmp_path: Path) -> None:
    tmp_path = tmp_path.resolve()
    write(tmp_path / "keynet.toml", "project_id = 666\n")
    worktree = tmp_path / "wt"
    write(worktree / ".git", "gitdir: /elsewhere/.git/worktrees/wt\n")
    write(worktree / "train.py", "")
    assert find_project_settings(worktree / "train.py").source is None


def test_without_git_search_goes_up_to_the_filesystem_root(tmp_path: Path) -> None:
    tmp_path = tmp_path.resolve()
    top = write(tmp_path / "keynet.toml", "project_id = 4\n")
    write(tmp_path / "a" / "b" / "c" / "train.py", "")
    assert find_project_settings(tmp_path / "a" / "b" / "c" / "train.py").source == top


def test_relative_entrypoint_and_directory_argument(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keynet = write(repo / "src" / "models" / "keynet.toml", "project_id = 8\n")
    monkeypatch.chdir(repo / "src")
    assert find_project_settings(Path("models/train.py")).source == keynet
    assert find_project_settings(Path("models")).source == keynet


def test_load_project_file_directly(repo: Path) -> None:
    bare = write(repo / "pyproject.toml", '[project]\nname = "x"\n')
    assert load_project_file(bare) == ProjectSettings(source=bare)


def test_load_project_file_reads_the_tool_table_of_a_pyproject(repo: Path) -> None:
    # --project-file pyproject.toml: the [tool.keynet-train] table, not the top level.
    pyproject = write(
        repo / "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.keynet-train]\nproject_id = 9\nmodel_name = "m"\n',
    )
    settings = load_project_file(pyproject)
    assert (settings.source, settings.project_id, settings.model_name) == (pyproject, 9, "m")


# ----------------------------------------------------------------- paths


def test_paths_relative_to_the_file_not_the_cwd(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        repo / "src" / "keynet.toml",
        'dockerfile = "../docker/Containerfile"\ncontext = ".."\n',
    )
    monkeypatch.chdir(tmp_path)
    settings = find_project_settings(entry(repo))
    assert settings.dockerfile == repo / "docker" / "Containerfile"
    assert settings.context == repo
    assert settings.dockerfile.is_absolute()


def test_absolute_paths_kept(repo: Path, tmp_path: Path) -> None:
    write(repo / "keynet.toml", f'context = "{tmp_path}"\n')
    assert find_project_settings(entry(repo)).context == tmp_path.resolve()


# ----------------------------------------------------------------- errors


def error_for(repo: Path, text: str, *, pyproject: bool = False) -> ConfigError:
    if pyproject:
        path = write(repo / "pyproject.toml", "[tool.keynet-train]\n" + text)
    else:
        path = write(repo / "keynet.toml", text)
    with pytest.raises(ConfigError) as info:
        find_project_settings(entry(repo))
    assert str(path) in info.value.message
    return info.value


def test_unknown_key_names_file_key_and_valid_keys(repo: Path) -> None:
    error = error_for(repo, "project_id = 1\nbuild-args = {}\n")
    assert "'build-args'" in error.message
    assert "Valid keys: " + ", ".join(PROJECT_KEYS) in error.message


def test_unknown_key_in_pyproject_is_qualified(repo: Path) -> None:
    error = error_for(repo, "projectid = 1\ntag = 'x'\n", pyproject=True)
    assert "'tool.keynet-train.projectid'" in error.message
    assert "'tool.keynet-train.tag'" in error.message
    assert "Valid keys:" in error.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('project_id = "123"', "'project_id' must be an integer, got a string"),
        ("project_id = true", "'project_id' must be an integer, got a boolean"),
        ("project_id = 1.0", "'project_id' must be an integer, got a float"),
        ("project_id = 0", "'project_id' must be a positive integer"),
        ("model_name = 5", "'model_name' must be a string, got an integer"),
        ('model_name = ""', "'model_name' must not be empty"),
        ("dockerfile = ['a']", "'dockerfile' must be a string, got an array"),
        ("context = {}", "'context' must be a string, got a table"),
        ("harbor_project = 'Bad Name'", "'harbor_project' is invalid"),
        ("tags = 'latest'", "'tags' must be an array of strings, got a string"),
        ("tags = [1]", "'tags' must be an array of strings, got an integer"),
        ("tags = ['has space']", "'tags' contains 'has space'"),
        ("tags = ['-lead']", "not a valid image tag"),
        ("build_args = 'A=1'", "'build_args' must be a table of strings, got a string"),
        ("build_args = { A = 1 }", "'build_args.A' must be a string, got an integer"),
        ('build_args = { "1A" = "x" }', "not a valid build argument name"),
        ("platform = 'amd64'", "'platform' must look like os/arch"),
        ("platform = 1979-05-27", "'platform' must be a string, got a date"),
    ],
)
def test_wrong_types_and_values(repo: Path, text: str, expected: str) -> None:
    error = error_for(repo, text + "\n")
    assert expected in error.message
    assert error.hint


def test_wrong_type_lists_valid_keys_in_the_hint(repo: Path) -> None:
    error = error_for(repo, "project_id = 'x'\n")
    assert error.hint == "Valid keys: " + ", ".join(PROJECT_KEYS) + "."


def test_wrong_type_in_pyproject_is_qualified(repo: Path) -> None:
    error = error_for(repo, "tags = 'x'\n", pyproject=True)
    assert "'tool.keynet-train.tags'" in error.message


def test_tool_entry_not_a_table(repo: Path) -> None:
    path = write(repo / "pyproject.toml", '[tool]\nkeynet-train = "yes"\n')
    with pytest.raises(ConfigError, match="must be a table") as info:
        find_project_settings(entry(repo))
    assert str(path) in info.value.message


def test_toml_syntax_error_has_file_and_parser_message(repo: Path) -> None:
    error = error_for(repo, "project_id = = 1\n")
    assert "not valid TOML" in error.message
    assert "line 1" in error.message  # the parser's own position


def test_syntax_error_in_pyproject_stops_the_search(repo: Path) -> None:
    # A broken pyproject might hold the table; guessing past it would hide the typo.
    write(repo / "keynet.toml", "project_id = 1\n")
    broken = write(repo / "src" / "pyproject.toml", "[tool.keynet-train\n")
    with pytest.raises(ConfigError) as info:
        find_project_settings(entry(repo))
    assert str(broken) in info.value.message


def test_non_utf8_file(repo: Path) -> None:
    path = repo / "keynet.toml"
    path.write_bytes(b"model_name = '\xff'\n")
    with pytest.raises(ConfigError, match="not UTF-8") as info:
        find_project_settings(entry(repo))
    assert str(path) in info.value.message


def test_unreadable_file(repo: Path) -> None:
    # A directory named keynet.toml is skipped (not a file); a dangling symlink too.
    (repo / "keynet.toml").mkdir()
    assert find_project_settings(entry(repo)).source is None
    with pytest.raises(ConfigError, match="Cannot read the project file"):
        load_project_file(repo / "keynet.toml")


@pytest.fixture
def python310_toml(monkeypatch: pytest.MonkeyPatch) -> None:
    """Act like Python 3.10, where tomllib does not exist and tomli is the dependency."""
    import importlib

    real = importlib.import_module

    def import_module(name: str, package: str | None = None) -> object:
        if name == "tomllib":
            raise ModuleNotFoundError("No module named 'tomllib'", name="tomllib")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", import_module)


@pytest.mark.usefixtures("python310_toml")
def test_python_310_reads_project_files_with_tomli(repo: Path) -> None:
    write(repo / "pyproject.toml", '[project]\nname = "x"\n\n[tool.keynet-train]\n' + FULL_TABLE)
    settings = find_project_settings(entry(repo))
    assert settings.project_id == 123 and settings.build_args == {
        "TORCH_VERSION": "2.4",
        "CUDA": "12.1",
    }


@pytest.mark.usefixtures("python310_toml")
def test_python_310_reports_toml_syntax_errors_like_311(repo: Path) -> None:
    error = error_for(repo, "project_id = = 1\n")
    assert "not valid TOML" in error.message and "line 1" in error.message
