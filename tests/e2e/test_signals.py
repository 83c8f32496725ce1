"""SIGINT, SIGTERM and SIGHUP at every step of a push clean up like Ctrl-C.

The real CLI runs on a pseudo-terminal in its own process group, starts its
own private podman service (nothing answers on the default socket here), and
gets the signal the way a CI runner cancels a job: ``killpg``. Each step is
held open at a slow point the test controls:

* project picker: the prompt waits for the keyboard;
* upload-key request: the fake backend answers "slow";
* build: a RUN step sleeps (found by its unique argument in /proc);
* label: the private service is paused (SIGSTOP) once the upload key went out,
  so the label build hangs; it is resumed right after the signal;
* push: the fault proxy holds every blob upload.

Afterwards: exit status 128 + signal, no traceback, the private service and
every process under it gone, its temp dir gone (TMPDIR is private to the
test and must end up empty), and no buildah working container left in storage.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.conftest import SIMPLE_DOCKERFILE, Cli, make_context
from tests.e2e.test_terminal import Terminal
from tests.support.fake_backend import sample_projects
from tests.support.fault_proxy import FaultProxy

# default_stop_signals: runs correctly under nohup too (see the fixture).
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("default_stop_signals")]

UPLOAD_PREFIX = "/v1/projects/"
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def _processes() -> Iterator[tuple[int, list[str]]]:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        yield int(entry.name), [a.decode(errors="replace") for a in argv if a]


def _service_pids(tmpdir: Path) -> set[int]:
    """Private podman services whose socket lives under ``tmpdir``."""
    return {
        pid
        for pid, argv in _processes()
        if "service" in argv and any(a.startswith(f"unix://{tmpdir}/") for a in argv)
    }


def _parent_pid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _serving_pid(pids: set[int]) -> int:
    """The process that serves, when rootless podman shows two with the same argv.

    Without a pause process yet, rootless podman re-executes itself inside a new
    user namespace and the outer process waits for the inner one: both list
    the service's socket. The inner one (no child among them) does the work.
    """
    parents = {_parent_pid(pid) for pid in pids}
    leaves = sorted(pid for pid in pids if pid not in parents)
    return leaves[-1] if leaves else max(pids)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_for(condition: Callable[[], object], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _working_containers(since: float) -> list[str]:
    listed = subprocess.run(
        ["podman", "ps", "--all", "--external", "--format", "json"],
        capture_output=True,
        check=True,
    )
    return [
        str(c["Id"])
        for c in json.loads(listed.stdout or b"[]")
        if c.get("Command") == ["buildah"] and float(c.get("Created") or 0) >= int(since)
    ]


@dataclass
class Run:
    """One push in a terminal, and what the test needs to hold its step open."""

    cli: Cli
    tmp_path: Path
    proxy: FaultProxy
    dockerfile: str = SIMPLE_DOCKERFILE
    project_flag: bool = True
    tmpdir: Path = field(init=False)
    term: Terminal | None = None
    service: int | None = None
    paused: bool = False

    def __post_init__(self) -> None:
        self.tmpdir = self.tmp_path / "tmp"
        self.tmpdir.mkdir()

    def start(self) -> Terminal:
        context = make_context(self.tmp_path / "ctx", self.dockerfile)
        env = {
            **os.environ,
            **self.cli.environ,
            "NO_COLOR": "1",
            "TMPDIR": str(self.tmpdir),
            "KEYNET_PODMAN_RUNTIME": "runc",
        }
        env.pop("CONTAINER_HOST")  # nothing answers: the CLI starts its own service
        args = [sys.executable, "-m", "keynet_train", "push", "train.py"]
        if self.project_flag:
            args += ["--project", "1"]
        self.term = Terminal(args, env, context)
        _wait_for(lambda: _service_pids(self.tmpdir), "the private podman service")
        self.service = _serving_pid(_service_pids(self.tmpdir))
        return self.term

    def resume(self) -> None:
        if self.paused and self.service is not None:
            self.paused = False
            os.kill(self.service, signal.SIGCONT)

    def kill_leftovers(self) -> None:
        """After a failed test: nothing of this run may outlive it (all by PID)."""
        self.resume()
        if self.term is not None and self.term.process.poll() is None:
            os.killpg(self.term.process.pid, signal.SIGKILL)
            self.term.process.wait()
        for pid in _service_pids(self.tmpdir):
            os.kill(pid, signal.SIGKILL)


def _hold_picker(run: Run) -> Callable[[], None]:
    run.cli.backend.projects = sample_projects(3)
    run.project_flag = False
    term = run.start()
    term.expect("Page 1/1")
    return lambda: None


def _hold_upload_key(run: Run) -> Callable[[], None]:
    run.cli.backend.fail(UPLOAD_PREFIX, "slow", method="POST", delay=300)
    run.start()
    _wait_for(lambda: run.cli.backend.requests_to(UPLOAD_PREFIX, "POST"), "the upload-key request")
    return lambda: None


def _hold_build(run: Run) -> Callable[[], None]:
    # A unique argument: no cached layer can skip the step, and /proc shows it.
    seconds = str(100_000 + uuid.uuid4().int % 100_000)
    run.dockerfile = SIMPLE_DOCKERFILE + f"RUN sleep {seconds}\n"
    run.start()
    _wait_for(
        lambda: any(" ".join(argv).endswith(f"sleep {seconds}") for _, argv in _processes()),
        "the RUN step",
    )
    return lambda: None


def _hold_label(run: Run) -> Callable[[], None]:
    # The backend answers the key after a moment; by then the service is paused,
    # so the label build (the next call to podman) cannot finish.
    run.cli.backend.fail(UPLOAD_PREFIX, "slow", method="POST", delay=1.0)
    term = run.start()
    _wait_for(lambda: run.cli.backend.requests_to(UPLOAD_PREFIX, "POST"), "the upload-key request")
    # Chosen again now: at start-up rootless podman may have shown only its outer
    # process, which then waits while the re-executed inner one serves.
    run.service = _serving_pid(_service_pids(run.tmpdir))
    os.kill(run.service, signal.SIGSTOP)
    run.paused = True
    # The key arrived: the next thing the CLI does is label the image.
    term.expect("ok Request upload key: ")
    return run.resume


def _hold_push(run: Run) -> Callable[[], None]:
    arrived, release = threading.Event(), threading.Event()

    def hold(method: str, path: str) -> None:
        # Called as each request reaches the proxy; a blob upload waits here.
        if method in ("PATCH", "PUT") and "/blobs/uploads/" in path:
            arrived.set()
            release.wait(300)

    run.proxy.answer_with(hold)  # type: ignore[arg-type]
    run.cli.set_harbor(url=run.proxy.url)
    run.dockerfile = SIMPLE_DOCKERFILE + "COPY unique /unique\n"
    (run.tmp_path / "ctx").mkdir()
    (run.tmp_path / "ctx" / "unique").write_text(uuid.uuid4().hex)  # a new blob to upload
    run.start()
    _wait_for(arrived.is_set, "a blob upload")
    return release.set


STEPS: dict[str, Callable[[Run], Callable[[], None]]] = {
    "project picker": _hold_picker,
    "upload-key request": _hold_upload_key,
    "build": _hold_build,
    "label": _hold_label,
    "push": _hold_push,
}


def _assert_clean(run: Run, since: float) -> None:
    assert run.service is not None
    _wait_for(lambda: not _alive(run.service or 0), "the private service to exit", timeout=5)
    assert _service_pids(run.tmpdir) == set()
    assert list(run.tmpdir.iterdir()) == []  # the service's socket, log and scratch dirs
    assert _working_containers(since) == []


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("step", list(STEPS))
def test_a_stop_signal_at_any_step_cleans_up(
    cli: Cli, tmp_path: Path, fault_proxy: FaultProxy, step: str, sig: int
) -> None:
    cli.login()
    run = Run(cli, tmp_path, fault_proxy)
    since = time.time()
    try:
        release = STEPS[step](run)
        assert run.term is not None
        os.killpg(run.term.process.pid, sig)
        release()
        code = run.term.wait(timeout=90)
        assert code == 128 + sig, run.term.screen
        assert "Traceback" not in run.term.screen
        if sig != signal.SIGINT:
            assert f"Stopped by {signal.Signals(sig).name}" in run.term.screen
        _assert_clean(run, since)
    finally:
        run.kill_leftovers()


def test_more_signals_during_cleanup_do_not_cut_it_short(
    cli: Cli, tmp_path: Path, fault_proxy: FaultProxy
) -> None:
    """A runner that signals the group again (and again) while we clean up."""
    cli.login()
    run = Run(cli, tmp_path, fault_proxy)
    since = time.time()
    try:
        _hold_build(run)
        assert run.term is not None and run.service is not None
        group = run.term.process.pid
        os.killpg(group, signal.SIGTERM)
        os.killpg(group, signal.SIGTERM)  # at once: while the first is being handled
        # And once the service is gone: the containers and the temp dir are
        # still being removed then.
        _wait_for(lambda: not _alive(run.service or 0), "the private service to exit")
        if run.term.process.poll() is None:
            os.killpg(group, signal.SIGINT)
        code = run.term.wait(timeout=90)
        assert code == 128 + signal.SIGTERM, run.term.screen
        assert "Traceback" not in run.term.screen
        _assert_clean(run, since)
    finally:
        run.kill_leftovers()
