"""Unit tests of the push pipeline's pure parts: precedence, validation, names, labels."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from keynet_train.build.image_names import DEFAULT_PLATFORM
from keynet_train.config import Config
from keynet_train.errors import ConfigError, InputError
from keynet_train.push.labels import image_labels, repository_component
from keynet_train.push.project_file import ProjectSettings
from keynet_train.push.settings import (
    DEFAULT_HARBOR_PROJECT,
    PushOptions,
    parse_build_args,
    resolve_settings,
)

CWD = Path("/work/project")
NANOID = re.compile(r"^[A-Za-z0-9_-]{21}$")
REPO_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")


def resolve(
    options: PushOptions | None = None,
    environ: dict[str, str] | None = None,
    project: ProjectSettings | None = None,
    config: Config | None = None,
):  # type: ignore[no-untyped-def]
    return resolve_settings(
        options or PushOptions(entrypoint=Path("train.py")),
        environ or {},
        project or ProjectSettings(),
        config,
        CWD,
    )


def test_defaults() -> None:
    s = resolve()
    assert s.project_id is None
    assert s.harbor_project == DEFAULT_HARBOR_PROJECT
    assert s.platform == DEFAULT_PLATFORM == "linux/amd64"
    assert s.model_name is None  # chosen by the image check (docs/push.md)
    assert s.context == CWD and s.entrypoint == CWD / "train.py"
    assert s.dockerfile is None and s.tags == [] and s.build_args == {}


def test_project_id_precedence() -> None:
    project = ProjectSettings(source=Path("/p/keynet.toml"), project_id=3)
    config = Config(project_id=4)
    assert resolve(config=config).project_id == 4
    assert resolve(project=project, config=config).project_id == 3
    s = resolve(environ={"KEYNET_PROJECT_ID": "2"}, project=project, config=config)
    assert (s.project_id, s.project_source) == (2, "KEYNET_PROJECT_ID")
    s = resolve(
        PushOptions(entrypoint=Path("t.py"), project_id=1),
        {"KEYNET_PROJECT_ID": "2"},
        project,
        config,
    )
    assert (s.project_id, s.project_source) == (1, "--project")


def test_bad_project_env_var() -> None:
    with pytest.raises(ConfigError, match="KEYNET_PROJECT_ID"):
        resolve(environ={"KEYNET_PROJECT_ID": "abc"})


def test_harbor_project_precedence_and_validation() -> None:
    project = ProjectSettings(harbor_project="from-file")
    config = Config(harbor_project="from-config")
    assert resolve(config=config).harbor_project == "from-config"
    assert resolve(project=project, config=config).harbor_project == "from-file"
    assert (
        resolve(environ={"KEYNET_HARBOR_PROJECT": "from-env"}, project=project).harbor_project
        == "from-env"
    )
    opts = PushOptions(entrypoint=Path("t.py"), harbor_project="flag")
    assert resolve(opts, {"KEYNET_HARBOR_PROJECT": "from-env"}).harbor_project == "flag"
    with pytest.raises(InputError, match="Harbor project"):
        resolve(PushOptions(entrypoint=Path("t.py"), harbor_project="Bad_Name!"))


def test_tags_and_build_args() -> None:
    project = ProjectSettings(tags=["latest", "nightly"], build_args={"A": "1", "B": "2"})
    s = resolve(project=project)
    assert s.tags == ["latest", "nightly"] and s.build_args == {"A": "1", "B": "2"}
    opts = PushOptions(entrypoint=Path("t.py"), tags=["v1", "v1"], build_args={"B": "3"})
    s = resolve(opts, project=project)
    assert s.tags == ["v1"]  # flags replace the file's tags, duplicates collapse
    assert s.build_args == {"A": "1", "B": "3"}  # merged key by key
    for bad in ("-x", ".x", "a" * 129, "has space", "a:b"):
        with pytest.raises(InputError, match="Invalid image tag"):
            resolve(PushOptions(entrypoint=Path("t.py"), tags=[bad]))


def test_parse_build_args() -> None:
    assert parse_build_args(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    with pytest.raises(InputError):
        parse_build_args(["NOVALUE"])
    with pytest.raises(InputError):
        resolve(PushOptions(entrypoint=Path("t.py"), build_args={"1BAD": "x"}))


def test_platform_validation() -> None:
    assert (
        resolve(PushOptions(entrypoint=Path("t.py"), platform="linux/arm64/v8")).platform
        == "linux/arm64/v8"
    )
    assert resolve(project=ProjectSettings(platform="linux/arm64")).platform == "linux/arm64"
    with pytest.raises(InputError, match="platform"):
        resolve(PushOptions(entrypoint=Path("t.py"), platform="amd64"))


@pytest.mark.parametrize(
    ("platform", "message", "guess"),
    [
        ("linux/amd64x", "Invalid platform: 'linux/amd64x': unknown architecture 'amd64x'.",
         "Did you mean amd64? "),
        ("linx/amd64", "Invalid platform: 'linx/amd64': unknown OS 'linx'.",
         "Did you mean linux? "),
        ("linux/x86_64", "Invalid platform: 'linux/x86_64': unknown architecture 'x86_64'.",
         "Did you mean amd64? "),
        ("linux/quantum", "Invalid platform: 'linux/quantum': unknown architecture 'quantum'.", ""),
    ],
)  # fmt: skip
def test_unknown_os_or_architecture_is_refused_before_building(
    platform: str, message: str, guess: str
) -> None:
    """podman would only fail after the context was sent, with "pinging container registry"."""
    with pytest.raises(InputError) as caught:
        resolve(PushOptions(entrypoint=Path("t.py"), platform=platform))

    assert caught.value.message == message
    assert caught.value.hint is not None
    assert caught.value.hint.startswith(f"{guess}Use OS/ARCH[/VARIANT], e.g. linux/amd64")


def test_paths_relative_to_cwd_and_model_name() -> None:
    opts = PushOptions(
        entrypoint=Path("src/train.py"), context=Path("."), dockerfile=Path("docker/Dockerfile")
    )
    s = resolve(opts)
    assert s.entrypoint == CWD / "src/train.py"
    assert s.dockerfile == CWD / "docker/Dockerfile"
    assert s.model_name is None
    s = resolve(project=ProjectSettings(model_name="detector", context=Path("/abs/ctx")))
    assert s.model_name == "detector" and s.context == Path("/abs/ctx")


def test_podman_url_precedence() -> None:
    config = Config(podman_url="unix:///config.sock")
    assert resolve(config=config).podman_url == "unix:///config.sock"
    assert (
        resolve(environ={"CONTAINER_HOST": "unix:///env.sock"}, config=config).podman_url
        == "unix:///env.sock"
    )
    opts = PushOptions(entrypoint=Path("t.py"), podman_url="unix:///flag.sock")
    assert resolve(opts, {"CONTAINER_HOST": "unix:///env.sock"}).podman_url == "unix:///flag.sock"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("abc123xyz456789012345", "abc123xyz456789012345"),
        ("V1StGXR8_Z5jdHi6B-myT", "v1stgxr8-z5jdhi6b-myt"),
        ("_leading-and-trailing-", "leading-and-trailing"),
        ("a___b__c--d-_e", "a-b-c-d-e"),
    ],
)
def test_repository_component(key: str, expected: str) -> None:
    assert repository_component(key) == expected
    assert REPO_COMPONENT.match(expected)


def test_repository_component_is_valid_for_any_nanoid() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

    @given(
        st.text(alphabet=alphabet, min_size=21, max_size=21).filter(
            lambda k: any(c.isalnum() for c in k)
        )
    )
    def check(key: str) -> None:
        assert REPO_COMPONENT.match(repository_component(key))

    check()


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True)


def test_labels_outside_git(tmp_path: Path) -> None:
    now = datetime(2025, 11, 4, 8, 30, tzinfo=timezone.utc)
    hp = [
        {
            "name": "lr",
            "type": "float",
            "default": 0.1,
            "required": False,
            "help": None,
            "choices": None,
        }
    ]
    labels = image_labels(tmp_path, "src/train.py", "abc123xyz456789012345", hp, now)
    assert labels == {
        "org.opencontainers.image.created": "2025-11-04T08:30:00Z",
        "ai.keynet.train.entrypoint": "src/train.py",
        "ai.keynet.train.hyperparameters": json.dumps(hp, separators=(",", ":")),
        "ai.keynet.train.upload-key": "abc123xyz456789012345",
    }


def test_labels_in_git_checkout_strip_credentials(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    _git(
        tmp_path,
        "-c",
        "user.email=a@b",
        "-c",
        "user.name=a",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    )
    _git(
        tmp_path,
        "remote",
        "add",
        "origin",
        "https://ci-user:s3cr3t-token@git.example.com/team/model.git",
    )
    labels = image_labels(tmp_path, "train.py", None, [])
    assert re.fullmatch(r"[0-9a-f]{40}", labels["org.opencontainers.image.revision"])
    assert labels["org.opencontainers.image.source"] == "https://git.example.com/team/model.git"
    assert "ai.keynet.train.upload-key" not in labels


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        # A CI token in the remote must not reach the image label.
        ("https://ci:tok3n@git.example.com/team/m.git", "https://git.example.com/team/m.git"),
        (
            "https://tok3n@git.example.com:8443/m.git?x=1#f",
            "https://git.example.com:8443/m.git?x=1#f",
        ),
        # A password holding '@': everything up to the last '@' is userinfo.
        ("https://u:p@ss@git.example.com/m.git", "https://git.example.com/m.git"),
        ("//ci:tok3n@git.example.com/m.git", "//git.example.com/m.git"),
        # Nothing to strip: unchanged.
        ("https://git.example.com/team/m.git", "https://git.example.com/team/m.git"),
        ("git@github.com:team/m.git", "git@github.com:team/m.git"),
        ("/srv/git/m.git", "/srv/git/m.git"),
        ("file:///srv/git/m@2.git", "file:///srv/git/m@2.git"),
    ],
)
def test_strip_userinfo(remote: str, expected: str) -> None:
    from keynet_train.push.labels import _strip_userinfo

    assert _strip_userinfo(remote) == expected
