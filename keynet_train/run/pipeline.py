"""``keynet-train run``: build as push does, run the container as the platform would, judge it.

Order: the flags (limits, ``--env``, ``--gpus``) are checked first; then the
script is extracted and ``--set`` is checked against its descriptor (or the
``--image``'s label is read); only then is anything built or started. The
image gets the same check as in ``push``. The container runs with the
platform's command, environment and limits, its log and every callback are
reported live, and the verdict is computed from what the receiver recorded
(docs/run.md).

This module checks the flags and puts the steps in order; they live by
concern: :mod:`~keynet_train.run.target` (what runs),
:mod:`~keynet_train.run.plan` (command, environment, limits, network),
:mod:`~keynet_train.run.container` (running it, leaving nothing behind, the
run folder) and :mod:`~keynet_train.run.verdict` (the checks and the result).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from keynet_train.errors import UsageError
from keynet_train.progress import NullReporter, Reporter
from keynet_train.push.settings import BuildOptions
from keynet_train.run.callbacks import Callback
from keynet_train.run.container import run_container
from keynet_train.run.environment import new_job, parse_env
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
from keynet_train.run.plan import RunPlan, container_environment, make_plan, set_values
from keynet_train.run.target import Target, build_target, image_target, prepare_push

if TYPE_CHECKING:
    from keynet_train.build.cache import BuildCache
    from keynet_train.podman.client import PodmanClient
    from keynet_train.run.verdict import RunResult


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
            prepared = prepare_push(options, environ, cwd, reporter)
            target = Target(
                None,
                prepared.extraction,
                options.model_name or prepared.entry_in_context,
                prepared.settings.context,
            )
        else:
            # Reading the image's labels starts nothing; the image check needs no run either
            # but is push's and run's, not the plan's.
            with services.open_engine(options.podman_url) as engine:
                target = image_target(options, engine, cwd, NullReporter(), check=False)
        values = set_values(options, target)
        job = new_job(int(time.time()))
        env = container_environment(job, "http://<receiver>:<port>", target, values, extra_env)
        return make_plan(options, target, values, env, limits, None)
    with services.open_engine(options.podman_url) as engine:
        target = build_target(options, environ, cwd, engine, services, reporter)
        values = set_values(options, target)
        facts = engine.host_facts()
        return run_container(
            options, target, values, limits, extra_env, engine, facts, services, reporter
        )


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
