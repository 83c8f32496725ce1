"""The plan of a run: the command, the job's environment, the limits and the network.

``--dry-run`` prints it; a run writes it to ``podman-run.txt`` and
``report.json`` and starts the container from it (docs/run.md).
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from keynet_train.errors import BuildError, InputError, UsageError
from keynet_train.run.environment import JobIdentity, job_environment, masked_environment
from keynet_train.run.limits import Limits

if TYPE_CHECKING:
    from keynet_train.podman.client import PodmanClient
    from keynet_train.podman.containers import HostFacts
    from keynet_train.run.pipeline import RunOptions
    from keynet_train.run.target import Target

#: The container's address for the host's loopback under slirp4netns (allow_host_loopback).
SLIRP_HOST = "10.0.2.2"
TUN_DEVICE = "/dev/net/tun"


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


def set_values(options: RunOptions, target: Target) -> dict[str, object]:
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
    options: RunOptions, target: Target, values: dict[str, object]
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


def container_environment(
    job: JobIdentity,
    base_url: str,
    target: Target,
    values: dict[str, object],
    extra_env: dict[str, str],
) -> dict[str, str]:
    """Every variable the container gets (unmasked): the job's, the hyperparameters', ``--env``."""
    chosen: dict[str, object] = {}
    if target.extraction is not None:
        chosen = {a.name: a.default for a in target.extraction.arguments}
    # The defaults, then --set.
    chosen.update(values)
    return job_environment(job, base_url, target.model_name, chosen, extra_env)


def make_plan(
    options: RunOptions,
    target: Target,
    values: dict[str, object],
    env: dict[str, str],
    limits: Limits,
    network: str | None,
) -> RunPlan:
    """The plan of running ``target`` with ``env`` (:func:`container_environment`).

    Raises:
        UsageError: ``--command-line`` is empty or not shell-quoted.
        InputError: no command is given and none can be predicted.
    """
    argv, source = _command(options, target, values)
    notes = [limits.gpus.note] if limits.gpus.note else []
    if network == "host":
        notes.append(shared_network_note())
    notes.append(rlimits_note(limits))
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


def shared_network_note() -> str:
    """Said when the container shares this user's network (:func:`choose_network`)."""
    return (
        f"{TUN_DEVICE} is not usable by this user, so slirp4netns cannot give the container "
        "its own network: it shares this user's network (a pod on the platform has its own)."
    )


def rlimits_note(limits: Limits) -> str:
    """Why nofile and nproc are set."""
    return (
        f"Limits nofile={limits.rlimits.get('nofile')}, nproc={limits.rlimits.get('nproc')} "
        "are set explicitly (podman's defaults fail to start containers on some hosts)."
    )


def choose_network(engine: PodmanClient, facts: HostFacts) -> tuple[str, str, str, list[str]]:
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
