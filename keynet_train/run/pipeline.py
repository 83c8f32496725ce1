"""``keynet-train run``: build as push does, run the container as the platform would, judge it.

Order: the flags (limits, ``--env``, ``--gpus``) are checked first; then the
script is extracted and ``--set`` is checked against its descriptor (or the
``--image``'s label is read); only then is anything built or started. The
image gets the same check as in ``push``. The container runs with the
platform's command, environment and limits, its log and every callback are
reported live, and the verdict is computed from what the receiver recorded
(docs/run.md).

Nothing is left behind: the container is killed and removed and the
receiver closed on every way out, a stop signal included (the removal runs
shielded, so a second Ctrl-C cannot cut it in half).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shlex
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING

from keynet_train.build.context import RUNS_FOLDER
from keynet_train.errors import BuildError, InputError, KeynetError, UsageError
from keynet_train.interrupts import shielded
from keynet_train.notices import (
    IMAGE_CHECK_SKIPPED,
    IMAGE_ENTRYPOINT,
    NO_GPU,
    SHARED_NETWORK,
    Notice,
)
from keynet_train.progress import Background, NullReporter, Reporter
from keynet_train.push.labels import LABEL_PREFIX
from keynet_train.push.settings import BuildOptions, PushOptions
from keynet_train.run.callbacks import Callback, JobState
from keynet_train.run.environment import (
    JobIdentity,
    job_environment,
    masked_environment,
    new_job,
    parse_env,
)
from keynet_train.run.limits import (
    GRACE_SECONDS,
    Limits,
    choose_gpus,
    find_gpus,
    host_rlimits,
    parse_cpus,
    parse_duration,
    parse_size,
)
from keynet_train.run.receiver import Receiver
from keynet_train.run.verdict import Check, Outcome, evaluate, passed

if TYPE_CHECKING:
    from keynet_train.build.cache import BuildCache
    from keynet_train.extraction import ExtractionResult
    from keynet_train.podman.client import PodmanClient
    from keynet_train.podman.containers import HostFacts
    from keynet_train.push.pipeline import PreparedPush

RUN_REPOSITORY = "localhost/keynet-run"
RUNS_DIR = Path(RUNS_FOLDER)
#: The container's address for the host's loopback under slirp4netns (allow_host_loopback).
SLIRP_HOST = "10.0.2.2"
TUN_DEVICE = "/dev/net/tun"
#: How long the log stream may lag behind the container's exit before it is cut.
LOG_DRAIN_SECONDS = 5.0
_POLL = 0.1


@dataclass(kw_only=True)
class RunOptions(BuildOptions):
    """What the user asked ``run`` for (None = not given); the build's as for push."""

    entrypoint: Path | None = None
    image: str | None = None
    sets: list[str] = field(default_factory=list)
    command_line: str | None = None
    env: list[str] = field(default_factory=list)
    env_files: list[Path] = field(default_factory=list)
    gpus: str = "auto"
    memory: str | None = None
    cpus: str | None = None
    shm_size: str | None = None
    deadline: str | None = None
    cancel_after: int | None = None
    output_dir: Path | None = None
    dry_run: bool = False
    grace: float = GRACE_SECONDS


EngineOpener = Callable[[str | None], AbstractContextManager["PodmanClient"]]


@dataclass
class RunServices:
    """The collaborators of :func:`run_job`: the podman service and the live sinks."""

    open_engine: EngineOpener
    build_cache: BuildCache | None = None
    on_callback: Callable[[Callback], None] | None = None
    on_container_line: Callable[[str, str], None] | None = None
    find_gpus: Callable[[], list[str]] = find_gpus


@dataclass
class RunPlan:
    """What will run: the image, command, environment (masked) and limits."""

    image: str | None
    command: list[str]
    command_source: str
    environment: dict[str, str]
    limits: Limits
    network: str | None
    model_name: str
    values: dict[str, object]
    notes: list[str] = field(default_factory=list)

    def podman_line(self) -> str:
        """The equivalent ``podman run`` command line (token masked)."""
        words = ["podman", "run", "--rm"]
        if self.network == "slirp4netns":
            words += ["--network", "slirp4netns:allow_host_loopback=true"]
        elif self.network:
            words += ["--network", self.network]
        limits = self.limits
        words += ["--memory", str(limits.memory), "--cpus", f"{limits.cpus:g}"]
        words += ["--shm-size", str(limits.shm_size)]
        for limit, amount in limits.rlimits.items():
            words += ["--ulimit", f"{limit}={amount}:{amount}"]
        for device in limits.gpus.devices:
            words += ["--device", device]
        for name, value in self.environment.items():
            words += ["--env", f"{name}={value}"]
        words.append(self.image or "<image>")
        return shlex.join(words + self.command)

    def to_json(self) -> dict[str, object]:
        """The plan in ``report.json``, ``--json`` and ``--dry-run --json``."""
        return {
            "image": self.image,
            "command": self.command,
            "command_text": shlex.join(self.command),
            "command_source": self.command_source,
            "environment": self.environment,
            "limits": self.limits.to_json(),
            "network": self.network,
            "model_name": self.model_name,
            "values": self.values,
            "podman_run": self.podman_line(),
            "notes": self.notes,
        }


@dataclass
class RunResult:
    """A finished rehearsal."""

    run_id: str
    folder: Path
    plan: RunPlan
    exit_code: int | None
    checks: list[Check]
    callbacks: list[Callback]
    runtime: float
    start_seconds: float
    """From the image being ready to the container running (create + start)."""

    @property
    def passed(self) -> bool:
        """True when no check failed."""
        return passed(self.checks)

    def to_json(self) -> dict[str, object]:
        """``report.json`` and the ``--json`` object."""
        return {
            "run_id": self.run_id,
            "folder": str(self.folder),
            "passed": self.passed,
            "exit_code": self.exit_code,
            "runtime_seconds": round(self.runtime, 3),
            "start_seconds": round(self.start_seconds, 3),
            "checks": [c.to_json() for c in self.checks],
            "callbacks": [c.to_json() for c in self.callbacks],
            **self.plan.to_json(),
        }


@dataclass
class _Target:
    """The image to run and what is known about its script."""

    image: str | None
    extraction: ExtractionResult | None
    model_name: str
    context: Path


def run_job(
    options: RunOptions,
    *,
    environ: Mapping[str, str],
    cwd: Path,
    services: RunServices,
    reporter: Reporter,
) -> RunPlan | RunResult:
    """Rehearse the job; return the plan (``--dry-run``) or the verdict.

    Raises:
        UsageError: a bad flag, ``--set`` value or ``--env`` item (nothing was started).
        EntrypointError / ExtractionError / ConfigError / InputError: as in push.
        BuildError / ImageCheckError / PodmanUnavailableError: the build, the
            image check or podman failed.
        Stopped: a stop signal (the container is removed first).
    """
    limits = _limits(options, services)
    extra_env = parse_env(options.env, options.env_files, environ)
    if options.cancel_after is not None and options.cancel_after < 1:
        raise UsageError("--cancel-after must be 1 or more.", "Example: --cancel-after 2")
    if options.image is None and options.entrypoint is None:
        raise UsageError(
            "run needs ENTRYPOINT or --image REF.", "Example: keynet-train run train.py"
        )
    if options.dry_run:
        if options.image is None:
            prepared = _prepare(options, environ, cwd, reporter)
            target = _Target(
                None,
                prepared.extraction,
                options.model_name or prepared.entry_in_context,
                prepared.settings.context,
            )
        else:
            # Reading the image's labels starts nothing; the image check needs no run either
            # but is push's and run's, not the plan's.
            with services.open_engine(options.podman_url) as engine:
                target = _image_target(options, engine, cwd, NullReporter(), check=False)
        values = _values(options, target)
        job = new_job(int(time.time()))
        return _plan(
            options, target, values, job, "http://<receiver>:<port>", limits, None, extra_env
        )
    with services.open_engine(options.podman_url) as engine:
        target = _target(options, environ, cwd, engine, services, reporter)
        values = _values(options, target)
        facts = engine.host_facts()
        return _run(options, target, values, limits, extra_env, engine, facts, services, reporter)


def _limits(options: RunOptions, services: RunServices) -> Limits:
    gpus = choose_gpus(options.gpus, services.find_gpus())
    defaults = Limits()
    return Limits(
        memory=parse_size(options.memory, "--memory") if options.memory else defaults.memory,
        cpus=parse_cpus(options.cpus) if options.cpus else defaults.cpus,
        shm_size=parse_size(options.shm_size, "--shm-size")
        if options.shm_size
        else defaults.shm_size,
        deadline=parse_duration(options.deadline) if options.deadline else defaults.deadline,
        grace=options.grace,
        gpus=gpus,
        rlimits=host_rlimits(),
    )


def _prepare(
    options: RunOptions, environ: Mapping[str, str], cwd: Path, reporter: Reporter
) -> PreparedPush:
    from keynet_train.push.pipeline import prepare_local

    assert options.entrypoint is not None
    push_options = PushOptions(
        entrypoint=options.entrypoint, dry_run=True, **options.build_options()
    )
    return prepare_local(push_options, environ, cwd, reporter)


def _target(
    options: RunOptions,
    environ: Mapping[str, str],
    cwd: Path,
    engine: PodmanClient,
    services: RunServices,
    reporter: Reporter,
) -> _Target:
    """Build the entrypoint's image as push does (or read ``--image``) and check it."""
    if options.image is not None:
        return _image_target(options, engine, cwd, reporter)
    from keynet_train.push.pipeline import build_local_image, check_built_image, local_tag

    prepared = _prepare(options, environ, cwd, reporter)
    # --set is checked before anything is built (nothing has started yet).
    _values(options, _Target(None, prepared.extraction, "", cwd))
    image = f"{RUN_REPOSITORY}:{local_tag(prepared.settings.entrypoint)}"
    reporter.step_started("Build image")
    image_id = build_local_image(
        engine,
        prepared,
        image,
        build_cache=services.build_cache,
        no_cache=options.no_cache,
        reporter=reporter,
    )
    reporter.step_finished("Build image", f"{image} ({image_id[:12]})")
    if services.build_cache is not None:
        services.build_cache.wait()
    # push's own image check, on the image push would register.
    model_name = check_built_image(engine, image, prepared, reporter).model_name
    return _Target(image, prepared.extraction, model_name, prepared.settings.context)


def _image_target(
    options: RunOptions, engine: PodmanClient, cwd: Path, reporter: Reporter, *, check: bool = True
) -> _Target:
    """``--image REF``: the descriptor and the entrypoint come from its labels."""
    from keynet_train.extraction import Argument, ExtractionResult

    assert options.image is not None
    reporter.step_started("Read image")
    labels = engine.image_labels(options.image)
    raw = labels.get(f"{LABEL_PREFIX}.hyperparameters")
    extraction: ExtractionResult | None = None
    if raw is not None:
        try:
            docs = json.loads(raw)
            arguments = [Argument.from_json(doc) for doc in docs]
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(
                f"The image {options.image} has an unreadable "
                f"{LABEL_PREFIX}.hyperparameters label.",
                "Rebuild it with keynet-train push, or run from the script: "
                "keynet-train run train.py",
            ) from e
        extraction = ExtractionResult(
            None, arguments, command=labels.get(f"{LABEL_PREFIX}.command")
        )
    elif options.command_line is None:
        raise InputError(
            f"The image {options.image} has no {LABEL_PREFIX}.hyperparameters label, so the "
            "platform's command cannot be predicted.",
            "Use an image built by keynet-train push or run, or give the command: "
            '--command-line "python train.py ..."',
        )
    reporter.step_finished(
        "Read image", f"{len(extraction.arguments) if extraction else 0} hyperparameters"
    )
    entry = labels.get(f"{LABEL_PREFIX}.entrypoint")
    if not check:
        return _Target(options.image, extraction, options.model_name or entry or "train.py", cwd)
    local = options.entrypoint or (Path(entry) if entry else None)
    model_name = _check_image(
        engine,
        options.image,
        entrypoint=(cwd / local) if local is not None and (cwd / local).is_file() else None,
        context=cwd,
        model_name=options.model_name or entry,
        platform=options.platform,
        reporter=reporter,
    )
    return _Target(options.image, extraction, model_name, cwd)


def _check_image(
    engine: PodmanClient,
    image: str,
    *,
    entrypoint: Path | None,
    context: Path,
    model_name: str | None,
    platform: str | None,
    reporter: Reporter,
    dockerfile: Path | None = None,
) -> str:
    """The image check of push (the entrypoint where the platform runs it, python, platform).

    Returns the model name (the entrypoint's path relative to WORKDIR). With
    ``--image`` and no local copy of its entrypoint there is nothing to
    compare the image's file with: the check is skipped, and said so.

    Raises:
        ImageCheckError: the platform could not run this image.
        BuildError / PodmanUnavailableError: podman failed to answer.
    """
    from keynet_train.build.image_names import DEFAULT_PLATFORM
    from keynet_train.push.image_check import check_image

    if entrypoint is None:
        reporter.notice(
            Notice(
                IMAGE_CHECK_SKIPPED,
                f"No local copy of the entrypoint of {image}: the image check (entrypoint, "
                "python on PATH, platform) was skipped. Run from the project folder to have it.",
            )
        )
        return model_name or "train.py"
    reporter.step_started("Check image")
    facts = check_image(
        engine,
        image,
        entrypoint=entrypoint,
        context=context,
        model_name=model_name,
        platform=platform or DEFAULT_PLATFORM,
        dockerfile=dockerfile,
    )
    for warning in facts.warnings:
        reporter.notice(Notice(IMAGE_ENTRYPOINT, warning, None, None))
    reporter.step_finished(
        "Check image", f"{facts.model_name} in {facts.workdir or '/'}, python at {facts.python}"
    )
    return facts.model_name


def _values(options: RunOptions, target: _Target) -> dict[str, object]:
    """The ``--set`` values, checked against the descriptor (before anything starts)."""
    from keynet_train.run.values import parse_set_values

    if not options.sets:
        return {}
    if target.extraction is None:
        raise UsageError(
            "--set needs the script's hyperparameters, and this image carries none.",
            "Give the whole command with --command-line instead.",
        )
    return parse_set_values(options.sets, target.extraction)


def _command(
    options: RunOptions, target: _Target, values: dict[str, object]
) -> tuple[list[str], str]:
    """The argv to run and where it came from."""
    if options.command_line is not None:
        try:
            argv = shlex.split(options.command_line)
        except ValueError as e:
            raise UsageError(
                f"--command-line: {e}.", 'Quote it as a shell would: "python train.py --lr 0.1"'
            ) from None
        if not argv:
            raise UsageError(
                "--command-line is empty.", 'Example: --command-line "python train.py"'
            )
        return argv, "--command-line"
    from keynet_train.extraction.platform import predict_platform_command

    if target.extraction is None:
        raise InputError(
            "The platform's command cannot be predicted without the script's hyperparameters.",
            'Give the command with --command-line "python train.py ...".',
        )
    return predict_platform_command(target.extraction, target.model_name, values).argv, "platform"


def _chosen_values(target: _Target, values: dict[str, object]) -> dict[str, object]:
    """Every hyperparameter's value for this run: the defaults, then ``--set``."""
    chosen: dict[str, object] = {}
    if target.extraction is not None:
        chosen = {a.name: a.default for a in target.extraction.arguments}
    chosen.update(values)
    return chosen


def _plan(
    options: RunOptions,
    target: _Target,
    values: dict[str, object],
    job: JobIdentity,
    base_url: str,
    limits: Limits,
    network: str | None,
    extra_env: dict[str, str],
) -> RunPlan:
    argv, source = _command(options, target, values)
    env = job_environment(
        job, base_url, target.model_name, _chosen_values(target, values), extra_env
    )
    notes = [limits.gpus.note] if limits.gpus.note else []
    if network == "host":
        notes.append(_shared_network_note())
    notes.append(_rlimits_note(limits))
    return RunPlan(
        image=target.image,
        command=argv,
        command_source=source,
        environment=masked_environment(env),
        limits=limits,
        network=network,
        model_name=target.model_name,
        values=values,
        notes=notes,
    )


def _shared_network_note() -> str:
    return (
        f"{TUN_DEVICE} is not usable by this user, so slirp4netns cannot give the container "
        "its own network: it shares this user's network (a pod on the platform has its own)."
    )


def _rlimits_note(limits: Limits) -> str:
    return (
        f"Limits nofile={limits.rlimits.get('nofile')}, nproc={limits.rlimits.get('nproc')} "
        "are set explicitly (podman's defaults fail to start containers on some hosts)."
    )


def _network(engine: PodmanClient, facts: HostFacts) -> tuple[str, str, str, list[str]]:
    """(podman network mode, receiver bind address, host as the container sees it, allowed nets).

    Raises:
        BuildError: the podman service is not on this machine (the container
            could not reach a receiver here).
    """
    if not engine.url.startswith("unix://"):
        raise BuildError(
            f"run needs a podman service on this machine; {engine.url} is remote, and a container "
            "there cannot reach the callback receiver here.",
            "Use the local podman (unset CONTAINER_HOST or pass --podman-url unix:///...).",
        )
    if not facts.rootless and facts.bridge_gateway and facts.bridge_subnet:
        # The platform's pod has its own network; a rootful bridge is the closest.
        # Its gateway does not exist before a container is on it, so the receiver
        # listens on every address and serves only loopback and the bridge.
        everywhere = "0.0.0.0"  # noqa: S104 - peers outside loopback and the bridge are dropped
        return "bridge", everywhere, facts.bridge_gateway, [facts.bridge_subnet]
    if not os.access(TUN_DEVICE, os.R_OK | os.W_OK):
        # slirp4netns needs the tun device; where this user may not open it
        # (some sandboxes make it root-only) the container shares this user's
        # network namespace instead, and reaches the receiver on loopback.
        return "host", "127.0.0.1", "127.0.0.1", []
    # Rootless (slirp4netns; pasta's loopback mapping differs and is not asked for):
    # the host's 127.0.0.1 is 10.0.2.2 inside, so the receiver stays on loopback.
    return "slirp4netns", "127.0.0.1", SLIRP_HOST, []


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
        path = self.folder / name
        temporary = path.with_name(f".{name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)

    def close(self) -> None:
        with self._lock:
            self.log.close()


def _run(
    options: RunOptions,
    target: _Target,
    values: dict[str, object],
    limits: Limits,
    extra_env: dict[str, str],
    engine: PodmanClient,
    facts: HostFacts,
    services: RunServices,
    reporter: Reporter,
) -> RunResult:
    from keynet_train.podman.containers import ContainerSpec

    assert target.image is not None
    network, bind, host, allowed = _network(engine, facts)
    job = new_job(int(time.time()))
    state = JobState(job.job_id, job.trace_id, job.secret, cancel_after=options.cancel_after)
    run_id = new_run_id()
    folder = options.output_dir or (target.context / RUNS_DIR / run_id)
    output = _RunFolder(folder)
    container_id: str | None = None
    container_name = f"keynet-run-{run_id}"
    created = False

    def on_callback(callback: Callback) -> None:
        output.line(
            f"[keynet-train] callback {callback.number}: {callback.endpoint} {callback.status}"
        )
        if services.on_callback is not None:
            services.on_callback(callback)

    receiver = Receiver(state, bind_host=bind, allowed_networks=allowed, on_callback=on_callback)
    try:
        try:
            receiver.start()
        except OSError as e:
            raise InputError(
                f"Cannot start the callback receiver on {bind}: {e.strerror or e}",
                "Another program may hold the address; run again.",
            ) from e
        base_url = f"http://{host}:{receiver.port}"
        plan = _plan(options, target, values, job, base_url, limits, network, extra_env)
        env = job_environment(
            job, base_url, target.model_name, _chosen_values(target, values), extra_env
        )
        output.write("podman-run.txt", plan.podman_line() + "\n")
        if limits.gpus.note:
            reporter.notice(Notice(NO_GPU, limits.gpus.note))
        if network == "host":
            reporter.notice(Notice(SHARED_NETWORK, _shared_network_note()))
        reporter.info(_rlimits_note(limits))
        reporter.info(f"Command: {shlex.join(plan.command)}")
        spec = ContainerSpec(
            image=target.image,
            command=tuple(plan.command),
            env=env,
            memory=limits.memory,
            cpus=limits.cpus,
            shm_size=limits.shm_size,
            rlimits=dict(limits.rlimits),
            network=network,
            devices=limits.gpus.devices,
            labels={f"{LABEL_PREFIX}.run-id": run_id},
            name=container_name,
        )
        reporter.step_started("Run container")
        ready = time.monotonic()
        created = True  # from here on, a container of that name may exist
        container_id = engine.create_container(spec)
        receiver.mark_started()
        engine.start_container(container_id)
        start_seconds = time.monotonic() - ready
        exit_code, exceeded, runtime = _supervise(
            engine, container_id, receiver, state, limits, output, services
        )
        reporter.step_finished(
            "Run container",
            f"exit code {exit_code}" if exit_code is not None else "killed",
        )
    finally:
        with shielded():
            if created:
                # By name when a stop signal came before podman answered the create.
                _remove(engine, container_id or container_name)
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
    result = RunResult(
        run_id, folder, plan, exit_code, checks, list(receiver.callbacks), runtime, start_seconds
    )
    output.write(
        "callbacks.jsonl", "".join(json.dumps(c.to_json()) + "\n" for c in result.callbacks)
    )
    output.write("report.json", json.dumps(result.to_json(), indent=2) + "\n")
    return result


def _supervise(
    engine: PodmanClient,
    container_id: str,
    receiver: Receiver,
    state: JobState,
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


def _remove(engine: PodmanClient, container_id: str) -> None:
    """Kill and remove the container; a failure here must not hide the run's own error."""
    # Gone already, or the service is: the removal is still tried, and a
    # service that is gone reports itself at the next podman call.
    with contextlib.suppress(KeynetError):
        engine.signal_container(container_id, "SIGKILL")
    with contextlib.suppress(KeynetError):
        engine.remove_container(container_id)
