"""Connection strings are validated by their grammar before anything uses them (docs/security.md).

``ssh://-oProxyCommand=touch pwned/...`` once made ssh run ``touch pwned``:
the host was passed to ssh where an option is read. Each case runs the
installed CLI in ``hostile.root`` and asserts ``pwned`` never appears there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.harness import Hostile

INJECTIONS = [
    "ssh://-oProxyCommand=touch pwned/run/podman.sock",
    "ssh://-oProxyCommand=touch pwned@example.com/run/podman.sock",
    "ssh://core@-oProxyCommand=touch pwned/run/podman.sock",
    "ssh://core@example.com:-oProxyCommand=touch pwned/run/podman.sock",
    "ssh://core@example.com/run/podman.sock;touch pwned",
]


def _pwned(hostile: Hostile) -> Path:
    return hostile.root / "pwned"


@pytest.mark.parametrize("url", INJECTIONS)
def test_podman_url_flag(hostile: Hostile, url: str) -> None:
    hostile.log_in()
    result = hostile.run("whoami", "--podman-url", url)
    hostile.expect(result, exit_code=2, says=["--podman-url", "not a valid ssh:// podman URL"])
    assert not _pwned(hostile).exists(), result.describe()


@pytest.mark.parametrize("url", INJECTIONS[:2])
def test_container_host(hostile: Hostile, url: str) -> None:
    hostile.log_in()
    result = hostile.run("whoami", env={"CONTAINER_HOST": url})
    hostile.expect(result, exit_code=2, says=["CONTAINER_HOST", "not a valid ssh:// podman URL"])
    assert not _pwned(hostile).exists(), result.describe()


@pytest.mark.parametrize("url", INJECTIONS[:2])
def test_config_podman_url(hostile: Hostile, url: str) -> None:
    hostile.log_in(podman_url=url)
    result = hostile.run("whoami")
    hostile.expect(result, exit_code=1, says=["config podman_url", "not a valid ssh:// podman URL"])
    assert not _pwned(hostile).exists(), result.describe()


def test_push_with_injected_podman_url(hostile: Hostile) -> None:
    hostile.log_in(project_id=1)
    repo = hostile.home / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "train.py").write_text("import argparse\nargparse.ArgumentParser().parse_args()\n")
    (repo / "Dockerfile").write_text("FROM scratch\nCOPY train.py /\n")
    result = hostile.run("push", "train.py", "--podman-url", INJECTIONS[0], cwd=repo)
    hostile.expect(result, exit_code=2, says="not a valid ssh:// podman URL")
    assert not (repo / "pwned").exists(), result.describe()


def test_config_set_refuses_an_injected_url(hostile: Hostile) -> None:
    hostile.log_in()
    result = hostile.run("config", "set", "podman_url", INJECTIONS[0])
    assert result.exit_code != 0, result.describe()
    assert "not a valid ssh:// podman URL" in result.stderr, result.describe()
