"""The CI recipes in examples/ci/ run, step by step, against the local stack.

What a CI service provides is emulated as far as this machine allows; the
recipes' own shell steps run unchanged:

* a fresh HOME and a clean environment (``env -i``), a project checkout (a
  train.py and a Dockerfile on the offline base image), a Python on PATH
  (GitHub's ``setup-python``) and the service's predefined variables
  (``GITHUB_*`` / ``CI_*``, ``GITHUB_PATH``, ``GITHUB_OUTPUT``);
* the repository's variables and secrets point at the fake backend, whose
  Harbor is the suite's TLS registry (its CA as ``KEYNET_CA_BUNDLE``);
* ``KEYNET_TRAIN_SPEC``, the git URL in the recipes, is replaced by a wheel of
  this checkout (no internet here); pip fetches the dependencies from PyPI;
* what the runner machine would have: podman (keynet-train starts its own
  private service; ``KEYNET_PODMAN_RUNTIME=runc`` and the suite's private
  image store are this machine's needs).

``uses:`` steps (checkout, setup-python, upload-artifact) and the GitLab job's
container image are not run: their effect is provided as above.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.checkout import copy_checkout
from tests.support.fake_backend import FakeBackend
from tests.support.services import RegistryHandle

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "examples" / "ci"
PROJECT_ID = 2
STEP_TIMEOUT = 600


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of this checkout, what ``pip install git+…`` would build."""
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source")
    # Built from a copy: an in-tree build writes build/ and *.egg-info into the checkout.
    copy_checkout(REPO, source / "keynet-train")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), "."],
        cwd=source / "keynet-train",
        check=True,
        capture_output=True,
    )
    [built] = out.glob("keynet_train-*.whl")
    return built


@pytest.fixture
def ci_backend(registry: RegistryHandle) -> Any:
    with FakeBackend(
        harbor_url=registry.url,
        harbor_username=registry.username,
        harbor_password=registry.password,
    ) as fake:
        yield fake


def _project(root: Path, base_image: str) -> Path:
    """The repository the pipeline checks out."""
    root.mkdir(parents=True)
    (root / "Dockerfile").write_text(
        f"FROM {base_image}\nWORKDIR /app\nCOPY train.py /app/train.py\n"
    )
    (root / "train.py").write_text(
        "import argparse\n"
        "parser = argparse.ArgumentParser()\n"
        "parser.add_argument('--epochs', type=int, default=3, help='passes')\n"
        "args = parser.parse_args()\n"
    )
    return root


def _runner_env(home: Path, backend: FakeBackend, registry: RegistryHandle) -> dict[str, str]:
    """What every CI job here starts with: a clean environment plus this machine's needs."""
    assert registry.ca_cert is not None
    env = {
        "HOME": str(home),
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "LANG": "C.UTF-8",
        "CI": "true",
        "KEYNET_CA_BUNDLE": str(registry.ca_cert),
        "KEYNET_PODMAN_RUNTIME": "runc",
        # pip's download cache, as CI caches it between jobs.
        "PIP_CACHE_DIR": str(Path.home() / ".cache" / "pip"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    if os.environ.get("CONTAINERS_STORAGE_CONF"):  # the suite's private image store
        env["CONTAINERS_STORAGE_CONF"] = os.environ["CONTAINERS_STORAGE_CONF"]
    # The versions CI pins (a pipeline would pin them the same way).
    env["PIP_CONSTRAINT"] = str(REPO / "constraints.txt")
    return env


def _secrets(backend: FakeBackend) -> dict[str, str]:
    return {
        "KEYNET_SERVER_URL": backend.url,
        "KEYNET_USERNAME": backend.username,
        "KEYNET_PASSWORD": backend.password,
        "KEYNET_PROJECT_ID": str(PROJECT_ID),
    }


def _bash(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    shell = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script]
    return subprocess.run(
        ["env", "-i", *(f"{k}={v}" for k, v in env.items()), *shell],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )


def _check_pushed(
    project: Path, backend: FakeBackend, registry: RegistryHandle, tag: str
) -> dict[str, Any]:
    result = json.loads((project / "push.json").read_text())
    repository = result["image"].split("/", 1)[1]
    assert sorted(registry.tags(repository)) == sorted(["latest", tag])
    assert result["project_id"] == PROJECT_ID
    [upload] = backend.requests_to(f"/v1/projects/{PROJECT_ID}/trains/images", "POST")
    assert upload.json["hyperParameters"][0]["name"] == "epochs"
    return dict(result)


# ----------------------------------------------------------------------------- GitHub


_EXPRESSION = re.compile(r"\$\{\{\s*([\w.]+)\s*\}\}")


def _github_expand(value: str, context: dict[str, str]) -> str:
    return _EXPRESSION.sub(lambda m: context[m.group(1)], value)


def test_github_actions_workflow(
    tmp_path: Path,
    wheel: Path,
    ci_backend: FakeBackend,
    registry: RegistryHandle,
    base_image: str,
) -> None:
    workflow = yaml.safe_load((RECIPES / "github-actions.yml").read_text())
    [job] = workflow["jobs"].values()
    home, temp = tmp_path / "home", tmp_path / "runner-temp"
    home.mkdir()
    temp.mkdir()
    project = _project(tmp_path / "workspace", base_image)
    # actions/setup-python: a `python` on PATH (this interpreter, no packages).
    tool = tmp_path / "hostedtoolcache" / "bin"
    tool.mkdir(parents=True)
    (tool / "python").symlink_to(os.path.realpath(sys._base_executable))  # type: ignore[attr-defined]
    github_path, github_output = temp / "path.txt", temp / "output.txt"
    github_path.touch()
    github_output.touch()
    sha = "0123456789abcdef0123456789abcdef01234567"
    context = {"runner.temp": str(temp)}
    context.update({f"vars.{k}": v for k, v in _secrets(ci_backend).items()})
    context["secrets.KEYNET_PASSWORD"] = ci_backend.password
    base = _runner_env(home, ci_backend, registry)
    base.update(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_SHA": sha,
            "GITHUB_WORKSPACE": str(project),
            "GITHUB_PATH": str(github_path),
            "GITHUB_OUTPUT": str(github_output),
            "RUNNER_TEMP": str(temp),
        }
    )
    base["PATH"] = f"{tool}:{base['PATH']}"
    job_env = {k: _github_expand(str(v), context) for k, v in job["env"].items()}
    job_env["KEYNET_TRAIN_SPEC"] = str(wheel)

    failed = False
    logs: list[str] = []
    for step in job["steps"]:
        if "run" not in step:
            continue  # uses: provided above
        if failed and step.get("if") != "always()":
            continue
        extra_path = [line for line in github_path.read_text().splitlines() if line]
        env = {**base, **job_env}
        env.update({k: _github_expand(str(v), context) for k, v in step.get("env", {}).items()})
        env["PATH"] = ":".join([*reversed(extra_path), env["PATH"]])
        done = _bash(step["run"], env, project)
        logs.append(f"--- {step.get('name')}\n{done.stdout}{done.stderr}")
        failed = failed or done.returncode != 0
    output = "\n".join(logs)

    assert not failed, output
    result = _check_pushed(project, ci_backend, registry, sha[:12])
    assert f"image={result['image']}" in github_output.read_text()
    assert "::group::Build image log" in output and "::endgroup::" in output
    assert "(podman's default connection" in output or "private" in output
    assert ci_backend.password not in output
    assert not Path(job_env["KEYNET_CONFIG"]).exists()  # logged out


# ----------------------------------------------------------------------------- GitLab


def test_gitlab_ci_job(
    tmp_path: Path,
    wheel: Path,
    ci_backend: FakeBackend,
    registry: RegistryHandle,
    base_image: str,
) -> None:
    [job] = yaml.safe_load((RECIPES / "gitlab-ci.yml").read_text()).values()
    home, builds = tmp_path / "home", tmp_path / "builds"
    home.mkdir()
    project = _project(builds / "group" / "project", base_image)
    env = _runner_env(home, ci_backend, registry)
    env.update(
        {
            "GITLAB_CI": "true",
            "CI_BUILDS_DIR": str(builds),
            "CI_PROJECT_DIR": str(project),
            "CI_COMMIT_SHORT_SHA": "0123abcd",
            "CI_COMMIT_BRANCH": "main",
            "CI_DEFAULT_BRANCH": "main",
        }
    )
    env.update(_secrets(ci_backend))
    # GitLab expands $VARS inside `variables:` values itself.
    env.update({k: os.path.expandvars(v) for k, v in _expand_with(job["variables"], env).items()})
    env["KEYNET_TRAIN_SPEC"] = str(wheel)

    # The runner runs before_script and script in one shell, after_script in another.
    main = _bash("\n".join(job["before_script"] + job["script"]), env, project)
    after = _bash("\n".join(job["after_script"]), env, project)
    output = main.stdout + main.stderr + after.stdout + after.stderr

    assert main.returncode == 0, output
    assert after.returncode == 0, output
    result = _check_pushed(project, ci_backend, registry, "0123abcd")
    assert result["image"] in main.stdout  # the job's last script line prints it
    assert "section_start:" in output and "[collapsed=true]" in output
    assert ci_backend.password not in output
    assert not Path(env["KEYNET_CONFIG"]).exists()  # after_script logged out


def _expand_with(variables: dict[str, str], env: dict[str, str]) -> dict[str, str]:
    def expand(value: str) -> str:
        return re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), m.group(0)), value)

    return {k: expand(str(v)) for k, v in variables.items()}
