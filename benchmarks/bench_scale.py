"""Scale: ``keynet-train push`` vs ``podman build`` + ``podman push`` on big contexts.

Two contexts, each pushed cold (fresh content) by both, alternating:

* ``files``: 20,000 small files (1 KiB each, 200 directories);
* ``big``: 2 GB in 8 files of 256 MB.

Reported per run: wall time, and the peak resident memory of the client
process (``ru_maxrss`` from ``wait4``): keynet-train's Python process, which
scans and streams the context, vs the local ``podman`` process, which builds
in-process. The podman *service* keynet-train talks to is a separate process
and is not counted (its work is what the local podman does in-process).
keynet-train runs from a wheel in a fresh venv, against the same private
podman service, registry and fake backend as bench_push.

    .venv/bin/python benchmarks/bench_scale.py [--cases files,big] [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
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

TRAIN_PY = "import argparse\nargparse.ArgumentParser().parse_args()\n"


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Run ``command``; return (wall seconds, peak RSS in MiB of that process).

    Raises:
        SystemExit: the command failed (a failure must not look fast).
    """
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            out.seek(0)
            raise SystemExit(f"{' '.join(command[:4])} failed:\n{out.read().decode()[-3000:]}")
    return elapsed, usage.ru_maxrss // 1024


def fill_files(context: Path, count: int = 20_000) -> None:
    """``count`` fresh 1 KiB files in 200 directories."""
    shutil.rmtree(context / "data", ignore_errors=True)
    for i in range(count):
        directory = context / "data" / f"d{i % 200:03d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"f{i:05d}.txt").write_bytes(os.urandom(1024))


def fill_big(context: Path, files: int = 8, mib: int = 256) -> None:
    """``files`` fresh files of ``mib`` MiB (2 GiB by default)."""
    shutil.rmtree(context / "data", ignore_errors=True)
    (context / "data").mkdir()
    block = 4 * 1024 * 1024
    for i in range(files):
        with (context / "data" / f"part{i}.bin").open("wb") as handle:
            for _ in range(mib * 1024 * 1024 // block):
                handle.write(os.urandom(block))


def runners(
    stack: LocalStack, context: Path, keynet: list[str]
) -> dict[str, Callable[[], tuple[float, int]]]:
    """keynet-train push, and local podman build + push (time summed, memory max)."""
    counter = iter(range(1_000_000))
    local_env = {k: v for k, v in stack.env.items() if k != "CONTAINER_HOST"}

    def ours() -> tuple[float, int]:
        push = ["push", str(context / "train.py"), "--context", str(context), "--project", "1"]
        return run_measured([*keynet, *push], stack.env)

    def podman() -> tuple[float, int]:
        reference = f"{stack.registry.host}/bench/scale-{next(counter)}:latest"
        build = ["podman", "build", "--platform", "linux/amd64", "-t", reference, str(context)]
        creds = f"{stack.registry.username}:{stack.registry.password}"
        build_s, build_mb = run_measured(build, local_env)
        push_s, push_mb = run_measured(["podman", "push", "--creds", creds, reference], local_env)
        return build_s + push_s, max(build_mb, push_mb)

    return {"keynet-train": ours, "podman CLI": podman}


def main() -> int:
    """Run the cases and print time and peak memory of each side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="files,big", help="files, big or both (default)")
    parser.add_argument("--rounds", type=int, default=1, help="cold rounds per case")
    args = parser.parse_args()
    fills = {"files": fill_files, "big": fill_big}

    install_dir = tempfile.TemporaryDirectory(prefix="keynet-bench-install-")
    keynet = [str(fresh_install(Path(install_dir.name)) / "keynet-train")]
    results: dict[str, dict[str, list[tuple[float, int]]]] = {}
    with install_dir, local_stack("keynet-bench-scale-") as stack:
        stack.env["NO_COLOR"] = "1"
        context = stack.workdir / "ctx"
        context.mkdir()
        (context / "train.py").write_text(TRAIN_PY)
        (context / "Dockerfile").write_text(
            f"FROM {stack.base_image}\nCOPY data /data\nCOPY train.py /app/train.py\n"
        )
        subprocess.run(
            [*keynet, *stack.login_args()],
            env=stack.env,
            input=stack.backend.password,
            text=True,
            capture_output=True,
            check=True,
        )
        run = runners(stack, context, keynet)
        for case in args.cases.split(","):
            results[case] = {name: [] for name in run}
            for i in range(args.rounds):
                order = list(run) if i % 2 == 0 else list(reversed(run))
                for name in order:
                    fills[case](context)  # fresh content: a cold build and upload
                    results[case][name].append(run[name]())
                    seconds, mib = results[case][name][-1]
                    print(f"{case} {name}: {seconds:.1f} s, peak {mib} MiB", flush=True)
            shutil.rmtree(context / "data", ignore_errors=True)

    print()
    print(f"{'case':<6} {'keynet-train':>18} {'podman CLI':>18} {'time ratio':>11}")
    for case, by_name in results.items():
        ours = by_name["keynet-train"]
        theirs = by_name["podman CLI"]
        t_ours = statistics.median(t for t, _ in ours)
        t_theirs = statistics.median(t for t, _ in theirs)
        m_ours = max(m for _, m in ours)
        m_theirs = max(m for _, m in theirs)
        print(
            f"{case:<6} {t_ours:>7.1f} s {m_ours:>5} MiB {t_theirs:>7.1f} s {m_theirs:>5} MiB"
            f" {t_ours / t_theirs:>10.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
