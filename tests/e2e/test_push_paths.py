"""Entrypoint and context paths as users type them (issue 8 items 2-3), end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import SIMPLE_DOCKERFILE, Cli, make_context
from tests.support.services import BASE_IMAGE, RegistryHandle

pytestmark = pytest.mark.integration


def test_symlinked_entrypoint_outside_the_context_sends_nothing(
    cli: Cli, registry: RegistryHandle, tmp_path: Path
) -> None:
    cli.login()
    cli.backend.reset()
    before = set(registry.catalog())
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    (context / "train.py").unlink()
    real = tmp_path / "shared" / "train.py"
    real.parent.mkdir()
    real.write_text("import argparse\nargparse.ArgumentParser().parse_args()\n")
    (context / "train.py").symlink_to(real)
    result = cli(
        "push", str(context / "train.py"), "--context", str(context), "--project", "1", "--json"
    )
    assert result.code == 1, result.err
    error = json.loads(result.out)["error"]
    # Refused before it is read (docs/security.md), so before the context check.
    assert error["type"] == "validation"
    assert "is a symlink that leads outside" in error["message"]
    assert "build context" in error["message"]
    assert cli.backend.requests == []  # no upload key, no record on the platform
    assert set(registry.catalog()) == before


@pytest.mark.parametrize(
    ("cwd_name", "entrypoint", "context"),
    [
        ("proj", "../proj/train.py", None),
        ("proj", "sub/../train.py", None),
        (".", "proj/train.py", "proj-link"),
    ],
)
def test_paths_as_typed_are_normalised(
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cwd_name: str,
    entrypoint: str,
    context: str | None,
) -> None:
    project = make_context(tmp_path / "proj", SIMPLE_DOCKERFILE, {"sub/keep.txt": ""})
    (tmp_path / "proj-link").symlink_to(project)
    monkeypatch.chdir(tmp_path / cwd_name)
    args = ["push", entrypoint, "--dry-run", "--json", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}"]
    if context:
        args += ["--context", context]
    result = cli(*args)
    assert result.code == 0, result.err
    assert json.loads(result.out)["dry_run"] is True


def test_missing_context_is_not_blamed_on_the_dockerfile(cli: Cli, tmp_path: Path) -> None:
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    result = cli(
        "push", str(context / "train.py"), "--context", str(tmp_path / "nonexistent"), "--dry-run"
    )
    assert result.code == 1
    assert "Build context not found" in result.err
    assert "Dockerfile not found" not in result.err


def test_git_credentials_in_the_context_are_warned_about(cli: Cli, tmp_path: Path) -> None:
    token = "glpat-CANARY0123456789abcdef"
    context = make_context(tmp_path / "ctx", SIMPLE_DOCKERFILE)
    (context / ".git").mkdir()
    (context / ".git/config").write_text(f'[remote "origin"]\n\turl = https://ci:{token}@h/r.git\n')
    result = cli("push", str(context / "train.py"), "--context", str(context), "--dry-run")
    assert result.code == 0, result.err
    warning = " ".join(result.err.split())
    assert f"{context / '.git/config'}:2 holds credentials" in warning
    assert f"add the line '.git' to {context / '.dockerignore'}" in warning
    assert token not in result.out + result.err
