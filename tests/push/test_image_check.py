"""The image check's decisions, on a hand-written image (tests/e2e/test_image_check.py
runs the same check against real podman)."""

from __future__ import annotations

import contextlib
import posixpath
from collections.abc import Iterator
from pathlib import Path

import pytest

from keynet_train.errors import ImageCheckError
from keynet_train.podman.image_files import PathStat
from keynet_train.podman.images import ImageConfig
from keynet_train.push.image_check import check_image

SCRIPT = b"import argparse\nargparse.ArgumentParser().parse_args()\n"


class FakeImage:
    """Files (path -> bytes), symlinks (path -> target) and a config, like a built image."""

    def __init__(self, **config: object) -> None:
        self.files: dict[str, tuple[bytes, int]] = {"/usr/local/bin/python": (b"\x7fELF", 0o755)}
        self.links: dict[str, str] = {}
        self.config = ImageConfig(
            os=str(config.get("os", "linux")),
            architecture=str(config.get("architecture", "amd64")),
            variant=None,
            workdir=str(config.get("workdir", "/app")),
            env=tuple(config.get("env", ())),  # type: ignore[call-overload]
            entrypoint=tuple(config.get("entrypoint", ())),  # type: ignore[call-overload]
            cmd=(),
        )
        self.opened = 0
        self.closed = 0

    def add(self, path: str, content: bytes, mode: int = 0o644) -> None:
        self.files[path] = (content, mode)

    def image_config(self, image: str) -> ImageConfig:
        return self.config

    @contextlib.contextmanager
    def image_files(self, image: str) -> Iterator[FakeImage]:
        self.opened += 1
        try:
            yield self
        finally:
            self.closed += 1

    def _resolve(self, path: str) -> str:
        path = posixpath.normpath(path)
        for _ in range(40):
            if path in self.links:
                path = posixpath.normpath(posixpath.join(posixpath.dirname(path), self.links[path]))
            else:
                return path
        raise AssertionError("symlink loop")

    def stat(self, path: str) -> PathStat | None:
        target = self._resolve(path)
        if target in self.files:
            content, mode = self.files[target]
            return PathStat(path, True, target, is_regular=True, mode=mode, size=len(content))
        if any(f.startswith(target + "/") for f in self.files):
            return PathStat(path, True, target, is_dir=True, mode=0o755)
        if target != posixpath.normpath(path):
            return PathStat(path, False, target)
        return None

    def read(self, path: str, limit: int) -> bytes | None:
        found = self.files.get(self._resolve(path))
        return found[0] if found is not None and len(found[0]) <= limit else None

    def fetch(self, path: str, limit: int) -> tuple[PathStat | None, bytes | None]:
        return self.stat(path), self.read(path, limit)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "tools").mkdir()
    (tmp_path / "train.py").write_bytes(SCRIPT)
    (tmp_path / "tools" / "train_net.py").write_bytes(SCRIPT)
    return tmp_path


def _check(image: FakeImage, project: Path, entry: str = "train.py", **kwargs: object):  # type: ignore[no-untyped-def]
    options: dict[str, object] = {"model_name": None, "platform": "linux/amd64", **kwargs}
    return check_image(
        image,  # type: ignore[arg-type]
        "img",
        entrypoint=project / entry,
        context=project,
        dockerfile=project / "Dockerfile",
        **options,  # type: ignore[arg-type]
    )


def test_a_good_image(project: Path) -> None:
    image = FakeImage()
    image.add("/app/train.py", SCRIPT)
    facts = _check(image, project)
    assert (facts.model_name, facts.workdir, facts.python) == (
        "train.py",
        "/app",
        "/usr/local/bin/python",
    )
    assert facts.entrypoint_path == "/app/train.py"
    assert image.opened == image.closed == 1


def test_the_context_path_wins_over_the_file_name(project: Path) -> None:
    image = FakeImage()
    image.add("/app/tools/train_net.py", SCRIPT)
    image.add("/app/train_net.py", SCRIPT)
    assert _check(image, project, "tools/train_net.py").model_name == "tools/train_net.py"


def test_the_container_is_closed_when_the_check_fails(project: Path) -> None:
    image = FakeImage()
    with pytest.raises(ImageCheckError):
        _check(image, project)
    assert image.opened == image.closed == 1


@pytest.mark.parametrize(
    ("arch", "platform", "ok"),
    [
        ("amd64", "linux/amd64", True),
        ("x86_64", "linux/amd64", True),
        ("aarch64", "linux/arm64", True),
        ("arm64", "linux/amd64", False),
        ("amd64", "linux/arm64/v8", False),
    ],
)
def test_platform(project: Path, arch: str, platform: str, ok: bool) -> None:
    image = FakeImage(architecture=arch)
    image.add("/app/train.py", SCRIPT)
    if ok:
        _check(image, project, platform=platform)
        return
    with pytest.raises(ImageCheckError) as caught:
        _check(image, project, platform=platform)
    assert f"the platform runs {platform} images" in caught.value.message
    assert f"--platform {platform}" in str(caught.value.hint)
    assert image.opened == 0  # refused from the config, before any container


def test_a_folder_where_the_script_should_be(project: Path) -> None:
    image = FakeImage()
    image.add("/app/train.py/inner", b"")
    with pytest.raises(ImageCheckError, match=r"has a folder at /app/train\.py"):
        _check(image, project)


def test_no_workdir_means_root(project: Path) -> None:
    image = FakeImage(workdir="")
    image.add("/train.py", SCRIPT)
    assert _check(image, project).entrypoint_path == "/train.py"


def test_python_paths_dangling_and_not_executable(project: Path) -> None:
    image = FakeImage(env=["PATH=/opt/bin:/usr/bin"])
    del image.files["/usr/local/bin/python"]
    image.add("/app/train.py", SCRIPT)
    image.links["/opt/bin/python"] = "/opt/conda/bin/python3.11"
    image.add("/usr/bin/python", b"#!/bin/sh\n", 0o644)
    with pytest.raises(ImageCheckError) as caught:
        _check(image, project)
    message = caught.value.message
    assert "looked in /opt/bin:/usr/bin" in message
    assert (
        "/opt/bin/python is a symlink to /opt/conda/bin/python3.11, which does not exist" in message
    )
    assert "/usr/bin/python is not executable" in message


def test_a_relative_path_entry_is_relative_to_the_workdir(project: Path) -> None:
    image = FakeImage(env=["PATH=venv/bin"])
    del image.files["/usr/local/bin/python"]
    image.add("/app/train.py", SCRIPT)
    image.add("/app/venv/bin/python", b"\x7fELF", 0o755)
    assert _check(image, project).python == "/app/venv/bin/python"


@pytest.mark.parametrize(
    ("entrypoint", "files", "outcome"),
    [
        (["tini", "--"], {}, "ok"),
        (["/usr/bin/env"], {}, "ok"),
        (["/bin/sh", "-c", 'exec "$@"', "--"], {}, "ok"),
        (["/bin/sh", "-c", "python train.py"], {}, "swallow"),
        (["python3"], {}, "swallow"),
        (["/entry.sh"], {"/entry.sh": b'#!/bin/bash\nsource /env\nexec "${@}"\n'}, "ok"),
        (["/entry.sh"], {"/entry.sh": b"#!/bin/sh\npython /app/train.py\n"}, "swallow"),
        (["/missing.sh"], {}, "missing"),
        (["/usr/bin/launcher"], {"/usr/bin/launcher": b"\x7fELF\x02\x01"}, "warn"),
    ],
)
def test_entrypoint_instruction(
    project: Path, entrypoint: list[str], files: dict[str, bytes], outcome: str
) -> None:
    image = FakeImage(entrypoint=entrypoint)
    image.add("/app/train.py", SCRIPT)
    for path, content in files.items():
        image.add(path, content, 0o755)
    if outcome in ("ok", "warn"):
        facts = _check(image, project)
        assert bool(facts.warnings) == (outcome == "warn")
        return
    with pytest.raises(ImageCheckError) as caught:
        _check(image, project)
    expected = (
        "would swallow the platform's command" if outcome == "swallow" else "not in the image"
    )
    assert expected in caught.value.message
    assert 'exec "$@"' in str(caught.value.hint)


def test_a_passed_check_is_remembered_by_image_id_and_script(project: Path, tmp_path: Path) -> None:
    """The same image id holds the same files: no container for the same check again."""
    from keynet_train.build.cache import ImageChecks

    image_id = "a" * 64
    memo = ImageChecks(tmp_path / "cache" / "image-checks.json")
    image = FakeImage()
    image.add("/app/train.py", SCRIPT)
    first = _check_id(image, project, image_id, memo)
    assert image.opened == 1
    again = _check_id(image, project, image_id, memo)
    assert again == first and image.opened == 1  # from the memo: nothing opened

    # Anything the check reads changes the key: the script's bytes, the platform, the image.
    (project / "train.py").write_bytes(SCRIPT + b"# edited\n")
    with pytest.raises(ImageCheckError, match="different"):
        _check_id(image, project, image_id, memo)
    (project / "train.py").write_bytes(SCRIPT)
    _check_id(image, project, image_id, memo, platform="linux/arm64", expect_error=True)
    _check_id(image, project, "b" * 64, memo)
    assert image.opened == 3  # the platform mismatch is seen in the config, before any file
    # A tag is never remembered: it can name another image tomorrow.
    _check(image, project, memo=memo)
    _check(image, project, memo=memo)
    assert image.opened == 5


def _check_id(  # type: ignore[no-untyped-def]
    image: FakeImage,
    project: Path,
    image_id: str,
    memo: object,
    platform: str = "linux/amd64",
    expect_error: bool = False,
):
    def run():  # type: ignore[no-untyped-def]
        return check_image(
            image,  # type: ignore[arg-type]
            image_id,
            entrypoint=project / "train.py",
            context=project,
            model_name=None,
            platform=platform,
            memo=memo,  # type: ignore[arg-type]
        )

    if expect_error:
        with pytest.raises(ImageCheckError):
            run()
        return None
    return run()
