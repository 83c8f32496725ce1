"""Running the planned container: the receiver, the live log, the deadline, the run folder.

Nothing is left behind: the container is killed and removed and the
receiver closed on every way out, a stop signal included (the removal runs
shielded, so a second Ctrl-C cannot cut it in half).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shlex
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING

from keynet_train.build.context import RUNS_FOLDER
from keynet_train.errors import InputError, KeynetError
from keynet_train.files import write_atomically
from keynet_train.interrupts import shielded
from keynet_train.notices import NO_GPU, SHARED_NETWORK, Notice
from keynet_train.progress import Background, Reporter
from keynet_train.push.labels import LABEL_PREFIX
from keynet_train.run.callbacks import Callback, JobState
from keynet_train.run.environment import new_job
from keynet_train.run.limits import Limits
from keynet_train.run.plan import (
    RunPlan,
    choose_network,
    container_environment,
    make_plan,
    rlimits_note,
    shared_network_note,
)
from keynet_train.run.receiver import Receiver
from keynet_train.run.verdict import Outcome, RunResult, evaluate

if TYPE_CHECKING:
    from collections.abc import Callable

    from keynet_train.podman.client import PodmanClient
    from keynet_train.podman.containers import ContainerSpec, HostFacts
    from keynet_train.run.pipeline import RunOptions, RunServices
    from keynet_train.run.target import Target

RUNS_DIR = Path(RUNS_FOLDER)
#: How long the log stream may lag behind the container's exit before it is cut.
LOG_DRAIN_SECONDS = 5.0
_POLL = 0.1


def new_run_id(now: datetime | None = None) -> str:
    """``20261207-164500-a1b2c3``: sortable, unique enough for one project's runs."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{secrets.token_hex(3)}"


class _RunFolder:
    """``report.json``, ``callbacks.jsonl``, ``container.log`` and ``podman-run.txt``."""

    def __init__(self, folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self.log: IO[str] = (folder / "container.log").open("w", encoding="utf-8")
        except OSError as e:
            raise InputError(
                f"Cannot create the run folder {folder}: {e.strerror or e}",
                "Pass a writable --output-dir.",
            ) from e
        self.folder = folder
        self._lock = threading.Lock()

    def line(self, text: str) -> None:
        with self._lock:
            self.log.write(text + "\n")
            self.log.flush()

    def write(self, name: str, text: str) -> None:
        # Readable by the user's tools as container.log is (umask 022's mode).
        write_atomically(self.folder / name, text.encode("utf-8"), mode=0o644)

    def write_report(self, result: RunResult) -> None:
        """``callbacks.jsonl``, then ``report.json`` (docs/run.md)."""
        self.write(
            "callbacks.jsonl", "".join(json.dumps(c.to_json()) + "\n" for c in result.callbacks)
        )
        self.write("report.json", json.dumps(result.to_json(), indent=2) + "\n")

    def close(self) -> None:
        with self._lock:
            self.log.close()


def run_container(
    options: RunOptions,
    target: Target,
    values: dict[str, object],
    limits: Limits,
    extra_env: dict[str, str],
    engine: PodmanClient,
    facts: HostFacts,
    services: RunServices,
    reporter: Reporter,
) -> RunResult:
    """Start the receiver and the planned container, follow it to its end, judge the record.

    Raises:
        InputError: the run folder cannot be created or the receiver cannot listen.
        BuildError / PodmanUnavailableError: podman is remote or failed.
        Stopped: a stop signal (the container is removed first).
    """
    network, bind, host, allowed = choose_network(engine, facts)
    job = new_job(int(time.time()))
    state = JobState(job.job_id, job.trace_id, job.secret, cancel_after=options.cancel_after)
    run_id = new_run_id()
    output = _RunFolder(options.output_dir or (target.context / RUNS_DIR / run_id))
    sink = _callback_sink(output, services)
    receiver = Receiver(state, bind_host=bind, allowed_networks=allowed, on_callback=sink)
    container = _Container(engine, f"keynet-run-{run_id}")
    try:
        _start_receiver(receiver, bind)
        base_url = f"http://{host}:{receiver.port}"
        env = container_environment(job, base_url, target, values, extra_env)
        plan = make_plan(options, target, values, env, limits, network)
        output.write("podman-run.txt", plan.podman_line() + "\n")
        _announce(plan, reporter)
        spec = _container_spec(plan, env, run_id, container.name)
        reporter.step_started("Run container")
        start_seconds = container.start(spec, receiver)
        exit_code, exceeded, runtime = _supervise(container, receiver, limits, output, services)
        ended = f"exit code {exit_code}" if exit_code is not None else "killed"
        reporter.step_finished("Run container", ended)
    finally:
        with shielded():
            container.remove()
            receiver.close()
            output.close()
    outcome = Outcome(
        exit_code=exit_code,
        deadline=limits.deadline,
        deadline_exceeded=exceeded,
        runtime=runtime,
        cancel_after=options.cancel_after,
        cancelled_at=state.cancelled_at,
        grace=limits.grace,
    )
    checks = evaluate(receiver.callbacks, outcome)
    callbacks = list(receiver.callbacks)
    result = RunResult(
        run_id, output.folder, plan, exit_code, checks, callbacks, runtime, start_seconds
    )
    output.write_report(result)
    return result


def _callback_sink(output: _RunFolder, services: RunServices) -> Callable[[Callback], None]:
    """Each callback as a line of ``container.log``, then to the CLI's live sink."""

    def on_callback(callback: Callback) -> None:
        output.line(
            f"[keynet-train] callback {callback.number}: {callback.endpoint} {callback.status}"
        )
        if services.on_callback is not None:
            services.on_callback(callback)

    return on_callback


def _start_receiver(receiver: Receiver, bind: str) -> None:
    """Raises InputError: the receiver cannot listen on ``bind``."""
    try:
        receiver.start()
    except OSError as e:
        raise InputError(
            f"Cannot start the callback receiver on {bind}: {e.strerror or e}",
            "Another program may hold the address; run again.",
        ) from e


def _announce(plan: RunPlan, reporter: Reporter) -> None:
    """What differs from the platform (no GPU, a shared network), the limits and the command."""
    limits = plan.limits
    if limits.gpus.note:
        reporter.notice(Notice(NO_GPU, limits.gpus.note))
    if plan.network == "host":
        reporter.notice(Notice(SHARED_NETWORK, shared_network_note()))
    reporter.info(rlimits_note(limits))
    reporter.info(f"Command: {shlex.join(plan.command)}")


def _container_spec(plan: RunPlan, env: dict[str, str], run_id: str, name: str) -> ContainerSpec:
    """The container of ``plan``, with the job's real environment (the plan's is masked)."""
    from keynet_train.podman.containers import ContainerSpec

    # A run's plan: an image (built or --image) and a network, unlike the dry run's.
    assert plan.image is not None and plan.network is not None
    limits = plan.limits
    return ContainerSpec(
        image=plan.image,
        command=tuple(plan.command),
        env=env,
        memory=limits.memory,
        cpus=limits.cpus,
        shm_size=limits.shm_size,
        rlimits=dict(limits.rlimits),
        network=plan.network,
        devices=limits.gpus.devices,
        labels={f"{LABEL_PREFIX}.run-id": run_id},
        name=name,
    )


def _supervise(
    container: _Container,
    receiver: Receiver,
    limits: Limits,
    output: _RunFolder,
    services: RunServices,
) -> tuple[int | None, bool, float]:
    """Stream the log and wait for the exit, enforcing the deadline and the cancellation grace.

    Returns (exit code, deadline exceeded, runtime in seconds). At the deadline
    the container gets SIGTERM, then SIGKILL after the grace period, as the
    Job's ``activeDeadlineSeconds`` does. A job told ``should_continue:
    false`` that is still running after the grace period is stopped the same way.
    """
    engine, container_id, state = container.engine, container.id, receiver.state
    assert container_id is not None  # started

    def follow() -> bool:
        for stream, line in engine.container_logs(container_id):
            output.line(line)
            if services.on_container_line is not None:
                services.on_container_line(stream, line)
        return True

    logs = Background(follow)
    exceeded = False
    terminated_at: float | None = None
    exit_code = engine.container_exit_code(container_id)
    while exit_code is None:
        time.sleep(_POLL)
        elapsed = receiver.elapsed()
        overdue = elapsed >= limits.deadline
        cancelled = state.cancelled_at is not None and elapsed >= state.cancelled_at + limits.grace
        if terminated_at is None and (overdue or cancelled):
            exceeded = overdue
            terminated_at = elapsed
            engine.signal_container(container_id, "SIGTERM")
        elif terminated_at is not None and elapsed >= terminated_at + limits.grace:
            engine.signal_container(container_id, "SIGKILL")
            terminated_at = float("inf")
        exit_code = engine.container_exit_code(container_id)
    runtime = receiver.elapsed()
    logs.wait(LOG_DRAIN_SECONDS)
    return exit_code, exceeded, runtime


class _Container:
    """The run's container, known by name until podman answers the create."""

    def __init__(self, engine: PodmanClient, name: str) -> None:
        self.engine = engine
        self.name = name
        self.id: str | None = None
        self._created = False

    def start(self, spec: ContainerSpec, receiver: Receiver) -> float:
        """Create and start it (the receiver's clock starts in between); return the seconds."""
        ready = time.monotonic()
        self._created = True  # from here on, a container of that name may exist
        self.id = self.engine.create_container(spec)
        receiver.mark_started()
        self.engine.start_container(self.id)
        return time.monotonic() - ready

    def remove(self) -> None:
        """Kill and remove it; a failure here must not hide the run's own error."""
        if not self._created:
            return
        # By name when a stop signal came before podman answered the create.
        container = self.id or self.name
        # Gone already, or the service is: the removal is still tried, and a
        # service that is gone reports itself at the next podman call.
        with contextlib.suppress(KeynetError):
            self.engine.signal_container(container, "SIGKILL")
        with contextlib.suppress(KeynetError):
            self.engine.remove_container(container)
