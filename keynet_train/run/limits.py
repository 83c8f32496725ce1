"""The job's limits: memory, CPUs, ``/dev/shm``, GPUs, the deadline, rlimits (docs/run.md).

Defaults are the platform's Job: 16 GiB memory, 4 CPUs, 2 GiB ``/dev/shm``,
one GPU, ``activeDeadlineSeconds: 86400``. ``nofile``/``nproc`` are always
set explicitly: with podman's defaults every container start fails on some
hosts ("error setting rlimit type 7: operation not permitted"), so the
values are capped at what this process may set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from keynet_train.errors import UsageError

GIB = 1024**3
DEFAULT_MEMORY = 16 * GIB
DEFAULT_SHM = 2 * GIB
DEFAULT_CPUS = 4.0
DEFAULT_DEADLINE = 24 * 3600.0
GRACE_SECONDS = 30.0
#: What a container gets when the host allows it (podman's own default nofile is 1048576).
WANTED_NOFILE = 65536
WANTED_NPROC = 32768
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.I)
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": GIB, "t": 1024**4}
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: Where the NVIDIA container toolkit writes the CDI spec podman reads.
CDI_DIRS = (Path("/etc/cdi"), Path("/var/run/cdi"))


def parse_size(text: str, flag: str) -> int:
    """``16g``, ``512m``, ``2GiB``, ``1073741824`` → bytes (powers of 1024, as podman).

    Raises:
        UsageError: not a positive size.
    """
    match = _SIZE_RE.match(text)
    value = int(float(match.group(1)) * _UNITS[match.group(2).lower()]) if match else 0
    if value <= 0:
        raise UsageError(
            f"{flag} {text!r} is not a size.", f"Give a size such as {flag} 16g or {flag} 512m."
        )
    return value


def parse_cpus(text: str) -> float:
    """``4``, ``0.5`` → CPUs.

    Raises:
        UsageError: not a positive number.
    """
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise UsageError(
            f"--cpus {text!r} is not a positive number.", "Give a number such as --cpus 4."
        )
    return value


def parse_duration(text: str) -> float:
    """``24h``, ``90s``, ``1h30m``, ``600`` (seconds) → seconds.

    Raises:
        UsageError: not a positive duration.
    """
    stripped = text.strip().lower()
    try:
        seconds = float(stripped)
    except ValueError:
        parts = _DURATION_RE.findall(stripped)
        seconds = sum(float(n) * _SECONDS[u] for n, u in parts) if parts else 0.0
        if "".join(n + u for n, u in parts) != stripped:
            seconds = 0.0
    if not seconds > 0 or seconds == float("inf"):
        raise UsageError(
            f"--deadline {text!r} is not a duration.",
            "Give e.g. --deadline 24h, 90m, 1h30m or 600 (seconds).",
        )
    return seconds


@dataclass(frozen=True)
class GpuChoice:
    """What ``--gpus`` resolved to: CDI device names to pass, and the note to show."""

    devices: tuple[str, ...]
    note: str | None


def find_gpus(cdi_dirs: tuple[Path, ...] = CDI_DIRS) -> list[str]:
    """The NVIDIA GPUs podman can pass through (CDI names ``nvidia.com/gpu=N``). Raises nothing."""
    names: list[str] = []
    for directory in cdi_dirs:
        try:
            specs = sorted(directory.glob("nvidia*.*"))
        except OSError:
            continue
        for spec in specs:
            try:
                text = spec.read_text(encoding="utf-8", errors="replace")[:1_000_000]
            except OSError:
                continue
            for index in re.findall(r"name:\s*\"?(\d+)\"?", text):
                names.append(f"nvidia.com/gpu={index}")
    return list(dict.fromkeys(names))


CPU_NOTE = (
    "NO GPU: the platform runs this job with one NVIDIA GPU; this rehearsal runs on CPU. "
    "Code that needs CUDA fails here but may work there, and timings say nothing about "
    "the platform."
)


def choose_gpus(text: str, available: list[str]) -> GpuChoice:
    """``auto`` (one GPU when present, else CPU with a note), ``all``, ``none`` or a count.

    Raises:
        UsageError: not one of those, or more GPUs asked for than podman can pass through.
    """
    choice = text.strip().lower()
    if choice == "none":
        return GpuChoice((), CPU_NOTE)
    if choice == "auto":
        return GpuChoice(tuple(available[:1]), None if available else CPU_NOTE)
    if choice == "all":
        count = len(available) or 1
    else:
        try:
            count = int(choice)
        except ValueError:
            raise UsageError(
                f"--gpus {text!r}: expected auto, all, none or a number.",
                "The platform gives one GPU: --gpus 1.",
            ) from None
        if count < 0:
            raise UsageError(
                f"--gpus {text!r}: expected auto, all, none or a number.",
                "The platform gives one GPU: --gpus 1.",
            )
        if count == 0:
            return GpuChoice((), CPU_NOTE)
    if len(available) < count:
        raise UsageError(
            f"--gpus {text}: podman can pass through {len(available)} GPU(s) here.",
            "GPUs are passed through CDI (nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml); "
            "without one use --gpus none (or auto) to run on CPU.",
        )
    return GpuChoice(tuple(available[:count]), None)


@dataclass(frozen=True)
class Limits:
    """Everything that bounds the container."""

    memory: int = DEFAULT_MEMORY
    cpus: float = DEFAULT_CPUS
    shm_size: int = DEFAULT_SHM
    deadline: float = DEFAULT_DEADLINE
    grace: float = GRACE_SECONDS
    gpus: GpuChoice = field(default_factory=lambda: GpuChoice((), CPU_NOTE))
    rlimits: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """The limits in ``report.json`` and ``--json``."""
        return {
            "memory_bytes": self.memory,
            "cpus": self.cpus,
            "shm_bytes": self.shm_size,
            "deadline_seconds": self.deadline,
            "grace_seconds": self.grace,
            "gpus": list(self.gpus.devices),
            "rlimits": dict(self.rlimits),
        }


def host_rlimits() -> dict[str, int]:
    """``nofile``/``nproc`` for the container: the wanted values within this process's hard limits.

    A container's limits cannot exceed what the podman process that starts it
    may set; podman's own defaults (1048576 open files) can, hence the
    "error setting rlimit" start failures. Raises nothing.
    """
    import resource

    result = {}
    for name, which, wanted in (
        ("nofile", resource.RLIMIT_NOFILE, WANTED_NOFILE),
        ("nproc", resource.RLIMIT_NPROC, WANTED_NPROC),
    ):
        try:
            _, hard = resource.getrlimit(which)
        except (OSError, ValueError):
            hard = 1024
        result[name] = wanted if hard == resource.RLIM_INFINITY else max(1, min(wanted, hard))
    return result
