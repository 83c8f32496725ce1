"""Ctrl-C, SIGTERM and SIGHUP during a run stop and remove the container and close the receiver.

The real CLI runs as a subprocess in its own session, against the session's
podman service, with a trainer that sleeps; the signal arrives while the
container runs. Afterwards: exit status 128 + signal, no traceback, no
container left, the receiver's port closed and the private TMPDIR empty.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.run.conftest import REPO_ROOT, variant, write_project
from tests.support.services import PodmanServiceHandle

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("default_stop_signals")]


def _running(podman: PodmanServiceHandle) -> list[str]:
    listed = podman.podman("ps", "-a", "--format", "{{.Names}}")
    return [n for n in listed.stdout.decode().split() if n.startswith("keynet-run-")]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_while_the_container_runs_cleans_up(
    tmp_path: Path, python_image: str, podman_service: PodmanServiceHandle, signum: int
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    write_project(
        project, python_image, variant(("time.sleep(0.2)  # the", "time.sleep(120)  # the"))
    )
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    (tmp_path / "home").mkdir()
    env = {
        "HOME": str(tmp_path / "home"),
        "PATH": os.environ.get("PATH", ""),
        "TMPDIR": str(tmpdir),
        "CONTAINER_HOST": podman_service.url,
        "PYTHONPATH": str(REPO_ROOT),
        "KEYNET_CONFIG": str(tmp_path / "keynet.json"),
        **{k: v for k, v in os.environ.items() if k.startswith("CONTAINERS_")},
    }
    log = (tmp_path / "cli.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "keynet_train", "run", "train.py", "--no-color"],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while (
            not _running(podman_service) or "callback 1" not in (tmp_path / "cli.log").read_text()
        ):
            assert process.poll() is None, (tmp_path / "cli.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the container never started"
            time.sleep(0.3)
        report = next((project / ".keynet" / "runs").iterdir()) / "podman-run.txt"
        port = int(
            report.read_text().split("BACKEND_BASE_URL=http://", 1)[1].split()[0].split(":")[1]
        )
        os.killpg(process.pid, signum)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
    output = (tmp_path / "cli.log").read_text()
    assert code == 128 + signum, output[-3000:]
    assert "Traceback" not in output
    assert _running(podman_service) == []
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    assert list(tmpdir.iterdir()) == []
