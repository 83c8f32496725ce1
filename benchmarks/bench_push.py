"""``keynet-train push`` vs raw ``podman build`` + ``podman push`` of the same context.

Both run against the same private podman service and the same local TLS
registry in one run, interleaved, so machine noise hits both alike:

* cold - the context holds a fresh 100 MB random file every iteration, so the
  build cannot use its cache and the layer must be uploaded;
* warm - nothing changed since the previous build.

Two baselines: ``podman build`` + ``podman push`` run locally on the same
storage (the context is read in place, the stronger baseline and the one the
targets apply to), and the same two commands as clients of the podman service
keynet-train uses (``podman --url``).

keynet-train registers every push under a new upload key, i.e. a new
repository; the baseline therefore also pushes to a new repository each
iteration (otherwise the raw push would only compare manifests). Reported:
median seconds of each and the median of the per-round ratios
keynet/baseline (targets: cold <= 1.15, warm <= 1.25). keynet-train runs from a wheel
installed into a fresh venv (no editable hook).

    .venv/bin/python benchmarks/bench_push.py [--cold N] [--warm N] [--size-mb M]
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

from fresh_install import fresh_install  # noqa: E402

from tests.support.stack import LocalStack, local_stack  # noqa: E402

TRAIN_PY = """\
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--lr", type=float, default=0.001)
parser.parse_args()
"""


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
    stack: LocalStack, context: Path, keynet_cmd: list[str]
) -> dict[str, Callable[[], float]]:
    """keynet-train push, and podman build + push locally and through the service."""
    registry, env = stack.registry, stack.env
    counter = iter(range(1_000_000))

    def keynet() -> float:
        push = ["push", str(context / "train.py"), "--context", str(context), "--project", "1"]
        return timed([*keynet_cmd, *push], env)

    # Without CONTAINER_HOST, `podman` really runs locally; with it, it would
    # silently act as a remote client of the service.
    local_env = {k: v for k, v in env.items() if k != "CONTAINER_HOST"}

    def raw(podman: list[str]) -> float:
        reference = f"{registry.host}/bench/raw-{next(counter)}:latest"
        build = [*podman, "build", "--platform", "linux/amd64", "-t", reference, str(context)]
        creds = f"{registry.username}:{registry.password}"
        run_env = env if "--url" in podman else local_env
        build_s = timed(build, run_env)
        push_s = timed([*podman, "push", "--creds", creds, reference], run_env)
        print(f"    ({podman[-1]}: build {build_s:.2f}s + push {push_s:.2f}s)", flush=True)
        return build_s + push_s

    return {
        "keynet": keynet,
        # podman's own CLI on the same storage: reads the context in place.
        "podman": lambda: raw(["podman"]),
        # podman's CLI as a client of the same service keynet-train talks to.
        "podman-remote": lambda: raw(["podman", "--url", stack.podman.url]),
    }


def main() -> int:
    """Start services, run the interleaved measurements, print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=int, default=3, help="cold iterations (default 3)")
    parser.add_argument("--warm", type=int, default=5, help="warm iterations (default 5)")
    parser.add_argument("--size-mb", type=int, default=100, help="size of the big file")
    args = parser.parse_args()

    install_dir = tempfile.TemporaryDirectory(prefix="keynet-bench-install-")
    # A wheel in a fresh venv: what a user runs (no editable .pth hook).
    keynet_cmd = [str(fresh_install(Path(install_dir.name)) / "keynet-train")]
    with install_dir, local_stack("keynet-bench-push-") as stack:
        stack.env.pop("PYTHONDONTWRITEBYTECODE", None)
        context = stack.workdir / "ctx"
        context.mkdir()
        (context / "train.py").write_text(TRAIN_PY)
        (context / "Dockerfile").write_text(
            f"FROM {stack.base_image}\nCOPY big.bin /data/big.bin\nCOPY train.py /app/train.py\n"
        )
        timed([*keynet_cmd, *stack.login_args()], stack.env, stdin=stack.backend.password)
        runners = make_runners(stack, context, keynet_cmd)
        names = list(runners)

        def fresh_big_file() -> None:
            with (context / "big.bin").open("wb") as handle:
                for _ in range(args.size_mb):
                    handle.write(os.urandom(1024 * 1024))

        results: dict[str, dict[str, list[float]]] = {
            case: {name: [] for name in names} for case in ("cold", "warm")
        }
        for i in range(args.cold):
            # Rotate the order so no variant always runs first.
            for name in names[i % 3 :] + names[: i % 3]:
                fresh_big_file()
                results["cold"][name].append(runners[name]())
                print(f"cold {name}: {results['cold'][name][-1]:.2f}s", flush=True)
        fresh_big_file()
        for run in runners.values():
            run()  # every cache primed with the same content
        for i in range(args.warm):
            for name in names[i % 3 :] + names[: i % 3]:
                results["warm"][name].append(runners[name]())
                print(f"warm {name}: {results['warm'][name][-1]:.2f}s", flush=True)

    print()
    print("medians of each command, and the median of the per-round ratios (paired,")
    print("so a slow moment of the machine hits both sides of a ratio alike):")
    print(
        f"{'case':<5} {'keynet-train':>12} {'podman':>8} {'paired':>7}"
        f" {'podman --url':>13} {'paired':>7}  target"
    )
    for case, target in (("cold", 1.15), ("warm", 1.25)):
        runs = results[case]
        ours, local, remote = (statistics.median(runs[n]) for n in names)
        vs_local = statistics.median(
            k / b for k, b in zip(runs["keynet"], runs["podman"], strict=True)
        )
        vs_remote = statistics.median(
            k / b for k, b in zip(runs["keynet"], runs["podman-remote"], strict=True)
        )
        verdict = "ok" if vs_local <= target else "OVER"
        print(
            f"{case:<5} {ours:>11.2f}s {local:>7.2f}s {vs_local:>6.2f}x"
            f" {remote:>12.2f}s {vs_remote:>6.2f}x  <= {target} vs podman: {verdict}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
