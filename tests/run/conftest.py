"""Fixtures for ``keynet-train run`` against real podman with a real Python in the container."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest

from keynet_train.cli.environment import Environment
from keynet_train.cli.main import main
from tests.support.python_image import ensure_python_image
from tests.support.services import PodmanServiceHandle

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "callbacks"


@pytest.fixture(scope="session")
def python_image(podman_service: PodmanServiceHandle) -> str:
    """The host's interpreter imported as an offline base image (unique name per session)."""
    reference = f"localhost/keynet-test-python:{uuid.uuid4().hex[:8]}"
    return ensure_python_image(podman_service.url, reference, {**os.environ, **podman_service.env})


@dataclass
class RunOutput:
    """Exit code and captured streams of one in-process ``keynet-train`` run."""

    code: int
    out: str
    err: str


class RunCli:
    """``keynet-train`` in-process, in a project folder, against the session's podman."""

    def __init__(self, environ: dict[str, str], project: Path, monkeypatch: pytest.MonkeyPatch):
        self.environ = environ
        self.project = project
        self._monkeypatch = monkeypatch

    def __call__(self, *args: str) -> RunOutput:
        self._monkeypatch.chdir(self.project)
        env = Environment(
            stdin=StringIO(), stdout=StringIO(), stderr=StringIO(), environ=dict(self.environ)
        )
        code = main(list(args), env=env)
        assert isinstance(env.stdout, StringIO) and isinstance(env.stderr, StringIO)
        return RunOutput(code, env.stdout.getvalue(), env.stderr.getvalue())


@pytest.fixture
def run_cli(
    tmp_path: Path, podman_service: PodmanServiceHandle, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunCli]:
    """The CLI in ``tmp_path/project`` wired to the session's podman service."""
    (tmp_path / "home").mkdir()
    project = tmp_path / "project"
    project.mkdir()
    environ = {
        "HOME": str(tmp_path / "home"),
        "PATH": os.environ.get("PATH", ""),
        "KEYNET_CONFIG": str(tmp_path / "keynet" / "config.json"),
        "CONTAINER_HOST": podman_service.url,
    }
    yield RunCli(environ, project, monkeypatch)


def write_project(project: Path, python_image: str, train: str, *, entry: str = "train.py") -> Path:
    """A context with the example's Dockerfile on ``python_image`` and ``train`` as ``entry``."""
    dockerfile = (EXAMPLE / "Dockerfile").read_text()
    (project / "Dockerfile").write_text(
        dockerfile.replace("ARG BASE_IMAGE=python:3.11-slim", f"ARG BASE_IMAGE={python_image}")
    )
    path = project / entry
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(train)
    return path


def example_source() -> str:
    """The stdlib example trainer's source."""
    return (EXAMPLE / "train.py").read_text()


def variant(*replacements: tuple[str, str]) -> str:
    """The example with each ``(old, new)`` replaced; an ``old`` that is gone fails the test."""
    source = example_source()
    for old, new in replacements:
        assert old in source, f"the example no longer contains {old!r}"
        source = source.replace(old, new)
    return source
