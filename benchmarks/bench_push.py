"""``keynet-train push`` vs raw ``podman build`` + ``podman push`` of the same context.

All three run against the same private podman service and the same local TLS
registry in one run, interleaved (the order rotates every round), so machine
noise hits them alike:

* keynet-train push (a wheel in a fresh venv: no editable hook);
* ``podman build`` + ``podman push`` run locally on the same storage (the
  context is read in place: the stronger baseline, the one targets apply to);
* the same two commands as clients of the service keynet-train uses
  (``podman --url``: the same REST API).

Cases (``--cases``, comma-separated): ``small`` (train.py + Dockerfile),
``weights`` (a ``--size-mb`` file, 100 MB by default), ``files`` (20,000 ×
1 KiB files), ``big`` (``--big-gib`` GiB in 256 MiB files). Each case runs
``--rounds`` cold rounds (``--no-cache`` on every side) and as many warm ones
(nothing changed). keynet-train registers every push under a new upload key,
i.e. a new repository; the baselines push to a new repository too.

Printed: min/median/max seconds of each side, the median of the per-round
ratios keynet/baseline (paired), and the load average before and after, since
these machines are shared. Targets (issue 20): small cold <= 1.3, warm <= 1.2.
keynet-train's in-process phases: ``bench_scale.py --phases``.
``--compare TREE`` installs a second source tree (e.g. ``git worktree add
/tmp/before <commit>``) into its own fresh venv and runs its push in the same
rounds ("before"), so a change is measured against the code before it under
the same load and on the same service.

    .venv/bin/python benchmarks/bench_push.py [--cases small,weights] [--rounds 5] [--compare TREE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_scale import fill_big, fill_files  # noqa: E402
from fresh_install import fresh_install  # noqa: E402

from tests.support.stack import LocalStack, local_stack  # noqa: E402

TRAIN_PY = """\
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--lr", type=float, default=0.001)
parser.parse_args()
"""


def small_project(stack: LocalStack, name: str) -> Path:
    """``stack.workdir / name`` with train.py and a Dockerfile on the stack's base image."""
    context = stack.workdir / name
    context.mkdir()
    (context / "train.py").write_text(TRAIN_PY)
    (context / "Dockerfile").write_text(f"FROM {stack.base_image}\nCOPY . /app\nWORKDIR /app\n")
    return context


def push_args(context: Path, cold: bool) -> list[str]:
    """``keynet-train push`` arguments for the project in ``context`` (cold: ``--no-cache``)."""
    no_cache = ["--no-cache"] if cold else []
    return [
        "push",
        str(context / "train.py"),
        "--context",
        str(context),
        "--project",
        "1",
        *no_cache,
    ]


def timed(command: list[str], env: dict[str, str], stdin: str | None = None) -> float:
    """Run ``command`` and return its wall time; fail loudly if it fails."""
    start = time.perf_counter()
    done = subprocess.run(
        command, env=env, input=stdin, text=True, capture_output=True, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def make_runners(
    stack: LocalStack,
    context: Path,
    keynet_cmd: list[str],
    cold: bool,
    before_cmd: list[str] | None = None,
) -> dict[str, Callable[[], float]]:
    """keynet-train push, and podman build + push locally and through the service."""
    registry, env = stack.registry, stack.env
    counter = iter(range(1_000_000))
    no_cache = ["--no-cache"] if cold else []

    def keynet_push(command: list[str]) -> float:
        return timed([*command, *push_args(context, cold)], env)

    # Without CONTAINER_HOST, `podman` really runs locally; with it, it would
    # silently act as a remote client of the service.
    local_env = {k: v for k, v in env.items() if k != "CONTAINER_HOST"}

    def raw(podman: list[str]) -> float:
        reference = f"{registry.host}/bench/raw-{next(counter)}:latest"
        build = [
            *podman, "build", *no_cache, "--platform", "linux/amd64", "-t", reference, str(context)
        ]  # fmt: skip
        creds = f"{registry.username}:{registry.password}"
        run_env = env if "--url" in podman else local_env
        build_s = timed(build, run_env)
        push_s = timed([*podman, "push", "--creds", creds, reference], run_env)
        return build_s + push_s

    runners: dict[str, Callable[[], float]] = {
        "keynet": lambda: keynet_push(keynet_cmd),
        # podman's own CLI on the same storage: reads the context in place.
        "podman": lambda: raw(["podman"]),
        # podman's CLI as a client of the same service keynet-train talks to.
        "podman-remote": lambda: raw(["podman", "--url", stack.podman.url]),
    }
    if before_cmd is not None:
        runners["before"] = lambda: keynet_push(before_cmd)
    return runners


def fill(case: str, context: Path, size_mb: int, big_gib: float) -> None:
    """Put the case's files in ``context`` (train.py and the Dockerfile are already there)."""
    if case == "weights":
        with (context / "data.bin").open("wb") as handle:
            for _ in range(size_mb):
                handle.write(os.urandom(1024 * 1024))
    elif case == "files":
        fill_files(context)
    elif case == "big":
        fill_big(context, files=max(1, round(big_gib * 4)), mib=256)


def load() -> str:
    """The 1-minute load average and the number of CPUs, for the record."""
    return f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"


def main() -> int:
    """Start services, run the interleaved measurements, print the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="small,weights", help="small,weights,files,big")
    parser.add_argument("--rounds", type=int, default=5, help="cold and warm rounds (default 5)")
    parser.add_argument("--size-mb", type=int, default=100, help="weights case size (MB)")
    parser.add_argument("--big-gib", type=float, default=1.5, help="big case size (GiB)")
    parser.add_argument(
        "--compare", type=Path, metavar="TREE", help="another source tree, pushed alongside"
    )
    args = parser.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    unknown = set(cases) - {"small", "weights", "files", "big"}
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")

    install_dir = tempfile.TemporaryDirectory(prefix="keynet-bench-install-")
    # A wheel in a fresh venv: what a user runs (no editable .pth hook).
    keynet_cmd = [str(fresh_install(Path(install_dir.name)) / "keynet-train")]
    before_cmd = None
    if args.compare is not None:
        other = fresh_install(Path(install_dir.name) / "compare", args.compare)
        before_cmd = [str(other / "keynet-train")]
    results: dict[tuple[str, str], dict[str, list[float]]] = {}
    loads = [load()]
    with install_dir, local_stack("keynet-bench-push-") as stack:
        stack.env.pop("PYTHONDONTWRITEBYTECODE", None)
        timed([*keynet_cmd, *stack.login_args()], stack.env, stdin=stack.backend.password)
        for case in cases:
            context = small_project(stack, f"ctx-{case}")
            fill(case, context, args.size_mb, args.big_gib)
            for mode in ("cold", "warm"):
                runners = make_runners(stack, context, keynet_cmd, mode == "cold", before_cmd)
                names = list(runners)
                if mode == "warm":
                    for run in runners.values():
                        run()  # every cache primed with the same content
                runs = results[(case, mode)] = {name: [] for name in names}
                for i in range(args.rounds):
                    # Rotate the order so no variant always runs first.
                    for name in names[i % len(names) :] + names[: i % len(names)]:
                        runs[name].append(runners[name]())
                    print(
                        f"{case} {mode} round {i + 1}: "
                        + ", ".join(f"{n} {runs[n][-1]:.2f}s" for n in names),
                        flush=True,
                    )
            loads.append(load())

    print()
    print("seconds (min / median / max), and the median of the per-round ratios keynet/baseline")
    print(f"{'case':<14} {'keynet-train':>18} {'podman':>18} {'ratio':>6} {'podman --url':>18}"
          f" {'ratio':>6}")  # fmt: skip
    for (case, mode), runs in results.items():
        cells = []
        for name in ("keynet", "podman", "podman-remote"):
            values = runs[name]
            cells.append(
                f"{min(values):.2f}/{statistics.median(values):.2f}/{max(values):.2f}".rjust(18)
            )
        vs_local = statistics.median(
            k / b for k, b in zip(runs["keynet"], runs["podman"], strict=True)
        )
        vs_remote = statistics.median(
            k / b for k, b in zip(runs["keynet"], runs["podman-remote"], strict=True)
        )
        print(f"{case + ' ' + mode:<14} {cells[0]} {cells[1]} {vs_local:>5.2f}x {cells[2]}"
              f" {vs_remote:>5.2f}x")  # fmt: skip
        if "before" in runs:
            before = runs["before"]
            vs_before = statistics.median(
                k / b for k, b in zip(runs["keynet"], before, strict=True)
            )
            spread = f"{min(before):.2f}/{statistics.median(before):.2f}/{max(before):.2f}"
            print(f"{'':<14} --compare tree {spread}; this tree / it: {vs_before:.2f}x")
    print("machine:", "; ".join(loads))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
